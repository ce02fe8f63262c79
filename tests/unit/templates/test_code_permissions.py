"""Template vs code: each function's role and environment cover what the
code bundled in its zip actually calls and reads (static reachability from
``index.lambda_handler``, see ``code_reach``)."""

from functools import lru_cache
from typing import Dict, Set

import botocore.session
import pytest
from botocore import xform_name

from shared.config import ENV_VARS
from tests.unit.templates.cfn_helpers import (
    allows,
    as_list,
    code_folder,
    load,
    role_statements,
)
from tests.unit.templates.code_reach import api_calls, bundle

LAMBDA = "lambda-stack.yaml"
# shared.tables accessor -> the lambda stack parameter naming its table.
TABLE_PARAMETERS = {
    "protection_groups_table": "${ProtectionGroupsTableName}",
    "recovery_plans_table": "${RecoveryPlansTableName}",
    "execution_history_table": "${ExecutionHistoryTableName}",
    "execution_servers_table": "${ExecutionServersTableName}",
    "target_accounts_table": "${TargetAccountsTableName}",
    "tag_sync_config_table": "${TagSyncConfigTableName}",
}
# Set by the Lambda runtime itself, never by the template.
RUNTIME_VARIABLES = {"AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME"}
# Called with the hub's own credentials only (query-handler account_info).
HUB_ONLY = {"iam:ListAccountAliases"}


def _functions():
    """folder -> (function properties, role logical id)."""
    found = {}
    for res in load(LAMBDA)["Resources"].values():
        if res["Type"] != "AWS::Lambda::Function":
            continue
        props = res["Properties"]
        folder = code_folder(props)
        found[folder] = (props, props["Role"]["Fn::GetAtt"][0])
    return found


FUNCTIONS = _functions()


@pytest.mark.parametrize("folder", sorted(FUNCTIONS))
def test_role_grants_every_dynamodb_call_of_the_code(folder):
    # Given the DynamoDB calls the function's handler can reach
    uses = bundle(folder).dynamodb_uses()
    assert uses, f"{folder}: no DynamoDB call found (analysis broken?)"
    statements = role_statements(LAMBDA, FUNCTIONS[folder][1])
    missing = []
    for use in uses:
        # When the table is named in the calling function, that table;
        # otherwise (table passed in) any of the stack's tables
        fragments = [TABLE_PARAMETERS[t] for t in use.tables] or ["TableName}"]
        # Then the role allows the action on it
        for fragment in fragments:
            if not allows(statements, use.action, fragment):
                missing.append((use.action, fragment, use.node))
    assert not missing, f"{folder}: {sorted(missing)}"


def test_finishing_an_execution_may_release_the_plan_lock():
    # Given the functions whose code makes terminal transitions
    releasing = {
        folder
        for folder in FUNCTIONS
        if ("shared.execution_lock", "release_plan_lock")
        in bundle(folder).reached
    }
    # Then they are the execution handler and both orchestrations
    assert releasing == {
        "execution-handler",
        "dr-orchestration-stepfunction",
        "orchestration-stepfunctions",
    }
    # And each role may delete the lock item of the execution history
    for folder in releasing:
        statements = role_statements(LAMBDA, FUNCTIONS[folder][1])
        assert allows(
            statements, "dynamodb:DeleteItem", "${ExecutionHistoryTableName}"
        ), folder


@pytest.mark.parametrize("folder", sorted(FUNCTIONS))
def test_function_sets_every_environment_variable_the_code_reads(folder):
    # Given the settings and variables the function's code reads
    code = bundle(folder)
    read = {ENV_VARS[a] for a in code.settings_read(set(ENV_VARS))}
    read |= code.environ_read()
    assert "EXECUTION_HISTORY_TABLE" in read, "analysis broken?"
    # When the template's environment of the function is read
    variables = FUNCTIONS[folder][0]["Environment"]["Variables"]
    # Then every one is set (defaults in shared/config.py are for tests
    # and local runs; the deployed value comes from the template)
    missing = read - RUNTIME_VARIABLES - set(variables)
    assert not missing, f"{folder} reads unset {sorted(missing)}"


@lru_cache(maxsize=None)
def _operations(service: str) -> Dict[str, str]:
    """boto3 method name -> IAM action of one service."""
    model = botocore.session.get_session().get_service_model(service)
    prefix = model.signing_name
    return {xform_name(op): f"{prefix}:{op}" for op in model.operation_names}


def _api_actions(folder: str) -> Set[str]:
    """drs/ec2/iam actions the function's reached code calls."""
    calls = api_calls(bundle(folder))
    return {
        action
        for service in ("drs", "ec2", "iam")
        for method, action in _operations(service).items()
        if method in calls
    }


def _actions(statements) -> Set[str]:
    return {a for s in statements for a in as_list(s["Action"])}


@pytest.mark.parametrize("folder", sorted(FUNCTIONS))
def test_role_grants_every_drs_ec2_and_iam_call_of_the_code(folder):
    # Given the DRS, EC2 and IAM calls the function's code can reach
    called = _api_actions(folder)
    # When its role's actions are listed
    granted = _actions(role_statements(LAMBDA, FUNCTIONS[folder][1]))
    # Then each call is granted
    assert not called - granted, f"{folder}: {sorted(called - granted)}"


def test_spoke_role_grants_what_hub_functions_call_there():
    # Given the calls of every function that may assume the spoke role
    spoke = load("cross-account-role.yaml")["Resources"]["CrossAccountRole"]
    spoke_docs = [p["PolicyDocument"] for p in spoke["Properties"]["Policies"]]
    granted = _actions(s for d in spoke_docs for s in d["Statement"])
    called = set()
    for folder, (_props, role) in FUNCTIONS.items():
        if "sts:AssumeRole" in _actions(role_statements(LAMBDA, role)):
            called |= _api_actions(folder)
    # Then the spoke role grants each, except the hub's own account info
    missing = called - HUB_ONLY - granted
    assert not missing, sorted(missing)


# Checked by AWS on the caller while it runs another action (Service
# Authorization Reference, dependent actions), or used by SNS on a
# publisher's behalf for a KMS-encrypted topic.
DEPENDENT_ACTIONS = {
    "drs:CreateRecoveryInstanceForDrs": "drs:StartRecovery",
    "drs:ListTagsForResource": "drs:StartRecovery",
    "ec2:TerminateInstances": "drs:TerminateRecoveryInstances",
    "kms:GenerateDataKey": "sns:Publish",
    "kms:Decrypt": "sns:Publish",
}
# boto3 operation whose IAM action has another name.
RENAMED = {"lambda:Invoke": "lambda:InvokeFunction"}


def _used_actions(folder: str) -> Set[str]:
    """Every IAM action the function's reached code may need."""
    calls = api_calls(bundle(folder))
    used = {use.action for use in bundle(folder).dynamodb_uses()}
    for service in ("drs", "ec2", "iam", "service-quotas", "stepfunctions"):
        used |= {a for m, a in _operations(service).items() if m in calls}
    for service in ("sns", "sts", "lambda"):
        used |= {a for m, a in _operations(service).items() if m in calls}
    used = {RENAMED.get(a, a) for a in used}
    return used | {d for d, p in DEPENDENT_ACTIONS.items() if p in used}


def _policy_holders():
    """(policy name, statements, folders whose role holds it)."""
    template = load(LAMBDA)["Resources"]
    by_role = {role: folder for folder, (_p, role) in FUNCTIONS.items()}
    holders: Dict[str, Set[str]] = {}
    for role, folder in by_role.items():
        props = template[role]["Properties"]
        for policy in props.get("Policies", []):
            name = f"{role}/{policy['PolicyName']}"
            holders[name] = {folder}
        for arn in props.get("ManagedPolicyArns", []):
            if isinstance(arn, dict) and "Ref" in arn:
                holders.setdefault(arn["Ref"], set()).add(folder)
    for name, folders in sorted(holders.items()):
        if "/" in name:
            role, policy_name = name.split("/", 1)
            (doc,) = [
                p["PolicyDocument"]
                for p in template[role]["Properties"]["Policies"]
                if p["PolicyName"] == policy_name
            ]
        else:
            doc = template[name]["Properties"]["PolicyDocument"]
        yield name, as_list(doc["Statement"]), folders


def test_no_role_is_granted_an_action_its_code_never_uses():
    # Given every policy of the lambda stack and the functions holding it
    unused = []
    for name, statements, folders in _policy_holders():
        used = set().union(*(_used_actions(f) for f in folders))
        # Then each action granted is used by one of those functions
        unused += [(name, a) for a in sorted(_actions(statements) - used)]
    assert not unused, unused


TABLE_OF_PARAMETER = {v: k for k, v in TABLE_PARAMETERS.items()}
# Parameter a topic/key grant refers to -> the setting the code reads to
# use it.
SETTING_OF_REF = {
    "ExecutionNotificationsTopicArn": "execution_notifications_topic_arn",
    "DRSAlertsTopicArn": "drs_alerts_topic_arn",
    "AlertsTopicKeyArn": "drs_alerts_topic_arn",
}


def _granted_resources(statement):
    """Tables (accessor names) and Ref'd parameters of a statement."""
    for resource in as_list(statement.get("Resource", [])):
        if not isinstance(resource, dict):
            continue
        if "Ref" in resource:
            yield resource["Ref"]
        text = resource.get("Fn::Sub", "")
        for parameter, table in TABLE_OF_PARAMETER.items():
            if text.endswith(f"table/{parameter}"):
                yield table


def _uses_resource(folder: str, action: str, resource: str) -> bool:
    code = bundle(folder)
    if resource in SETTING_OF_REF:
        setting = SETTING_OF_REF[resource]
        return bool(code.settings_read({setting}))
    return any(
        use.action == action and (resource in use.tables or not use.tables)
        for use in code.dynamodb_uses()
    )


def test_no_table_topic_or_key_is_granted_to_code_that_never_uses_it():
    # Given every DynamoDB, SNS and KMS grant of the lambda stack
    unused = []
    for name, statements, folders in _policy_holders():
        for statement in statements:
            for action in as_list(statement["Action"]):
                if action.split(":")[0] not in ("dynamodb", "sns", "kms"):
                    continue
                for resource in _granted_resources(statement):
                    # Then a function holding it uses that table or topic
                    if not any(
                        _uses_resource(f, action, resource) for f in folders
                    ):
                        unused.append((name, action, resource))
    assert not unused, unused
