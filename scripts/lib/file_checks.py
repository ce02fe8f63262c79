"""File checks of the pre-commit hooks, offline and check-only.

Usage: file_checks.py {yaml,json,text} FILE...

- yaml: every file parses (CloudFormation's short tags such as ``!Ref``
  are accepted as plain values; their meaning is cfn-lint's job);
- json: every file parses;
- text: no trailing whitespace, and a non-empty file ends with a newline.

Exits 1 naming each problem as ``file:line: problem``. It never rewrites a
file: a hook that fixes files silently hides what it changed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable

import yaml


class _AnyTagLoader(yaml.SafeLoader):
    """SafeLoader that reads unknown tags (``!Ref``, ``!Sub``...) as the
    node's plain value."""


def _untagged(loader: yaml.SafeLoader, suffix: str, node: Any) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)


_AnyTagLoader.add_multi_constructor("!", _untagged)


def check_yaml(path: Path) -> list[str]:
    """A YAML syntax error, if any (every document of the file)."""
    try:
        for _ in yaml.load_all(
            path.read_text(encoding="utf-8"), Loader=_AnyTagLoader
        ):
            pass
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        return [f"{path}: invalid YAML: {error}"]
    return []


def check_json(path: Path) -> list[str]:
    """A JSON syntax error, if any."""
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        return [f"{path}: invalid JSON: {error}"]
    return []


def check_text(path: Path) -> list[str]:
    """Trailing whitespace and a missing final newline (text files)."""
    data = path.read_bytes()
    if b"\0" in data:
        return []  # binary
    problems = [
        f"{path}:{number}: trailing whitespace"
        for number, line in enumerate(data.split(b"\n"), start=1)
        if line.rstrip(b"\r") != line.rstrip()
    ]
    if data and not data.endswith(b"\n"):
        problems.append(f"{path}: no newline at the end of the file")
    return problems


CHECKS: dict[str, Callable[[Path], list[str]]] = {
    "yaml": check_yaml,
    "json": check_json,
    "text": check_text,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in CHECKS:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    check = CHECKS[argv[0]]
    problems = [p for name in argv[1:] for p in check(Path(name))]
    for problem in problems:
        sys.stdout.write(problem + "\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
