"""CloudFormation resource types the local cloud creates in moto.

Each handler takes the deploy context, the logical id and the resolved
``Properties`` and creates the resource through moto's APIs, returning its
``Ref`` value and ``GetAtt`` attributes. Types that only matter in AWS are
listed in :data:`NOT_EMULATED` (logged once, given placeholder values);
any other type is an error naming the resource.
"""

import json
import logging
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Optional

from .templates import REPO_ROOT, TemplateError

LOG = logging.getLogger("localcloud.stack")

# Type prefixes that only matter in AWS: API Gateway (the drill serves the
# REST API itself), Cognito, alarms, resource policies of functions.
NOT_EMULATED = (
    "AWS::ApiGateway::",
    "AWS::Cognito::",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::Dashboard",
    "AWS::Lambda::Permission",
    # Spoke accounts' put permission on the hub bus: moto does not check.
    "AWS::Events::EventBusPolicy",
    "AWS::WAFv2::",
)
TABLE_KEYS = (
    "TableName",
    "KeySchema",
    "AttributeDefinitions",
    "GlobalSecondaryIndexes",
    "BillingMode",
)
_LAMBDA_ZIP_PATH = re.compile(r"^(?:.*/)?build/lambda/([A-Za-z0-9_.-]+)\.zip$")
_UNRESOLVED = re.compile(r"\$\{([A-Za-z0-9_.:]+)\}")


@dataclass
class Deployed:
    """A created resource: its Ref value and GetAtt attributes."""

    type: str
    ref: Any
    attrs: Dict[str, Any] = field(default_factory=dict)
    emulated: bool = True
    props: Dict[str, Any] = field(default_factory=dict)


@dataclass
class DeployContext:
    """What resource handlers need: clients, names, packaged code."""

    client: Callable[[str], Any]
    account: str
    region: str
    template_dir: Path
    stack_name: str
    build_zip: Callable[[str], Optional[bytes]]
    state_machines: Dict[str, Dict[str, Any]] = field(default_factory=dict)

    def arn(self, service: str, resource: str, region: bool = True) -> str:
        """An ARN in this account (and region)."""
        where = self.region if region else ""
        return f"arn:aws:{service}:{where}:{self.account}:{resource}"


def _tags(props: Dict[str, Any]) -> Dict[str, str]:
    return {t["Key"]: str(t["Value"]) for t in props.get("Tags") or []}


def _physical_name(ctx: DeployContext, logical: str, limit: int) -> str:
    return f"{ctx.stack_name}-{logical}"[:limit]


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def dynamodb_table(ctx: DeployContext, logical: str, props: Dict) -> Deployed:
    """AWS::DynamoDB::Table -> create_table (keys, GSIs, billing), then
    its ``TimeToLiveSpecification`` (update_time_to_live)."""
    spec = {k: props[k] for k in TABLE_KEYS if k in props}
    if "TableName" not in spec or "KeySchema" not in spec:
        raise TemplateError(f"{logical}: needs TableName and KeySchema")
    client = ctx.client("dynamodb")
    client.create_table(**spec)
    name = spec["TableName"]
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={
                "AttributeName": ttl["AttributeName"],
                "Enabled": bool(ttl.get("Enabled", False)),
            },
        )
    return Deployed(
        "AWS::DynamoDB::Table",
        name,
        {"Arn": ctx.arn("dynamodb", f"table/{name}")},
    )


def sns_topic(ctx: DeployContext, logical: str, props: Dict) -> Deployed:
    """AWS::SNS::Topic -> create_topic."""
    name = props.get("TopicName") or _physical_name(ctx, logical, 256)
    attributes = {
        key: str(props[key])
        for key in ("DisplayName", "KmsMasterKeyId")
        if key in props
    }
    arn = ctx.client("sns").create_topic(Name=name, Attributes=attributes)[
        "TopicArn"
    ]
    return Deployed(
        "AWS::SNS::Topic", arn, {"TopicArn": arn, "TopicName": name}
    )


def sns_topic_policy(ctx: DeployContext, logical: str, props: Dict):
    """AWS::SNS::TopicPolicy -> the Policy attribute of each topic."""
    for topic in props["Topics"]:
        ctx.client("sns").set_topic_attributes(
            TopicArn=topic,
            AttributeName="Policy",
            AttributeValue=_json(props["PolicyDocument"]),
        )
    return Deployed("AWS::SNS::TopicPolicy", f"local-{logical}")


def sns_subscription(ctx: DeployContext, logical: str, props: Dict):
    """AWS::SNS::Subscription -> subscribe (filter policy kept)."""
    attributes = {
        key: _json(props[key])
        for key in ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery")
        if key in props
    }
    arn = ctx.client("sns").subscribe(
        TopicArn=props["TopicArn"],
        Protocol=props["Protocol"],
        Endpoint=props["Endpoint"],
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    return Deployed("AWS::SNS::Subscription", arn)


def kms_key(ctx: DeployContext, logical: str, props: Dict) -> Deployed:
    """AWS::KMS::Key -> create_key (policy kept)."""
    args = {"Description": props.get("Description", logical)}
    if "KeyPolicy" in props:
        args["Policy"] = _json(props["KeyPolicy"])
    meta = ctx.client("kms").create_key(**args)["KeyMetadata"]
    return Deployed(
        "AWS::KMS::Key",
        meta["KeyId"],
        {"Arn": meta["Arn"], "KeyId": meta["KeyId"]},
    )


def iam_managed_policy(ctx: DeployContext, logical: str, props: Dict):
    """AWS::IAM::ManagedPolicy -> create_policy."""
    name = props.get("ManagedPolicyName") or _physical_name(ctx, logical, 128)
    policy = ctx.client("iam").create_policy(
        PolicyName=name,
        PolicyDocument=_json(props["PolicyDocument"]),
        Description=props.get("Description", ""),
    )["Policy"]
    return Deployed("AWS::IAM::ManagedPolicy", policy["Arn"])


def iam_role(ctx: DeployContext, logical: str, props: Dict) -> Deployed:
    """AWS::IAM::Role -> create_role, attach and put its policies."""
    iam = ctx.client("iam")
    name = props.get("RoleName") or _physical_name(ctx, logical, 64)
    role = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=_json(props["AssumeRolePolicyDocument"]),
        Path=props.get("Path", "/"),
    )["Role"]
    for arn in props.get("ManagedPolicyArns") or []:
        if ":iam::aws:policy/" in arn:
            continue  # AWS managed policies exist in AWS, not in moto
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    for policy in props.get("Policies") or []:
        iam.put_role_policy(
            RoleName=name,
            PolicyName=policy["PolicyName"],
            PolicyDocument=_json(policy["PolicyDocument"]),
        )
    return Deployed(
        "AWS::IAM::Role", name, {"Arn": role["Arn"], "RoleId": role["RoleId"]}
    )


def _packaged_folders() -> Dict[str, Any]:
    if str(REPO_ROOT) not in sys.path:
        sys.path.append(str(REPO_ROOT))
    import package_lambda

    return package_lambda.FUNCTIONS


def code_folder(logical: str, code: Any) -> str:
    """The function folder whose zip a function's ``Code`` names.

    ``Code`` is the local path (relative to the template) of the zip
    ``package_lambda.py`` builds, ``.../build/lambda/<folder>.zip``, which
    ``aws cloudformation package`` uploads; ``<folder>`` must be one it
    builds.
    """
    match = _LAMBDA_ZIP_PATH.match(code) if isinstance(code, str) else None
    if not match:
        raise TemplateError(
            f"{logical}: Code must be the local path of a packaged zip, "
            f"../build/lambda/<folder>.zip, got {code!r}"
        )
    folder = match.group(1)
    known = _packaged_folders()
    if folder not in known:
        raise TemplateError(
            f"{logical}: Code {code!r} names lambda/{folder}, which "
            f"package_lambda.py does not build (it builds "
            f"{', '.join(sorted(known))})"
        )
    return folder


def lambda_function(ctx: DeployContext, logical: str, props: Dict):
    """AWS::Lambda::Function -> create_function with the packaged zip.

    ``Code`` (``../build/lambda/<folder>.zip``, see :func:`code_folder`)
    names the function folder, whose zip is built fresh by
    ``package_lambda.build_zip``. ``Layers`` are the Powertools layer,
    which the runtime layer provides.
    """
    folder = code_folder(logical, props.get("Code"))
    name = props.get("FunctionName") or _physical_name(ctx, logical, 64)
    arn = ctx.arn("lambda", f"function:{name}")
    zip_bytes = ctx.build_zip(folder)
    if zip_bytes is None:  # folder not written yet and explicitly allowed
        LOG.warning("%s: no code for %s; not registered", logical, name)
        return Deployed("AWS::Lambda::Function", name, {"Arn": arn}, False)
    args = {
        "FunctionName": name,
        "Runtime": props.get("Runtime", "python3.12"),
        "Role": props["Role"],
        "Handler": props["Handler"],
        "Code": {"ZipFile": zip_bytes},
        "Timeout": int(props.get("Timeout", 3)),
        "MemorySize": int(props.get("MemorySize", 128)),
        "Description": props.get("Description", ""),
        "Environment": {
            "Variables": {
                k: str(v)
                for k, v in (props.get("Environment") or {})
                .get("Variables", {})
                .items()
            }
        },
        "Tags": _tags(props),
    }
    arn = ctx.client("lambda").create_function(**args)["FunctionArn"]
    return Deployed("AWS::Lambda::Function", name, {"Arn": arn})


def _definition(ctx: DeployContext, logical: str, props: Dict) -> str:
    if "DefinitionString" in props:
        text = str(props["DefinitionString"])
    elif "Definition" in props:
        text = json.dumps(props["Definition"])
    elif isinstance(props.get("DefinitionS3Location"), str):
        path = ctx.template_dir / props["DefinitionS3Location"]
        if not path.is_file():
            raise TemplateError(f"{logical}: {path} does not exist")
        text = path.read_text()
    else:
        raise TemplateError(f"{logical}: no definition the local cloud reads")
    substitutions = props.get("DefinitionSubstitutions") or {}
    for key, value in substitutions.items():
        text = text.replace("${" + key + "}", str(value))
    left = sorted(set(_UNRESOLVED.findall(text)))
    if left:
        raise TemplateError(
            f"{logical}: definition placeholders without substitution: "
            + ", ".join(left)
        )
    json.loads(text)  # a broken definition fails here, naming nothing else
    return text


def state_machine(ctx: DeployContext, logical: str, props: Dict):
    """AWS::StepFunctions::StateMachine -> create_state_machine.

    The definition comes from the ASL file (``DefinitionS3Location``, a
    path relative to the template) with ``DefinitionSubstitutions``.
    """
    name = props.get("StateMachineName") or _physical_name(ctx, logical, 80)
    args = {
        "name": name,
        "definition": _definition(ctx, logical, props),
        "roleArn": props["RoleArn"],
        "type": props.get("StateMachineType", "STANDARD"),
    }
    arn = ctx.client("stepfunctions").create_state_machine(**args)[
        "stateMachineArn"
    ]
    ctx.state_machines[arn] = args
    return Deployed(
        "AWS::StepFunctions::StateMachine", arn, {"Arn": arn, "Name": name}
    )


def events_rule(ctx: DeployContext, logical: str, props: Dict) -> Deployed:
    """AWS::Events::Rule -> put_rule and put_targets."""
    events = ctx.client("events")
    name = props.get("Name") or _physical_name(ctx, logical, 64)
    args = {"Name": name, "State": props.get("State", "ENABLED")}
    if "EventPattern" in props:
        args["EventPattern"] = _json(props["EventPattern"])
    if "ScheduleExpression" in props:
        args["ScheduleExpression"] = props["ScheduleExpression"]
    if "Description" in props:
        args["Description"] = props["Description"]
    arn = events.put_rule(**args)["RuleArn"]
    targets = []
    for target in props.get("Targets") or []:
        keys = ("Id", "Arn", "Input", "InputPath", "InputTransformer")
        targets.append({k: target[k] for k in keys if k in target})
    if targets:
        events.put_targets(Rule=name, Targets=targets)
    return Deployed("AWS::Events::Rule", name, {"Arn": arn})


def log_group(ctx: DeployContext, logical: str, props: Dict) -> Deployed:
    """AWS::Logs::LogGroup -> create_log_group."""
    name = props.get("LogGroupName") or _physical_name(ctx, logical, 512)
    ctx.client("logs").create_log_group(logGroupName=name)
    arn = ctx.arn("logs", f"log-group:{name}:*")
    return Deployed("AWS::Logs::LogGroup", name, {"Arn": arn})


HANDLERS: Dict[str, Callable[[DeployContext, str, Dict], Deployed]] = {
    "AWS::DynamoDB::Table": dynamodb_table,
    "AWS::SNS::Topic": sns_topic,
    "AWS::SNS::TopicPolicy": sns_topic_policy,
    "AWS::SNS::Subscription": sns_subscription,
    "AWS::KMS::Key": kms_key,
    "AWS::IAM::ManagedPolicy": iam_managed_policy,
    "AWS::IAM::Role": iam_role,
    "AWS::Lambda::Function": lambda_function,
    "AWS::StepFunctions::StateMachine": state_machine,
    "AWS::Events::Rule": events_rule,
    "AWS::Logs::LogGroup": log_group,
}


def not_emulated(resource_type: str) -> bool:
    """True for types that only matter in AWS (see NOT_EMULATED)."""
    return resource_type.startswith(NOT_EMULATED)


def placeholder(resource_type: str, logical: str) -> Deployed:
    """Ref/GetAtt values of a resource that is not emulated."""
    return Deployed(
        resource_type, f"local-{logical}", _Placeholder(logical), False
    )


class _Placeholder(dict):
    """Any attribute of a not-emulated resource: a readable placeholder."""

    def __init__(self, logical: str) -> None:
        super().__init__()
        self.logical = logical

    def get(self, key: str, default: Optional[Any] = None) -> Any:
        return f"local-{self.logical}-{key}"
