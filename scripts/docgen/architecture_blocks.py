"""Blocks of docs/architecture.md: the stacks, the functions and who
invokes whom."""

from __future__ import annotations

import ast
import json
import re
from typing import Any, Dict, List, Optional

from docgen.common import (
    CFN,
    LAMBDA,
    cell,
    resources,
    show,
    table,
    template,
    templates,
)
from docgen.deployment_blocks import (
    code_reads,
    function_name,
    functions,
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
