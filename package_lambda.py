"""Build reproducible Lambda zips: ``build/lambda/<folder>.zip``.

Each zip holds the function's ``index.py`` and its other ``*.py`` modules at
the root and ``lambda/shared/`` as the package ``shared/``. The legacy
``orchestration-stepfunctions`` also bundles the non-index modules of the
handlers whose DRS code it runs in-process. Same input, same bytes: entries
are sorted, timestamps and permissions fixed, caches never included.

Usage: ``python package_lambda.py [--function NAME] [--output-dir DIR]
[--lambda-dir DIR]``
"""

import argparse
import os
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Tuple

ROOT = Path(__file__).resolve().parent
LAMBDA_DIR = ROOT / "lambda"
DEFAULT_OUTPUT = ROOT / "build" / "lambda"
SHARED = "shared"
# 1980-01-01 is the earliest time a zip entry can carry.
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644 << 16


class Function(NamedTuple):
    """One deployable function folder and the folders it borrows from."""

    folder: str
    extra_module_folders: Tuple[str, ...] = ()


# The one list of packaged functions (CONTRACTS section 1).
FUNCTIONS: Dict[str, Function] = {
    f.folder: f
    for f in (
        Function("data-management-handler"),
        Function("execution-handler"),
        Function("query-handler"),
        Function("dr-orchestration-stepfunction"),
        # Legacy rollback target: runs the handlers' DRS code in-process.
        Function(
            "orchestration-stepfunctions",
            ("execution-handler", "query-handler"),
        ),
        Function("notification-formatter"),
    )
}


class PackagingError(Exception):
    """A function folder cannot be packaged."""


def _modules(folder: Path, include_index: bool) -> List[Path]:
    return [
        p
        for p in sorted(folder.glob("*.py"))
        if include_index or p.name != "index.py"
    ]


def _shared_files(shared_dir: Path) -> List[Tuple[str, Path]]:
    entries = []
    for path in sorted(shared_dir.rglob("*")):
        rel = path.relative_to(shared_dir)
        if path.is_dir() or "__pycache__" in rel.parts:
            continue
        if path.suffix in (".pyc", ".pyo"):
            continue
        entries.append((f"{SHARED}/{rel.as_posix()}", path))
    return entries


def zip_entries(
    folder: str, lambda_dir: Path = LAMBDA_DIR
) -> List[Tuple[str, Path]]:
    """Archive name -> source file of every entry of ``folder``'s zip."""
    spec = FUNCTIONS.get(folder, Function(folder))
    source = lambda_dir / folder
    if not source.is_dir():
        raise PackagingError(f"missing function folder: {source}")
    if not (source / "index.py").is_file():
        raise PackagingError(f"missing handler: {source / 'index.py'}")
    entries: Dict[str, Path] = {
        p.name: p for p in _modules(source, include_index=True)
    }
    for extra in spec.extra_module_folders:
        extra_dir = lambda_dir / extra
        if not extra_dir.is_dir():
            raise PackagingError(
                f"{folder} bundles modules of missing folder {extra_dir}"
            )
        for path in _modules(extra_dir, include_index=False):
            if path.name in entries:
                raise PackagingError(
                    f"{folder}: module {path.name} exists in two folders"
                )
            entries[path.name] = path
    shared_dir = lambda_dir / SHARED
    if not shared_dir.is_dir():
        raise PackagingError(f"missing shared package: {shared_dir}")
    entries.update(dict(_shared_files(shared_dir)))
    return sorted(entries.items())


def build_zip(
    folder: str,
    output_dir: Path = DEFAULT_OUTPUT,
    lambda_dir: Path = LAMBDA_DIR,
) -> Path:
    """Build ``<output_dir>/<folder>.zip`` reproducibly; return its path."""
    entries = zip_entries(folder, lambda_dir)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    target = output_dir / f"{folder}.zip"
    # Written beside the target and renamed into place, so a concurrent
    # builder (parallel test workers, a drill beside the suite) never
    # reads a half-written zip.
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{folder}.", suffix=".zip", dir=output_dir
    )
    tmp = Path(tmp_name)
    try:
        with (
            os.fdopen(fd, "wb") as raw,
            zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive,
        ):
            for name, path in entries:
                info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
                info.external_attr = FILE_MODE
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3  # unix: the mode bits are honoured
                archive.writestr(info, path.read_bytes(), compresslevel=9)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def main(argv: Optional[List[str]] = None) -> int:
    """Command line entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--function",
        choices=sorted(FUNCTIONS),
        help="build only this function folder",
    )
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--lambda-dir", type=Path, default=LAMBDA_DIR)
    args = parser.parse_args(argv)
    folders = [args.function] if args.function else list(FUNCTIONS)
    try:
        for folder in folders:
            target = build_zip(folder, args.output_dir, args.lambda_dir)
            size = target.stat().st_size
            print(f"built {target} ({size} bytes)")
    except PackagingError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
