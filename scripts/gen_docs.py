#!/usr/bin/env python3
"""Regenerate the generated blocks of ``docs/*.md`` from the templates and
the code, so the documents cannot drift from what is deployed.

    .venv/bin/python scripts/gen_docs.py          # rewrite the blocks
    .venv/bin/python scripts/gen_docs.py --check  # exit 1 if one is stale

A generated block sits between ``<!-- generated:NAME -->`` and
``<!-- /generated -->``; everything outside the markers is written by
hand and left alone. ``tests/unit/test_docs_generated.py`` fails when a
committed block differs from a fresh generation.

Sources: ``cfn/*.yaml`` (parameters, environment variables, IAM roles,
tables, event rules, Cognito groups, resource policies),
``cfn/statemachine/*.asl.json`` (the state machine diagram),
``lambda/shared`` (statuses, config, RBAC), each function's code as its
zip bundles it (``tests/unit/templates/code_reach.py``: the environment
variables its handler can reach), the header of ``scripts/deploy.sh``,
the parity tests under ``tests/`` and the committed bench measurement
``docs/measurements/generic-vs-legacy.json``.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]
CFN = ROOT / "cfn"
DOCS = ROOT / "docs"
LAMBDA = ROOT / "lambda"
MEASUREMENT = DOCS / "measurements" / "generic-vs-legacy.json"
COMMAND = ".venv/bin/python scripts/gen_docs.py"
BLOCK = re.compile(
    r"(?P<open><!-- generated:(?P<name>[a-z0-9-]+) -->\n)"
    r"(?P<body>.*?)"
    r"(?P<close><!-- /generated -->)",
    re.S,
)
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


# -- parameters --------------------------------------------------------
def parameters_table(name: str) -> str:
    """Every parameter of a template with type, default and constraints."""
    rows = []
    for key, spec in template(name).get("Parameters", {}).items():
        constraints = []
        if "AllowedValues" in spec:
            allowed = ", ".join(str(v) for v in spec["AllowedValues"])
            constraints.append(f"one of {allowed}")
        if "AllowedPattern" in spec:
            constraints.append(f"pattern {spec['AllowedPattern']}")
        for bound in ("MinValue", "MaxValue", "MinLength", "MaxLength"):
            if bound in spec:
                constraints.append(f"{bound} {spec[bound]}")
        if spec.get("NoEcho"):
            constraints.append("NoEcho")
        default = (
            cell(spec["Default"]) if "Default" in spec else "**required**"
        )
        description = " ".join(str(spec.get("Description", "")).split())
        rows.append(
            [
                f"`{key}`",
                spec.get("Type", ""),
                default,
                "; ".join(f"`{c}`" for c in constraints),
                description.replace("|", "\\|"),
            ]
        )
    return table(
        ["parameter", "type", "default", "constraints", "description"], rows
    )


def block_master_parameters() -> str:
    """``cfn/master-template.yaml`` parameters."""
    return (
        "Parameters of `cfn/master-template.yaml` (pass them with "
        "`--parameter-overrides Name=value`):\n\n"
        + parameters_table("master-template.yaml")
    )


def block_master_outputs() -> str:
    """``cfn/master-template.yaml`` outputs."""
    rows = [
        [f"`{key}`", cell(show(spec.get("Value", "")))]
        for key, spec in template("master-template.yaml")
        .get("Outputs", {})
        .items()
    ]
    return table(["output", "value"], rows)


def block_spoke_parameters() -> str:
    """``cfn/cross-account-role.yaml`` parameters."""
    return (
        "Parameters of `cfn/cross-account-role.yaml`:\n\n"
        + parameters_table("cross-account-role.yaml")
    )


def block_deploy_stages() -> str:
    """The header comment of ``scripts/deploy.sh`` (its stages)."""
    lines = (ROOT / "scripts" / "deploy.sh").read_text().splitlines()
    header = []
    for line in lines[1:]:
        if not line.startswith("#"):
            break
        header.append(line[2:] if line.startswith("# ") else line[1:])
    return (
        "From the header of `scripts/deploy.sh`:\n\n```text\n"
        + "\n".join(header)
        + "\n```"
    )


# -- functions, environment, IAM --------------------------------------
TEMPLATE_OF: Dict[str, str] = {}  # function folder -> its template


def functions() -> Dict[str, Tuple[str, Dict[str, Any]]]:
    """Lambda function folder -> (logical id, properties), all stacks."""
    found = {}
    for name in templates():
        for logical, res in resources(name, "AWS::Lambda::Function").items():
            props = res["Properties"]
            code = props.get("Code")
            folder = Path(code).stem if isinstance(code, str) else logical
            found[folder] = (logical, props)
            TEMPLATE_OF[folder] = name
    return dict(sorted(found.items()))


def function_name(props: Dict[str, Any]) -> str:
    """The function's name as the template writes it."""
    return show(props.get("FunctionName", "")).replace("!Sub ", "")


@lru_cache(maxsize=None)
def code_reads(folder: str) -> Dict[str, str]:
    """Variables the function's reachable code reads -> how."""
    from shared.config import ENV_VARS
    from tests.unit.templates.code_reach import bundle

    if not (LAMBDA / folder).is_dir():
        return {}
    code = bundle(folder)
    read = {
        ENV_VARS[a]: f"`get_settings().{a}`"
        for a in sorted(code.settings_read(set(ENV_VARS)))
    }
    for name in sorted(code.environ_read()):
        read.setdefault(name, "`os.environ`")
    return read


def _library_variable(name: str) -> bool:
    return name == "LOG_LEVEL" or name.startswith("POWERTOOLS_")


def block_env_vars() -> str:
    """Per function: every variable its template sets or its code reads."""
    from shared.config import DEFAULTS, ENV_VARS

    attribute = {v: k for k, v in ENV_VARS.items()}
    parts = []
    for folder, (logical, props) in functions().items():
        env = props.get("Environment", {}).get("Variables", {})
        reads = code_reads(folder)
        rows = []
        for name in sorted(set(env) | set(reads)):
            set_to = cell(show(env[name])) if name in env else "—"
            if name in reads:
                read_by = reads[name]
            elif _library_variable(name):
                read_by = "Powertools (library)"
            else:
                read_by = "—"
            note = ""
            if name in reads and name not in env:
                if name in RUNTIME_VARIABLES:
                    note = "set by the Lambda runtime"
                else:
                    default = DEFAULTS.get(attribute.get(name, ""))
                    note = "**read by code, not set by the template**" + (
                        f" (code default `{default}`)" if default else ""
                    )
            elif name in env and read_by == "—":
                note = "set, not read by the function's code"
            rows.append([f"`{name}`", set_to, read_by, note])
        parts.append(
            f"#### `{folder}` — {cell(function_name(props))}\n\n"
            f"Set by `cfn/{TEMPLATE_OF[folder]}`, resource `{logical}`."
            "\n\n"
            + table(["variable", "template value", "read by", "note"], rows)
        )
    return "\n\n".join(parts)


def _role_users() -> Dict[Tuple[str, str], List[str]]:
    """(template, role logical id) -> what runs with it."""
    users: Dict[Tuple[str, str], List[str]] = {}
    for name in templates():
        for kind in ("AWS::Lambda::Function", "AWS::StepFunctions::"):
            for logical, res in template(name).get("Resources", {}).items():
                if not res.get("Type", "").startswith(kind):
                    continue
                role = res.get("Properties", {}).get("Role") or res.get(
                    "Properties", {}
                ).get("RoleArn")
                if isinstance(role, dict) and "Fn::GetAtt" in role:
                    target = role["Fn::GetAtt"]
                    target = (
                        target[0]
                        if isinstance(target, list)
                        else (target.split(".")[0])
                    )
                    users.setdefault((name, target), []).append(logical)
    return users


def _plain(value: Any) -> Any:
    """A policy fragment with intrinsic functions in the short form."""
    if isinstance(value, dict):
        if len(value) == 1 and (
            "Ref" in value or next(iter(value)).startswith("Fn::")
        ):
            return show(value)
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _principals(doc: Dict[str, Any]) -> str:
    found = []
    for statement in as_list(doc.get("Statement")):
        principal = statement.get("Principal", {})
        for kind, value in principal.items():
            found += [f"{kind} {show(v)}" for v in as_list(value)]
        if statement.get("Condition"):
            condition = _plain(statement["Condition"])
            found.append("when `" + json.dumps(condition) + "`")
    return "; ".join(found)


def _statement_line(statement: Dict[str, Any]) -> str:
    sid = statement.get("Sid", "(no Sid)")
    actions = ", ".join(f"`{a}`" for a in as_list(statement.get("Action")))
    targets = ", ".join(cell(show(r)) for r in as_list(statement["Resource"]))
    line = f"- **{sid}** ({statement['Effect']}): {actions} on {targets}"
    if statement.get("Condition"):
        condition = json.dumps(_plain(statement["Condition"]))
        line += f" when `{condition}`"
    return line


def _role_policies(name: str, props: Dict[str, Any]) -> Iterator[str]:
    local = template(name).get("Resources", {})
    for arn in props.get("ManagedPolicyArns", []):
        if isinstance(arn, dict) and "Ref" in arn and arn["Ref"] in local:
            policy = local[arn["Ref"]]["Properties"]
            yield f"- managed policy `{arn['Ref']}` (this stack):"
            for statement in as_list(policy["PolicyDocument"]["Statement"]):
                yield "  " + _statement_line(statement)
        else:
            yield f"- AWS managed policy {cell(show(arn))}"
    for policy in props.get("Policies", []):
        yield f"- inline policy `{policy['PolicyName']}`:"
        for statement in as_list(policy["PolicyDocument"]["Statement"]):
            yield "  " + _statement_line(statement)


def block_iam() -> str:
    """Every IAM role of every template and what it may do."""
    users = _role_users()
    parts = []
    for name in templates():
        for logical, res in resources(name, "AWS::IAM::Role").items():
            props = res["Properties"]
            used_by = users.get((name, logical))
            head = f"#### `{name}` — `{logical}`"
            if props.get("RoleName"):
                head += f" (name {cell(show(props['RoleName']))})"
            lines = [head, ""]
            if used_by:
                lines.append(
                    "- used by: " + ", ".join(f"`{u}`" for u in used_by)
                )
            lines.append(
                "- trusted principal: "
                + _principals(props["AssumeRolePolicyDocument"])
            )
            lines += list(_role_policies(name, props))
            parts.append("\n".join(lines))
    return "\n\n".join(parts)


def block_resource_policies() -> str:
    """Who may invoke a function (``AWS::Lambda::Permission``)."""
    rows = []
    for name in templates():
        found = resources(name, "AWS::Lambda::Permission")
        for logical, res in found.items():
            props = res["Properties"]
            rows.append(
                [
                    f"`{name}`",
                    f"`{logical}`",
                    cell(show(props["FunctionName"])),
                    cell(props["Principal"]),
                    (
                        cell(show(props.get("SourceArn", "")))
                        if props.get("SourceArn")
                        else "—"
                    ),
                ]
            )
    lambda_table = table(
        ["template", "permission", "function", "principal", "source"], rows
    )
    return (
        "Who may invoke a function (`AWS::Lambda::Permission`):\n\n"
        + lambda_table
        + "\n\nTopic and key policies:\n\n"
        + _topic_and_key_policies()
    )


def _topic_and_key_policies() -> str:
    """Statements of SNS topic policies and KMS key policies."""
    kinds = {
        "AWS::SNS::TopicPolicy": "PolicyDocument",
        "AWS::KMS::Key": "KeyPolicy",
    }
    lines = []
    for name in templates():
        for kind, key in kinds.items():
            for logical, res in resources(name, kind).items():
                doc = res["Properties"].get(key)
                if not doc:
                    continue
                lines.append(f"- `{name}` — `{logical}` ({kind}):")
                for statement in as_list(doc["Statement"]):
                    principal = "; ".join(
                        f"{k} {show(v)}"
                        for k, v in statement.get("Principal", {}).items()
                    )
                    line = _statement_line(statement).lstrip("- ")
                    lines.append(f"  - {line} for {principal or '(none)'}")
    return "\n".join(lines) or "(none)"


def block_cognito_groups() -> str:
    """The user pool groups and the permissions ``rbac.py`` gives each."""
    from shared import rbac

    rows = []
    for name in templates():
        found = resources(name, "AWS::Cognito::UserPoolGroup")
        for res in found.values():
            props = res["Properties"]
            group = props["GroupName"]
            perms = sorted(rbac.ROLE_PERMISSIONS.get(group, ()))
            rows.append(
                [
                    f"`{group}`",
                    str(props.get("Precedence", "")),
                    props.get("Description", ""),
                    ", ".join(perms) or "—",
                ]
            )
    rows.sort(key=lambda r: int(r[1] or 0))
    return table(
        ["group", "precedence", "description", "permissions (rbac.py)"], rows
    )


# -- architecture ------------------------------------------------------
def _router_actions(folder: str) -> List[str]:
    """``@router.action(NAME)`` registrations of a function folder."""
    found = []
    for path in sorted((LAMBDA / folder).glob("*.py")):
        tree = ast.parse(path.read_text())
        constants = {
            t.id: s.value.value
            for s in tree.body
            if isinstance(s, ast.Assign) and isinstance(s.value, ast.Constant)
            for t in s.targets
            if isinstance(t, ast.Name)
        }
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for deco in node.decorator_list:
                if not (
                    isinstance(deco, ast.Call)
                    and getattr(deco.func, "attr", "") == "action"
                    and deco.args
                ):
                    continue
                arg = deco.args[0]
                if isinstance(arg, ast.Constant):
                    found.append((arg.value, path.name, node.name))
                elif isinstance(arg, ast.Name) and arg.id in constants:
                    found.append((constants[arg.id], path.name, node.name))
    return [f"`{a}` ({m}: `{f}`)" for a, m, f in sorted(found)]


def _asl_actions() -> List[str]:
    actions = []
    for path in sorted((CFN / "statemachine").glob("*.asl.json")):
        states = json.loads(path.read_text())["States"]
        for state in states.values():
            payload = state.get("Parameters", {}).get("Payload", {})
            if "action" in payload and payload["action"] not in actions:
                actions.append(payload["action"])
    return actions


def block_stacks() -> str:
    """The master template's nested stacks and what each holds."""
    rows = []
    master = template("master-template.yaml").get("Resources", {})
    for logical, res in master.items():
        if res.get("Type") != "AWS::CloudFormation::Stack":
            continue
        url = res["Properties"].get("TemplateURL", "")
        nested = template(url) if (CFN / str(url)).is_file() else {}
        counts: Dict[str, int] = {}
        for child in nested.get("Resources", {}).values():
            kind = child.get("Type", "?").replace("AWS::", "")
            counts[kind] = counts.get(kind, 0) + 1
        description = " ".join(str(nested.get("Description", "")).split())
        rows.append(
            [
                f"`{logical}`",
                f"`cfn/{url}`",
                description.replace("|", "\\|"),
                ", ".join(f"{n} {k}" for k, n in sorted(counts.items())),
            ]
        )
    return table(
        ["nested stack", "template", "description", "resources"], rows
    )


def block_functions() -> str:
    """Each function: name, operations (REST/direct) and actions."""
    from shared import rbac

    orchestration = {
        "dr-orchestration-stepfunction",
        "orchestration-stepfunctions",
    }
    rows = []
    for folder, (logical, props) in functions().items():
        operations = [e for e in rbac.ENDPOINTS if e.handler == folder]
        if folder in orchestration:
            actions = ", ".join(f"`{a}`" for a in _asl_actions())
            actions += " (from the state machine)"
        else:
            actions = "; ".join(_router_actions(folder)) or "—"
        rows.append(
            [
                f"`{folder}`",
                cell(function_name(props)),
                str(len(operations)) if operations else "—",
                actions,
                " ".join(str(props.get("Description", "")).split()),
            ]
        )
    return table(
        [
            "folder",
            "function name",
            "REST endpoints / direct operations",
            "actions",
            "description (template)",
        ],
        rows,
    )


def _node_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", text)


def _function_by_name() -> Dict[str, str]:
    """``-<name>-`` part of each function's name -> its folder."""
    found = {}
    for folder, (_logical, props) in functions().items():
        match = re.search(
            r"\$\{ProjectName\}-(.+)-\$\{Environment\}",
            str(function_name(props)),
        )
        if match:
            found[match.group(1)] = folder
    return found


def _function_by_logical() -> Dict[str, str]:
    return {logical: folder for folder, (logical, _p) in functions().items()}


def _arn_target(value: Any) -> Optional[str]:
    """The function folder an ARN value names (by name or parameter)."""
    text = show(value)
    match = re.search(
        r"function:\$\{ProjectName\}-(.+)-\$\{Environment\}", text
    )
    if match:
        return _function_by_name().get(match.group(1))
    if text.startswith("!Ref ") and text.endswith("Arn"):
        return _function_by_logical().get(text[len("!Ref ") : -len("Arn")])
    return None


def _topic_node(value: Any, nodes: Dict[str, str]) -> str:
    """The node of an SNS topic named by a ``!Ref <Name>TopicArn``."""
    name = show(value).replace("!Ref ", "")
    name = name[: -len("Arn")] if name.endswith("Arn") else name
    nodes[name] = f'{name}[/"SNS {name}"/]'
    return name


MACHINE = "state_machine"


def _function_edges(nodes: Dict[str, str], edges: List[str]) -> None:
    """Edges from each function to what its code is given and reads."""
    for folder, (_logical, props) in functions().items():
        node = _node_id(folder)
        nodes[node] = f'{node}["{folder}"]'
        env = props.get("Environment", {}).get("Variables", {})
        reads = code_reads(folder)
        for var, value in sorted(env.items()):
            if var not in reads:  # configured, but its code never uses it
                continue
            target = _arn_target(value)
            if target and target != folder:
                edges.append(f'{node} -->|"{var}"| {_node_id(target)}')
            elif var == "STATE_MACHINE_ARN":
                edges.append(f'{node} -->|"start"| {MACHINE}')
            elif var.endswith("_TOPIC_ARN"):
                topic = _topic_node(value, nodes)
                edges.append(f'{node} -.->|"publish"| {topic}')


def _machine_edges(name: str, edges: List[str]) -> None:
    """The state machine's orchestration function(s)."""
    machines = resources(name, "AWS::StepFunctions::StateMachine")
    for res in machines.values():
        subs = res["Properties"].get("DefinitionSubstitutions", {})
        for value in subs.values():
            options = value.get("Fn::If", [None, value, None])[1:]
            for option, label in zip(options, ("generic", "legacy")):
                target = _arn_target(option)
                if target:
                    edges.append(
                        f'{MACHINE} -->|"{label}"| {_node_id(target)}'
                    )


def _permission_edges(
    name: str, nodes: Dict[str, str], edges: List[str]
) -> None:
    """Services allowed to invoke a function (rules are drawn apart)."""
    for res in resources(name, "AWS::Lambda::Permission").values():
        props = res["Properties"]
        target = _arn_target(props["FunctionName"])
        if props["Principal"] == "events.amazonaws.com" or not target:
            continue
        source = _node_id(props["Principal"].split(".")[0])
        nodes[source] = f'{source}(["{props["Principal"]}"])'
        edges.append(f"{source} --> {_node_id(target)}")


def _rule_edges(name: str, nodes: Dict[str, str], edges: List[str]) -> None:
    """EventBridge rules to their targets."""
    for logical, res in resources(name, "AWS::Events::Rule").items():
        rule = _node_id(logical)
        nodes[rule] = f'{rule}(["EventBridge {logical}"])'
        for target in res["Properties"].get("Targets", []):
            function = _arn_target(target["Arn"])
            if function:
                edges.append(f"{rule} --> {_node_id(function)}")
            else:
                topic = _topic_node(target["Arn"], nodes)
                edges.append(f"{rule} -.-> {topic}")


def block_invocations() -> str:
    """Who invokes whom, from the templates (Mermaid)."""
    edges: List[str] = []
    nodes = {MACHINE: f'{MACHINE}{{{{"Step Functions state machine"}}}}'}
    _function_edges(nodes, edges)
    for name in templates():
        _machine_edges(name, edges)
        _permission_edges(name, nodes, edges)
        _rule_edges(name, nodes, edges)
    lines = ["flowchart LR"]
    lines += [f"    {n}" for n in nodes.values()]
    lines += [f"    {e}" for e in dict.fromkeys(edges)]
    return "```mermaid\n" + "\n".join(lines) + "\n```"


def _label(text: str) -> str:
    return text.replace('"', "'")


def _condition(choice: Dict[str, Any]) -> str:
    for joiner in ("And", "Or"):
        if joiner in choice:
            parts = [_condition(c) for c in choice[joiner]]
            return f" {joiner.lower()} ".join(parts)
    if "Not" in choice:
        return "not " + _condition(choice["Not"])
    variable = choice["Variable"].replace("$.application.", "")
    for key, value in choice.items():
        if key not in ("Variable", "Next"):
            shown = json.dumps(value) if not isinstance(value, str) else value
            return f"{variable} = {shown}"
    return variable


def _node(name: str, state: Dict[str, Any]) -> str:
    kind = state["Type"]
    lines = [name]
    payload = state.get("Parameters", {}).get("Payload", {})
    if "action" in payload:
        lines.append(f"action: {payload['action']}")
    if str(state.get("Resource", "")).endswith(".waitForTaskToken"):
        lines.append("waits for the task token")
    if kind == "Wait":
        seconds = state.get("SecondsPath") or state.get("Seconds")
        lines.append(f"wait {str(seconds).replace('$.application.', '')}")
    if state.get("Retry"):
        attempts = max(r.get("MaxAttempts", 3) for r in state["Retry"])
        lines.append(f"retries Lambda errors x{attempts}")
    if kind == "Fail":
        lines.append(f"Fail: {state.get('Error', '')}")
    label = _label("<br/>".join(lines))
    shapes = {
        "Choice": ('{"', '"}'),
        "Wait": ('(["', '"])'),
        "Succeed": ('(["', '"])'),
        "Fail": ('(["', '"])'),
    }
    left, right = shapes.get(kind, ('["', '"]'))
    return f"    {name}{left}{label}{right}"


def state_machine_mermaid(definition: Dict[str, Any]) -> str:
    """A Mermaid flowchart of one ASL definition."""
    states = definition["States"]
    lines = ["flowchart TD", f"    start((start)) --> {definition['StartAt']}"]
    lines += [_node(name, state) for name, state in states.items()]
    for name, state in states.items():
        for choice in state.get("Choices", []):
            label = _label(_condition(choice))
            lines.append(f'    {name} -->|"{label}"| {choice["Next"]}')
        if "Default" in state:
            lines.append(f'    {name} -->|"otherwise"| {state["Default"]}')
        if "Next" in state:
            lines.append(f"    {name} --> {state['Next']}")
        for catch in state.get("Catch", []):
            errors = ", ".join(catch["ErrorEquals"])
            if catch["Next"] == state.get("Next"):
                continue
            lines.append(f'    {name} -.->|"catch {errors}"| {catch["Next"]}')
    for name, state in states.items():
        if state["Type"] == "Fail":
            lines.append(f"    class {name} fail")
        if state["Type"] == "Succeed":
            lines.append(f"    class {name} ok")
    lines.append("    classDef fail fill:#fdd,stroke:#a00")
    lines.append("    classDef ok fill:#dfd,stroke:#070")
    return "\n".join(lines)


def block_state_machine() -> str:
    """The state machine(s) as Mermaid flowcharts."""
    parts = []
    for path in sorted((CFN / "statemachine").glob("*.asl.json")):
        definition = json.loads(path.read_text())
        parts.append(
            f"`cfn/statemachine/{path.name}` — "
            f"{definition.get('Comment', '')}\n\n"
            "```mermaid\n" + state_machine_mermaid(definition) + "\n```"
        )
    return "\n\n".join(parts)


def block_status_transitions() -> str:
    """Execution statuses and legal transitions (``shared/statuses.py``)."""
    from shared import statuses

    lines = ["stateDiagram-v2", "    [*] --> PENDING"]
    for target, sources in statuses.LEGAL_PREDECESSORS.items():
        lines += [f"    {s} --> {target}" for s in sorted(sources)]
    lines += [f"    {s} --> [*]" for s in sorted(statuses.TERMINAL_STATUSES)]
    active = ", ".join(f"`{s}`" for s in sorted(statuses.ACTIVE_STATUSES))
    final = ", ".join(f"`{s}`" for s in sorted(statuses.TERMINAL_STATUSES))
    waves = ", ".join(
        f"`{getattr(statuses, n)}`"
        for n in sorted(dir(statuses))
        if n.startswith("WAVE_")
    )
    return (
        "```mermaid\n" + "\n".join(lines) + "\n```\n\n"
        f"Active (an execution holds its plan): {active}. "
        f"Terminal: {final}. Wave statuses: {waves}."
    )


def _table_env_vars() -> Dict[str, str]:
    """Table logical id -> the env var naming it (via the lambda stack)."""
    found = {}
    for _folder, (_logical, props) in functions().items():
        env = props.get("Environment", {}).get("Variables", {})
        for var, value in env.items():
            if isinstance(value, dict) and "Ref" in value:
                ref = value["Ref"]
                if ref.endswith("TableName"):
                    found[ref[: -len("Name")]] = var
    return found


def _key(schema: List[Dict[str, str]]) -> str:
    return ", ".join(
        f"{k['AttributeName']} ({k['KeyType']})" for k in schema or []
    )


def block_tables() -> str:
    """Every DynamoDB table: name, env var, key, indexes, settings."""
    env_vars = _table_env_vars()
    rows = []
    for name in templates():
        for logical, res in resources(name, "AWS::DynamoDB::Table").items():
            props = res["Properties"]
            indexes = "; ".join(
                f"{i['IndexName']}: {_key(i['KeySchema'])}"
                for i in props.get("GlobalSecondaryIndexes", [])
            )
            settings = [props.get("BillingMode", "PROVISIONED")]
            pitr = props.get("PointInTimeRecoverySpecification", {})
            if pitr.get("PointInTimeRecoveryEnabled"):
                settings.append("PITR")
            if props.get("SSESpecification", {}).get("SSEEnabled"):
                settings.append("SSE")
            ttl = props.get("TimeToLiveSpecification", {})
            if ttl.get("Enabled"):
                settings.append(f"TTL {ttl.get('AttributeName')}")
            if res.get("DeletionPolicy"):
                settings.append(f"DeletionPolicy {res['DeletionPolicy']}")
            rows.append(
                [
                    cell(show(props.get("TableName", logical))),
                    f"`{env_vars.get(logical, '—')}`",
                    _key(props.get("KeySchema")),
                    indexes or "—",
                    ", ".join(settings),
                ]
            )
    return table(
        ["table", "env var", "key", "global secondary indexes", "settings"],
        rows,
    )


def block_events() -> str:
    """Every EventBridge rule: what it matches and where it sends it."""
    rows = []
    for name in templates():
        for logical, res in resources(name, "AWS::Events::Rule").items():
            props = res["Properties"]
            if "ScheduleExpression" in props:
                trigger = "schedule " + cell(show(props["ScheduleExpression"]))
            else:
                trigger = cell(json.dumps(props.get("EventPattern", {})))
            targets = "; ".join(
                cell(show(t["Arn"]))
                + (
                    " with input " + cell(" ".join(t["Input"].split()))
                    if "Input" in t
                    else ""
                )
                for t in props.get("Targets", [])
            )
            rows.append(
                [
                    f"`{logical}`",
                    cell(show(props.get("State", "ENABLED"))),
                    trigger,
                    targets,
                ]
            )
    return table(["rule", "state", "matches", "target"], rows)


def block_alarms() -> str:
    """Every CloudWatch alarm: what it watches and when it fires."""
    comparisons = {
        "GreaterThanOrEqualToThreshold": ">=",
        "GreaterThanThreshold": ">",
        "LessThanThreshold": "<",
        "LessThanOrEqualToThreshold": "<=",
    }
    rows = []
    for name in templates():
        for logical, res in resources(name, "AWS::CloudWatch::Alarm").items():
            props = res["Properties"]
            metric = (
                f"{show(props.get('Namespace', ''))} "
                f"{props.get('MetricName', '(metric math)')}"
            ).replace("!Ref ", "")
            rule = (
                f"{props.get('Statistic', '')} over "
                f"{props.get('Period', '?')} s "
                f"{comparisons.get(props.get('ComparisonOperator'), '?')} "
                f"{props.get('Threshold', '?')}"
                f" ({props.get('EvaluationPeriods', 1)} period(s))"
            )
            description = " ".join(str(props.get("AlarmDescription")).split())
            rows.append(
                [
                    cell(show(props.get("AlarmName", logical))),
                    f"`{metric}`",
                    rule,
                    description.replace("|", "\\|"),
                ]
            )
    if not rows:
        return "(no alarms in the templates)"
    return table(["alarm", "metric", "fires when", "meaning"], rows)


# -- refactoring summary -----------------------------------------------
def block_parity_tests() -> str:
    """Test modules using ``tests/wave_parity.py`` and their tests."""
    lines = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        text = path.read_text()
        if "wave_parity" not in text:
            continue
        tree = ast.parse(text)
        tests = [
            n.name
            for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            and n.name.startswith("test_")
        ]
        rel = path.relative_to(ROOT)
        lines.append(f"- `{rel}`: " + ", ".join(f"`{t}`" for t in tests))
    return "\n".join(lines) or "(no test uses tests/wave_parity.py)"


def _measurement() -> Optional[Dict[str, Any]]:
    if not MEASUREMENT.is_file():
        return None
    return json.loads(MEASUREMENT.read_text())


def _calls(per_wave: Dict[str, int]) -> int:
    return sum(per_wave.values())


GVL_ROWS: List[Tuple[str, Callable[[Dict[str, Any]], Any]]] = [
    ("status", lambda r: r["status"]),
    (
        "end to end, simulated s (first StartRecovery -> execution end)",
        lambda r: r["simulatedSeconds"],
    ),
    ("end to end, wall s", lambda r: r["wallSeconds"]),
    (
        "StartRecovery of each wave, simulated s",
        lambda r: ", ".join(str(w["startRecovery"]) for w in r["waves"]),
    ),
    (
        "last server LAUNCHED in each wave, simulated s",
        lambda r: ", ".join(str(w["lastLaunched"]) for w in r["waves"]),
    ),
    (
        "gap last launch -> next wave's StartRecovery, simulated s",
        lambda r: ", ".join(str(g) for g in r["gaps"]["betweenWaves"]),
    ),
    (
        "gap last launch -> execution end, simulated s",
        lambda r: r["gaps"]["toEnd"],
    ),
    (
        "Lambda invocations (total)",
        lambda r: sum(r["lambdaInvocations"].values()),
    ),
    (
        "Lambda invocations per function",
        lambda r: ", ".join(
            f"{k.replace('hrp-drs-tech-adapter-', '').replace('-dev', '')}"
            f" {v}"
            for k, v in sorted(r["lambdaInvocations"].items())
        ),
    ),
    (
        "DRS calls per wave (total per wave)",
        lambda r: ", ".join(str(_calls(w)) for w in r["drsCallsPerWave"]),
    ),
    (
        "DescribeJobs calls per wave (poll cycles)",
        lambda r: ", ".join(
            str(w.get("DescribeJobs", 0)) for w in r["drsCallsPerWave"]
        ),
    ),
    ("DRS calls before wave 1 (setup)", lambda r: _calls(r["drsCallsSetup"])),
]


def block_generic_vs_legacy() -> str:
    """The committed ``generic_vs_legacy`` bench measurement."""
    data = _measurement()
    rel = MEASUREMENT.relative_to(ROOT)
    if data is None:
        return f"(no measurement: `{rel}` is missing)"
    figures = data["benchmarks"]["generic_vs_legacy"]
    if "error" in figures:
        return f"(the committed run failed: {figures['error']})"
    rows = [
        [name, str(pick(figures["generic"])), str(pick(figures["legacy"]))]
        for name, pick in GVL_ROWS
    ]
    rows.append(
        [
            "end-to-end ratio legacy / generic",
            str(figures["endToEndRatioLegacyOverGeneric"]),
            "",
        ]
    )
    host = data.get("host", {})
    load = ", ".join(str(round(v, 1)) for v in host.get("loadAverage", []))
    return (
        f"From `{rel}` (`./scripts/bench.sh --only generic_vs_legacy`, run "
        f"started {data.get('startedAt')}; plan {figures.get('plan')}, "
        f"simulation speed {figures.get('speed')}, poll "
        f"{figures.get('simulatedPollSeconds')} s simulated = "
        f"{figures.get('pollWallSeconds')} wall s; host {host.get('cpus')} "
        f"CPUs, Python {host.get('python')}, load average {load}):\n\n"
        + table(["figure", "generic (dr-orch-sf)", "legacy (orch-sf)"], rows)
    )


BLOCKS: Dict[str, Callable[[], str]] = {
    "stacks": block_stacks,
    "functions": block_functions,
    "invocations": block_invocations,
    "state-machine": block_state_machine,
    "status-transitions": block_status_transitions,
    "tables": block_tables,
    "events": block_events,
    "alarms": block_alarms,
    "deploy-stages": block_deploy_stages,
    "master-parameters": block_master_parameters,
    "master-outputs": block_master_outputs,
    "spoke-parameters": block_spoke_parameters,
    "cognito-groups": block_cognito_groups,
    "env-vars": block_env_vars,
    "iam": block_iam,
    "resource-policies": block_resource_policies,
    "parity-tests": block_parity_tests,
    "generic-vs-legacy": block_generic_vs_legacy,
}


def render(text: str, path: Path) -> str:
    """``text`` with every generated block regenerated."""

    def replace(match: re.Match) -> str:
        name = match.group("name")
        if name not in BLOCKS:
            raise SystemExit(f"{path}: unknown generated block {name!r}")
        body = BLOCKS[name]().rstrip("\n")
        return (
            match.group("open")
            + f"<!-- do not edit: regenerate with {COMMAND} -->\n"
            + body
            + "\n"
            + match.group("close")
        )

    return BLOCK.sub(replace, text)


def documents() -> List[Path]:
    """The Markdown files of ``docs/`` holding generated blocks."""
    return sorted(p for p in DOCS.glob("*.md") if BLOCK.search(p.read_text()))


def stale() -> List[Path]:
    """Documents whose generated blocks differ from a fresh generation."""
    return [
        p for p in documents() if render(p.read_text(), p) != p.read_text()
    ]


def main(argv: Optional[List[str]] = None) -> int:
    """Rewrite the generated blocks, or with ``--check`` report stale
    documents (exit 1)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    if args.check:
        paths = stale()
        for path in paths:
            print(f"stale: {path.relative_to(ROOT)} (run {COMMAND})")
        return 1 if paths else 0
    for path in documents():
        text = path.read_text()
        new = render(text, path)
        if new != text:
            path.write_text(new)
            print(f"updated {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
