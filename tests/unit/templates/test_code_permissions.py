"""Template vs code: each function's role and environment cover what the
code bundled in its zip actually calls and reads (static reachability from
``index.lambda_handler``, see ``code_reach``)."""

import pytest

from shared.config import ENV_VARS
from tests.unit.templates.cfn_helpers import allows, load, role_statements
from tests.unit.templates.code_reach import bundle

LAMBDA = "lambda-stack.yaml"
# shared.tables accessor -> the lambda stack parameter naming its table.
TABLE_PARAMETERS = {
    "protection_groups_table": "${ProtectionGroupsTableName}",
    "recovery_plans_table": "${RecoveryPlansTableName}",
    "execution_history_table": "${ExecutionHistoryTableName}",
    "target_accounts_table": "${TargetAccountsTableName}",
    "tag_sync_config_table": "${TagSyncConfigTableName}",
}
# Set by the Lambda runtime itself, never by the template.
RUNTIME_VARIABLES = {"AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME"}


def _functions():
    """folder -> (function properties, role logical id)."""
    found = {}
    for res in load(LAMBDA)["Resources"].values():
        if res["Type"] != "AWS::Lambda::Function":
            continue
        props = res["Properties"]
        folder = props["Code"]["S3Key"][len("lambda/") : -len(".zip")]
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
