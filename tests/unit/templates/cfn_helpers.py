"""Helpers for the template tests: parse templates, collect IAM statements."""

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterator, List

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[3]
CFN = ROOT / "cfn"
ASL_PATH = CFN / "statemachine" / "orchestration.asl.json"


@lru_cache(maxsize=None)
def load(name: str) -> Dict[str, Any]:
    """A template of ``cfn/`` parsed with cfn-lint's decoder."""
    template, matches = decode(str(CFN / name))
    assert template is not None and not matches, matches
    return json.loads(json.dumps(template))


def resources(name: str, type_: str) -> Dict[str, Dict[str, Any]]:
    """Resources of one type in a template, by logical id."""
    return {
        logical: res
        for logical, res in load(name)["Resources"].items()
        if res["Type"] == type_
    }


def code_folder(props: Dict[str, Any]) -> str:
    """The function folder a function's ``Code`` names.

    ``Code`` must be the local path, relative to ``cfn/``, of the zip
    ``package_lambda.py`` builds: ``../build/lambda/<folder>.zip``.
    """
    code = props["Code"]
    assert isinstance(code, str), f"Code is not a local zip path: {code!r}"
    path = Path(code)
    assert path.suffix == ".zip" and not path.is_absolute(), code
    expected = ROOT / "build" / "lambda" / path.name
    assert (
        CFN / path
    ).resolve() == expected, (
        f"{code} is not build/lambda/<folder>.zip relative to cfn/"
    )
    return path.stem


def as_list(value: Any) -> List[Any]:
    """A scalar or list as a list."""
    return value if isinstance(value, list) else [value]


def role_statements(name: str, role: str) -> List[Dict[str, Any]]:
    """Statements of a role: inline policies and local managed policies."""
    template = load(name)["Resources"]
    props = template[role]["Properties"]
    docs = [p["PolicyDocument"] for p in props.get("Policies", [])]
    for arn in props.get("ManagedPolicyArns", []):
        if isinstance(arn, dict) and "Ref" in arn:
            docs.append(template[arn["Ref"]]["Properties"]["PolicyDocument"])
    return [s for doc in docs for s in as_list(doc["Statement"])]


def allows(statements: List[Dict[str, Any]], action: str, fragment: str):
    """Whether an Allow statement grants ``action`` on a resource whose
    text contains ``fragment``."""
    for statement in statements:
        if statement["Effect"] != "Allow":
            continue
        if action not in as_list(statement["Action"]):
            continue
        for resource in as_list(statement["Resource"]):
            if fragment in json.dumps(resource):
                return True
    return False


def all_statements() -> Iterator[tuple]:
    """(template, resource, statement) of every policy in ``cfn/``."""
    for path in sorted(CFN.glob("*.yaml")):
        for logical, res in load(path.name)["Resources"].items():
            yield from ((path.name, logical, s) for s in _statements_of(res))


def _statements_of(resource: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
    props = resource.get("Properties", {})
    docs = [props.get("PolicyDocument"), props.get("AssumeRolePolicyDocument")]
    if resource["Type"].startswith("AWS::IAM::"):
        docs += [p["PolicyDocument"] for p in props.get("Policies", [])]
    if resource["Type"] == "AWS::KMS::Key":
        docs.append(props.get("KeyPolicy"))
    for doc in docs:
        if doc:
            yield from as_list(doc["Statement"])


def asl() -> Dict[str, Any]:
    """The state machine definition."""
    return json.loads(ASL_PATH.read_text())
