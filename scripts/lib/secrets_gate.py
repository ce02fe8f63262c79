"""detect-secrets against the committed baseline, as a read-only gate.

Usage: secrets_gate.py [--baseline FILE] [PATH ...]

Scans PATHs (default: every file of the project: tracked and untracked
but not ignored in a git checkout, else the tree without .git, .venv*,
build, node_modules and caches) with the plugins and filters recorded in
the baseline, and exits 1 naming each finding the baseline does not hold.

Why not ``detect-secrets-hook``: it rewrites the baseline when line
numbers moved (exit 3, a dirty tree after a gate) and fails outside a git
checkout (it asks ``git diff`` whether the baseline is staged).
Findings match the baseline by file, type and secret hash, so edits that
only move a known line do not fail the gate.
"""

from __future__ import annotations

import argparse
import os

# subprocess: only git ls-files, fixed arguments.
import subprocess  # nosec B404
import sys
from pathlib import Path

from detect_secrets.core import baseline
from detect_secrets.core.secrets_collection import SecretsCollection

SKIPPED_DIRS = {".git", "build", "node_modules", "__pycache__"}


def _skipped(name: str) -> bool:
    return (
        name in SKIPPED_DIRS
        or name.startswith(".venv")
        or name.endswith("_cache")
    )


def project_files(root: Path) -> list[str]:
    """The files a scan covers, relative to ``root``."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "-co", "--exclude-standard"],
            cwd=root,
            capture_output=True,
            check=True,
        ).stdout.decode()
        return [f for f in listed.split("\0") if (root / f).is_file()]
    except (OSError, subprocess.CalledProcessError):
        pass  # not a git checkout: walk the tree
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not _skipped(d))
        rel = Path(folder).relative_to(root)
        found += [str(rel / name) for name in sorted(files)]
    return found


def new_secrets(baseline_file: str, paths: list[str]) -> SecretsCollection:
    """Findings in ``paths`` that the baseline does not hold."""
    known = baseline.load(
        baseline.load_from_file(baseline_file), filename=baseline_file
    )
    found = SecretsCollection()
    if paths:
        found.scan_files(*paths)  # one process per core
    return found - known


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", default=".secrets.baseline")
    parser.add_argument("paths", nargs="*")
    args = parser.parse_args(argv)
    if not Path(args.baseline).is_file():
        sys.stderr.write(f"detect-secrets: no baseline {args.baseline}\n")
        return 2
    paths = args.paths or project_files(Path.cwd())
    paths = [p for p in paths if Path(p) != Path(args.baseline)]
    fresh = new_secrets(args.baseline, paths)
    if not fresh:
        sys.stdout.write(
            f"detect-secrets: {len(paths)} files, no new secret\n"
        )
        return 0
    for _, secret in sorted(
        fresh, key=lambda item: (item[0], item[1].line_number or 0)
    ):
        sys.stdout.write(
            f"{secret.filename}:{secret.line_number}: {secret.type}\n"
        )
    sys.stdout.write(
        "detect-secrets: potential secrets not in the baseline. Remove a "
        "real one; for a false positive, add a `# pragma: allowlist "
        "secret` comment on its line, or re-run `detect-secrets scan "
        "--baseline .secrets.baseline` and audit the baseline.\n"
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
