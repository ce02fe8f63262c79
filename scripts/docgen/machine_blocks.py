"""Blocks of docs/architecture.md and docs/runbook.md: the state
machine diagram, the statuses, tables, events and alarms."""

from __future__ import annotations

import json
from typing import Any, Dict, List

from docgen.common import (
    CFN,
    cell,
    resources,
    show,
    table,
    templates,
)
from docgen.deployment_blocks import (
    functions,
)


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
