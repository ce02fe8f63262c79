"""Strict reader of the CloudFormation templates in ``cfn/``.

moto's CloudFormation cannot do nested stacks or DefinitionSubstitutions, so
the local cloud reads the templates itself and creates resources through the
APIs. Anything it cannot resolve is an error naming the resource: the local
cloud never silently skips part of a template.
"""

from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

from cfnlint.decode import decode

REPO_ROOT = Path(__file__).resolve().parents[2]
CFN_DIR = REPO_ROOT / "cfn"


class TemplateError(Exception):
    """A template (or a resource in it) the local cloud cannot read."""


class _NoValue:
    """``Ref: AWS::NoValue``: the property is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


def pseudo_parameters(
    region: str = "us-east-1",
    account_id: str = "123456789012",
    stack_name: str = "local",
) -> Dict[str, Any]:
    """The pseudo parameters (``AWS::Region``...) of a local stack."""
    return {
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::Partition": "aws",
        "AWS::StackName": stack_name,
        "AWS::StackId": (
            f"arn:aws:cloudformation:{region}:{account_id}:stack/"
            f"{stack_name}/local"
        ),
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::NoValue": NO_VALUE,
    }


def load_template(path: Path) -> Dict[str, Any]:
    """Parse a YAML/JSON template (short intrinsic tags understood)."""
    template, matches = decode(str(path))
    if template is None or matches:
        details = "; ".join(str(m) for m in matches or [])
        raise TemplateError(f"cannot parse {path}: {details}")
    return dict(template)


def default_parameters(template: Dict[str, Any]) -> Dict[str, Any]:
    """The template's parameter defaults."""
    return {
        name: spec["Default"]
        for name, spec in (template.get("Parameters") or {}).items()
        if "Default" in spec
    }


class Resolver:
    """Evaluates intrinsic functions against parameters and pseudo params.

    ``get_att(logical_id, attribute)`` and ``ref(logical_id)`` callbacks give
    the local values of resources (e.g. a function's local ARN).
    """

    def __init__(
        self,
        parameters: Dict[str, Any],
        conditions: Optional[Dict[str, Any]] = None,
        ref: Optional[Callable[[str], Any]] = None,
        get_att: Optional[Callable[[str, str], Any]] = None,
        where: str = "template",
        mappings: Optional[Dict[str, Any]] = None,
    ) -> None:
        self.parameters = parameters
        self.mappings = mappings or {}
        self.raw_conditions = conditions or {}
        self._conditions: Dict[str, bool] = {}
        self._ref = ref
        self._get_att = get_att
        self.where = where

    def fail(self, message: str) -> TemplateError:
        return TemplateError(f"{self.where}: {message}")

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            if name not in self.raw_conditions:
                raise self.fail(f"unknown condition {name}")
            self._conditions[name] = bool(
                self.resolve(self.raw_conditions[name])
            )
        return self._conditions[name]

    def ref(self, name: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        if self._ref is not None:
            value = self._ref(name)
            if value is not None:
                return value
        raise self.fail(f"cannot resolve Ref {name}")

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic function inside ``value``."""
        if isinstance(value, list):
            items = (self.resolve(v) for v in value)
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            key, arg = next(iter(value.items()))
            handler = _INTRINSICS.get(key)
            if handler is not None:
                return handler(self, arg)
            if key.startswith("Fn::"):
                raise self.fail(f"unsupported intrinsic {key}")
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}


def _sub(resolver: Resolver, arg: Any) -> str:
    if isinstance(arg, list):
        text, extra = arg[0], resolver.resolve(arg[1])
    else:
        text, extra = arg, {}
    out: List[str] = []
    i = 0
    while i < len(text):
        start = text.find("${", i)
        if start < 0:
            out.append(text[i:])
            break
        out.append(text[i:start])
        end = text.find("}", start)
        if end < 0:
            raise resolver.fail(f"unterminated ${{ in Sub {text!r}")
        name = text[start + 2 : end]
        if name.startswith("!"):
            out.append("${" + name[1:] + "}")
        elif name in extra:
            out.append(str(extra[name]))
        elif "." in name:
            logical, attribute = name.split(".", 1)
            out.append(str(_get_att(resolver, [logical, attribute])))
        else:
            out.append(str(resolver.ref(name)))
        i = end + 1
    return "".join(out)


def _get_att(resolver: Resolver, arg: Any) -> Any:
    if isinstance(arg, str):
        arg = arg.split(".", 1)
    logical, attribute = arg[0], resolver.resolve(arg[1])
    if resolver._get_att is not None:
        value = resolver._get_att(logical, attribute)
        if value is not None:
            return value
    raise resolver.fail(f"cannot resolve GetAtt {logical}.{attribute}")


def _if(resolver: Resolver, arg: Any) -> Any:
    name, when_true, when_false = arg
    chosen = when_true if resolver.condition(name) else when_false
    return resolver.resolve(chosen)


def _join(resolver: Resolver, arg: Any) -> str:
    sep, items = arg
    return str(sep).join(str(v) for v in resolver.resolve(items))


def _select(resolver: Resolver, arg: Any) -> Any:
    index, items = resolver.resolve(arg)
    return items[int(index)]


def _find_in_map(resolver: Resolver, arg: Any) -> Any:
    name, first, second = resolver.resolve(arg)
    try:
        return resolver.mappings[name][first][second]
    except KeyError:
        raise resolver.fail(
            f"FindInMap {name}.{first}.{second} is not in Mappings"
        ) from None


def _split(resolver: Resolver, arg: Any) -> List[str]:
    sep, text = arg
    return str(resolver.resolve(text)).split(sep)


_INTRINSICS: Dict[str, Callable[[Resolver, Any], Any]] = {
    "Fn::FindInMap": _find_in_map,
    "Fn::Split": _split,
    "Ref": lambda r, a: r.ref(a),
    "Fn::Sub": _sub,
    "Fn::GetAtt": _get_att,
    "Fn::If": _if,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Equals": lambda r, a: r.resolve(a[0]) == r.resolve(a[1]),
    "Fn::Not": lambda r, a: not r.resolve(a[0]),
    "Fn::And": lambda r, a: all(r.resolve(v) for v in a),
    "Fn::Or": lambda r, a: any(r.resolve(v) for v in a),
    "Condition": lambda r, a: r.condition(a),
}

_TABLE_KEYS = (
    "TableName",
    "KeySchema",
    "AttributeDefinitions",
    "GlobalSecondaryIndexes",
    "BillingMode",
)


def table_specs(
    cfn_dir: Path = CFN_DIR, parameters: Optional[Dict[str, Any]] = None
) -> Dict[str, Dict[str, Any]]:
    """``create_table`` arguments of every table in ``database-stack.yaml``.

    Keyed by logical id. Raises TemplateError when the template is missing
    or a table cannot be resolved.
    """
    path = cfn_dir / "database-stack.yaml"
    if not path.exists():
        raise TemplateError(f"{path} does not exist")
    template = load_template(path)
    params = default_parameters(template)
    params.update(parameters or {})
    params.setdefault("AWS::Region", "us-east-1")
    params.setdefault("AWS::AccountId", "123456789012")
    params.setdefault("AWS::Partition", "aws")
    params.setdefault("AWS::StackName", "local")
    specs: Dict[str, Dict[str, Any]] = {}
    for logical, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") != "AWS::DynamoDB::Table":
            continue
        resolver = Resolver(
            params,
            template.get("Conditions"),
            where=f"{path.name}:{logical}",
        )
        props = resolver.resolve(resource.get("Properties") or {})
        spec = {k: props[k] for k in _TABLE_KEYS if k in props}
        if "TableName" not in spec or "KeySchema" not in spec:
            raise TemplateError(
                f"{path.name}:{logical} needs TableName and KeySchema"
            )
        specs[logical] = spec
    if not specs:
        raise TemplateError(f"{path.name} declares no DynamoDB table")
    return specs
