"""Template tests: functions, environment, IAM, tables, packaging, API.

Each test parses the committed templates (cfn-lint's decoder) and checks
what seeds/000 "CloudFormation Updates Required" and CONTRACTS require.
"""

import json
import re

# subprocess runs only the repository's own cfn-lint, fixed arguments.
import subprocess  # nosec B404
import sys

import pytest

import package_lambda
from tests.unit.templates.cfn_helpers import (
    CFN,
    ROOT,
    all_statements,
    allows,
    as_list,
    code_folder,
    load,
    resources,
    role_statements,
)

LAMBDA = "lambda-stack.yaml"
COMMON = {
    "PROJECT_NAME",
    "ENVIRONMENT",
    "LOG_LEVEL",
    "POWERTOOLS_SERVICE_NAME",
}
TABLES = {
    "PROTECTION_GROUPS_TABLE",
    "RECOVERY_PLANS_TABLE",
    "EXECUTION_HISTORY_TABLE",
    "TARGET_ACCOUNTS_TABLE",
    "TAG_SYNC_CONFIG_TABLE",
}
ORCHESTRATION_ENV = {
    "PROTECTION_GROUPS_TABLE",
    "RECOVERY_PLANS_TABLE",
    "EXECUTION_HISTORY_TABLE",
    "TARGET_ACCOUNTS_TABLE",
    "EXECUTION_NOTIFICATIONS_TOPIC_ARN",
    "DRS_ALERTS_TOPIC_ARN",
    "EXECUTION_HANDLER_ARN",
    "QUERY_HANDLER_ARN",
    "WAVE_POLL_INTERVAL_SECONDS",
    "WAVE_MAX_WAIT_SECONDS",
    "CROSS_ACCOUNT_ROLE_NAME",
}
# logical id -> (folder, memory MB, timeout s, required env vars)
FUNCTIONS = {
    "DataManagementHandlerFunction": (
        "data-management-handler",
        512,
        120,
        TABLES | {"CROSS_ACCOUNT_ROLE_NAME"},
    ),
    "ExecutionHandlerFunction": (
        "execution-handler",
        512,
        300,
        TABLES
        | {
            "STATE_MACHINE_ARN",
            "QUERY_HANDLER_ARN",
            "EXECUTION_NOTIFICATIONS_TOPIC_ARN",
            "NOTIFICATION_FORMATTER_ARN",
            "CROSS_ACCOUNT_ROLE_NAME",
        },
    ),
    "QueryHandlerFunction": (
        "query-handler",
        256,
        120,
        TABLES
        | {
            "EXECUTION_HANDLER_ARN",
            "EXECUTION_NOTIFICATIONS_TOPIC_ARN",
            "CROSS_ACCOUNT_ROLE_NAME",
        },
    ),
    "DrOrchestrationStepFunctionFunction": (
        "dr-orchestration-stepfunction",
        512,
        120,
        ORCHESTRATION_ENV,
    ),
    "OrchestrationStepFunctionsFunction": (
        "orchestration-stepfunctions",
        512,
        120,
        ORCHESTRATION_ENV,
    ),
    "NotificationFormatterFunction": (
        "notification-formatter",
        256,
        60,
        {"EXECUTION_NOTIFICATIONS_TOPIC_ARN", "EXECUTION_HISTORY_TABLE"},
    ),
}
# Actions without resource-level permissions: the only ones that may be
# granted on Resource "*".
NO_RESOURCE_LEVEL = re.compile(
    r"^(drs:Describe(SourceServers|Jobs|RecoveryInstances)|"
    r"ec2:Describe\w+|states:SendTaskSuccess|iam:ListAccountAliases|"
    # X-Ray and vended log delivery (the state machine's tracing/logging)
    r"xray:(PutTraceSegments|PutTelemetryRecords|GetSampling\w+)|"
    r"logs:(\w+LogDelivery|ListLogDeliveries|PutResourcePolicy|"
    r"DescribeResourcePolicies|DescribeLogGroups))$"
)


def _function(logical):
    return load(LAMBDA)["Resources"][logical]["Properties"]


def _role_of(logical):
    return _function(logical)["Role"]["Fn::GetAtt"][0]


@pytest.mark.parametrize("logical", sorted(FUNCTIONS))
def test_function_settings_and_environment(logical):
    # Given a function of CONTRACTS section 1
    folder, memory, timeout, env = FUNCTIONS[logical]
    # When its template properties are read
    props = _function(logical)
    variables = props["Environment"]["Variables"]
    # Then runtime, code, sizing and environment are those required
    assert props["Runtime"] == "python3.12"
    assert props["Handler"] == "index.lambda_handler"
    assert props["Code"] == f"../build/lambda/{folder}.zip"
    assert (props["MemorySize"], props["Timeout"]) == (memory, timeout)
    missing = (COMMON | env) - set(variables)
    assert not missing, f"{logical} lacks {sorted(missing)}"
    assert variables["POWERTOOLS_SERVICE_NAME"] == folder


def test_every_function_has_its_own_role():
    # Given every function of the lambda stack
    functions = resources(LAMBDA, "AWS::Lambda::Function")
    # When their roles are collected
    roles = [_role_of(logical) for logical in functions]
    # Then the functions are exactly CONTRACTS' and no role is shared
    assert set(functions) == set(FUNCTIONS)
    assert len(set(roles)) == len(roles)


def test_seed_iam_statements_are_present():
    # Given the roles of the orchestration, query and execution handlers
    orch = role_statements(
        LAMBDA, _role_of("DrOrchestrationStepFunctionFunction")
    )
    query = role_statements(LAMBDA, _role_of("QueryHandlerFunction"))
    execution = role_statements(LAMBDA, _role_of("ExecutionHandlerFunction"))
    # Then seeds/000 steps 5-7 are granted
    invoke = "lambda:InvokeFunction"
    assert allows(orch, invoke, "-execution-handler-")
    assert allows(orch, invoke, "-query-handler-")
    assert allows(query, invoke, "-execution-handler-")
    for action in ("dynamodb:GetItem", "dynamodb:UpdateItem"):
        assert allows(query, action, "${ExecutionHistoryTableName}")
    for action in ("dynamodb:GetItem", "dynamodb:Query"):
        assert allows(execution, action, "${ProtectionGroupsTableName}")
    assert allows(
        execution, "dynamodb:UpdateItem", "${ExecutionHistoryTableName}"
    )
    # And the execution handler may start the worker (itself) and the machine
    assert allows(execution, invoke, "-execution-handler-")
    assert allows(execution, "states:StartExecution", "-orchestration-")


def test_only_legacy_orchestration_may_call_drs():
    # Given both orchestration roles
    generic = role_statements(
        LAMBDA, _role_of("DrOrchestrationStepFunctionFunction")
    )
    legacy = role_statements(
        LAMBDA, _role_of("OrchestrationStepFunctionsFunction")
    )

    # When their actions are listed
    def actions(statements):
        return {a for s in statements for a in as_list(s["Action"])}

    # Then only the legacy one has DRS and assume-role permissions
    assert not {a for a in actions(generic) if a.startswith("drs:")}
    assert "sts:AssumeRole" not in actions(generic)
    assert {"drs:StartRecovery", "sts:AssumeRole"} <= actions(legacy)


def test_no_wildcard_actions_and_star_resources_only_where_required():
    # Given every IAM statement in cfn/
    statements = list(all_statements())
    assert statements
    for template, logical, statement in statements:
        actions = as_list(statement["Action"])
        where = f"{template}:{logical}:{statement.get('Sid')}"
        # Then no statement grants "*", a whole service or an action
        # prefix (kms:Create*): every action is spelled out
        assert not [a for a in actions if "*" in a], where
        # And "*" resources carry only actions without resource-level
        # permissions (key policies: "*" is the key itself)
        if statement.get("Resource") == "*" and "Principal" not in statement:
            broad = [a for a in actions if not NO_RESOURCE_LEVEL.match(a)]
            assert not broad, f"{where}: {broad}"


def test_tables_match_contracts():
    # Given the database stack
    tables = resources("database-stack.yaml", "AWS::DynamoDB::Table")
    names = {}
    for logical, table in tables.items():
        props = table["Properties"]
        names[props["TableName"]["Fn::Sub"]] = props
        # Then every table is on-demand, with PITR and SSE
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        spec = props["PointInTimeRecoverySpecification"]
        assert spec["PointInTimeRecoveryEnabled"] is True
        assert props["SSESpecification"]["SSEEnabled"] is True
    slugs = [
        "protection-groups",
        "recovery-plans",
        "execution-history",
        "execution-servers",
        "target-accounts",
        "tag-sync-config",
    ]
    assert set(names) == {
        "${ProjectName}-" + s + "-${Environment}" for s in slugs
    }
    history = names["${ProjectName}-execution-history-${Environment}"]
    indexes = {
        gsi["IndexName"]: [k["AttributeName"] for k in gsi["KeySchema"]]
        for gsi in history["GlobalSecondaryIndexes"]
    }
    assert indexes == {
        "PlanIdIndex": ["planId", "startTime"],
        "StatusIndex": ["status", "startTime"],
    }
    # And the per-server records are keyed by execution, then wave#server
    servers = names["${ProjectName}-execution-servers-${Environment}"]
    assert [k["AttributeName"] for k in servers["KeySchema"]] == [
        "executionId",
        "serverKey",
    ]
    assert "GlobalSecondaryIndexes" not in servers


def _template_code_folders():
    """Folder of every function of every template (Code paths)."""
    return sorted(
        code_folder(res["Properties"])
        for path in sorted(CFN.glob("*.yaml"))
        for res in resources(path.name, "AWS::Lambda::Function").values()
    )


def test_packaged_functions_match_the_templates():
    # Given the zip paths the functions' Code names (package uploads them)
    folders = _template_code_folders()
    # Then each is package_lambda's output zip of a distinct folder
    assert len(folders) == len(set(folders))
    assert all(
        (CFN / f"../build/lambda/{f}.zip").resolve()
        == package_lambda.DEFAULT_OUTPUT / f"{f}.zip"
        for f in folders
    )
    # And package_lambda builds exactly those functions
    assert set(folders) == set(package_lambda.FUNCTIONS)


def test_function_code_is_packaged_not_fixed_s3_keys():
    # Given every template
    for path in sorted(CFN.glob("*.yaml")):
        text = path.read_text()
        # Then no function code is read from a fixed bucket key
        assert "S3Key" not in text, path.name
    # And the lambda stack no longer takes a code bucket
    assert "SourceBucket" not in load(LAMBDA)["Parameters"]


@pytest.mark.parametrize("folder", _template_code_folders())
def test_referenced_function_zip_builds(folder, tmp_path):
    # Given a function folder named by a template's Code path
    handler = ROOT / "lambda" / folder / "index.py"
    assert handler.is_file(), f"lambda/{folder}/index.py is missing"
    # When its zip is built
    target = package_lambda.build_zip(folder, tmp_path)
    # Then it exists, under the name the Code path gives, with the handler
    import zipfile

    assert target.name == f"{folder}.zip"
    with zipfile.ZipFile(target) as archive:
        assert "index.py" in archive.namelist()


def test_notification_plan_filter_is_a_master_parameter():
    # Given the master template and the notifications stack
    master = load("master-template.yaml")
    stack = master["Resources"]["NotificationsStack"]["Properties"]
    subscription = load("notifications-stack.yaml")["Resources"][
        "AdminExecutionSubscription"
    ]["Properties"]
    # Then the plan filter defaults to every plan and is passed through
    assert master["Parameters"]["NotificationPlanIdFilter"]["Default"] == ""
    assert stack["Parameters"]["NotificationPlanIdFilter"] == {
        "Ref": "NotificationPlanIdFilter"
    }
    # And it filters the admin subscription on the planId attribute
    assert subscription["FilterPolicyScope"] == "MessageAttributes"
    assert subscription["FilterPolicy"]["Fn::If"][1] == {
        "planId": [{"Ref": "NotificationPlanIdFilter"}]
    }


def _api_body():
    api = load("api-gateway-stack.yaml")["Resources"]["RestApi"]
    return api["Properties"]["Body"]


def test_api_has_56_authorized_endpoints_and_open_health():
    # Given the REST API body and the RBAC endpoint table
    from shared.rbac import ENDPOINTS, OUT_OF_SCOPE

    body = _api_body()
    methods = {
        (m.upper(), path): op
        for path, ops in body["paths"].items()
        for m, op in ops.items()
        if m != "options"
    }
    authorized = {
        k
        for k, op in methods.items()
        if op.get("security") == [{"CognitoAuthorizer": []}]
    }
    # Then the 56 endpoints and the out-of-scope calls are exactly the
    # authorized methods
    expected = {(e.method, e.path) for e in ENDPOINTS}
    assert len(expected) == 56
    assert authorized == expected | set(OUT_OF_SCOPE)
    # And each endpoint reaches its owning handler
    for e in ENDPOINTS:
        uri = methods[(e.method, e.path)]["x-amazon-apigateway-integration"]
        parts = [w.title() for w in e.handler.split("-")]
        assert "".join(parts) + "FunctionArn" in uri["uri"]["Fn::Sub"]
    # And each out-of-scope call is answered 404 NOT_FOUND by the gateway
    for key in OUT_OF_SCOPE:
        integration = methods[key]["x-amazon-apigateway-integration"]
        assert integration["type"] == "mock"
        answer = integration["responses"]["default"]
        assert answer["statusCode"] == "404"
        template = json.loads(answer["responseTemplates"]["application/json"])
        assert template["error"] == "NOT_FOUND"
        assert "out of scope" in template["message"]
    # And /health is the only open method, every path answers CORS
    assert set(methods) - authorized == {("GET", "/health")}
    assert "security" not in methods[("GET", "/health")]
    assert all("options" in ops for ops in body["paths"].values())


def test_cognito_groups_are_the_contract_roles():
    # Given the user pool groups
    from shared.rbac import ROLE_PERMISSIONS

    groups = resources("api-gateway-stack.yaml", "AWS::Cognito::UserPoolGroup")
    names = {g["Properties"]["GroupName"] for g in groups.values()}
    # Then they are the five roles of CONTRACTS section 6
    assert names == set(ROLE_PERMISSIONS)


def test_api_template_is_generated_from_the_endpoint_table():
    # Given the generator (cfn/api_stack_generator.py)
    sys.path.insert(0, str(CFN))
    import api_stack_generator

    # When it renders the template
    text = api_stack_generator.render(api_stack_generator.load_endpoints())
    # Then the committed template is up to date
    assert (CFN / "api-gateway-stack.yaml").read_text() == text


def test_master_wiring_matches_nested_templates():
    # Given the nested stacks of the master template
    stacks = resources("master-template.yaml", "AWS::CloudFormation::Stack")
    assert len(stacks) == 7
    for logical, stack in stacks.items():
        url = stack["Properties"]["TemplateURL"]
        nested = load(url)
        given = stack["Properties"].get("Parameters", {})
        params = nested["Parameters"]
        # Then every passed parameter exists, every required one is passed
        assert set(given) <= set(params), logical
        required = {n for n, p in params.items() if "Default" not in p}
        assert required <= set(given), f"{logical}: {required - set(given)}"
        # And every output consumed exists in the producing template
        for value in given.values():
            if "Fn::GetAtt" in value:
                source, attribute = value["Fn::GetAtt"]
                producer = stacks[source]["Properties"]["TemplateURL"]
                output = attribute.split(".", 1)[1]
                assert output in load(producer)["Outputs"], attribute


def test_tag_sync_schedule_invokes_data_management_directly():
    # Given the EventBridge rules
    rules = resources("eventbridge-stack.yaml", "AWS::Events::Rule")
    target = rules["TagSyncScheduleRule"]["Properties"]["Targets"][0]
    patterns = [r["Properties"].get("EventPattern") for r in rules.values()]
    # Then the schedule sends the direct-invocation shape, naming the
    # schedule as its trigger (so the enabled setting can stop it)
    sent = json.loads(target["Input"])
    assert sent == {
        "operation": "handle_drs_tag_sync",
        "body": {"trigger": "schedule"},
    }
    assert target["Arn"] == {"Ref": "DataManagementHandlerFunctionArn"}
    # And DRS launch results are routed
    assert any(
        p and p["detail-type"] == ["DRS Source Server Launch Result"]
        for p in patterns
    )


def test_cross_account_role_requires_external_id():
    # Given the spoke account role
    role = load("cross-account-role.yaml")["Resources"]["CrossAccountRole"]
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    # Then only the hub may assume it, with the external id
    assert trust["Condition"]["StringEquals"]["sts:ExternalId"] == {
        "Ref": "ExternalId"
    }
    assert "HubAccountId" in json.dumps(trust["Principal"])
    params = load("cross-account-role.yaml")["Parameters"]
    assert params["CrossAccountRoleName"]["Default"] == (
        "DRSOrchestrationCrossAccountRole"
    )


def test_cfn_lint_is_clean():
    # Given the repository's cfn-lint configuration
    cfn_lint = ROOT / ".venv" / "bin" / "cfn-lint"
    command = [str(cfn_lint)] if cfn_lint.exists() else ["cfn-lint"]
    # When cfn-lint runs over cfn/
    result = subprocess.run(  # nosec B603
        command + ["--config-file", ".cfnlintrc.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # Then it reports nothing
    assert result.returncode == 0, result.stdout + result.stderr
