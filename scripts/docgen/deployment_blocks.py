"""Blocks of docs/deployment.md: parameters, stages, environment
variables, IAM roles, resource policies and Cognito groups."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

from docgen.common import (
    LAMBDA,
    ROOT,
    RUNTIME_VARIABLES,
    as_list,
    cell,
    resources,
    show,
    table,
    template,
    templates,
)


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
