"""What every generator reads: the repository's paths, the CloudFormation
templates, and Markdown table helpers."""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parents[2]
CFN = ROOT / "cfn"
DOCS = ROOT / "docs"
LAMBDA = ROOT / "lambda"
MEASUREMENT = DOCS / "measurements" / "generic-vs-legacy.json"
COMMAND = ".venv/bin/python scripts/gen_docs.py"
for _path in (ROOT, LAMBDA):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

# Set by the Lambda runtime itself, never by a template.
RUNTIME_VARIABLES = {"AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME"}


# -- templates ---------------------------------------------------------
@lru_cache(maxsize=None)
def template(name: str) -> Dict[str, Any]:
    """A template of ``cfn/`` parsed with cfn-lint's decoder (the short
    intrinsic forms become ``{"Ref": ...}``, ``{"Fn::Sub": ...}``)."""
    from cfnlint.decode import decode

    parsed, matches = decode(str(CFN / name))
    if parsed is None:
        raise SystemExit(f"cannot parse cfn/{name}: {matches}")
    return json.loads(json.dumps(parsed))


def templates() -> List[str]:
    """The CloudFormation templates of ``cfn/`` (sorted)."""
    return sorted(p.name for p in CFN.glob("*.yaml"))


def resources(name: str, type_: str) -> Dict[str, Dict[str, Any]]:
    """Resources of one type in a template, by logical id."""
    found = template(name).get("Resources", {})
    return {k: v for k, v in found.items() if v.get("Type") == type_}


def show(value: Any) -> str:
    """A template value in the YAML short form (``!Ref X``)."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return f"!Ref {arg}"
        if key == "Fn::Sub":
            return f"!Sub {arg if isinstance(arg, str) else arg[0]}"
        if key == "Fn::GetAtt":
            return "!GetAtt " + (
                ".".join(arg) if isinstance(arg, list) else arg
            )
        if key == "Fn::If":
            return f"!If [{arg[0]}, {show(arg[1])}, {show(arg[2])}]"
        return f"!{key.replace('Fn::', '')} {json.dumps(arg)}"
    if isinstance(value, list):
        return ", ".join(show(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def cell(text: Any) -> str:
    """A Markdown table cell: code-formatted, pipes escaped."""
    raw = str(text)
    if raw == "":
        return "(empty)"
    return "`" + raw.replace("|", "\\|") + "`"


def as_list(value: Any) -> List[Any]:
    """A scalar or list as a list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def table(header: List[str], rows: List[List[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "---|" * len(header))
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
