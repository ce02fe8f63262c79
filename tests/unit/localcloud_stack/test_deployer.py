"""The strict template deployer: the real templates, and its errors."""

import json
import textwrap

import boto3
import pytest
from moto import mock_aws

import package_lambda
from localcloud.deployer import StackDeployer
from localcloud.resources import DeployContext
from localcloud.templates import CFN_DIR, TemplateError

ACCOUNT = "123456789012"
REGION = "us-east-1"
PREFIX = "hrp-drs-tech-adapter"


def no_client(service):
    raise AssertionError(f"no {service} call expected")


def context(client=no_client, template_dir=CFN_DIR, build_zip=None):
    return DeployContext(
        client=client,
        account=ACCOUNT,
        region=REGION,
        template_dir=template_dir,
        stack_name="unit",
        build_zip=build_zip or (lambda folder: None),
    )


def write(tmp_path, text, name="t.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def moto_ctx(tmp_path):
    zips = {}

    def build_zip(folder):
        if folder not in zips:
            path = package_lambda.build_zip(folder, tmp_path / "zips")
            zips[folder] = path.read_bytes()
        return zips[folder]

    with mock_aws(config={"lambda": {"use_docker": False}}):
        yield context(
            client=lambda s: boto3.client(s, region_name=REGION),
            build_zip=build_zip,
        )


def deploy_master(ctx, **params):
    base = {"WavePollIntervalSeconds": 1}
    base.update(params)
    return StackDeployer(ctx).deploy(CFN_DIR / "master-template.yaml", base)


def test_master_template_creates_resources_from_templates(moto_ctx):
    # When the master template is deployed
    stack = deploy_master(moto_ctx)

    # Then the tables have the template's keys and indexes
    ddb = boto3.client("dynamodb", region_name=REGION)
    table = ddb.describe_table(TableName=f"{PREFIX}-execution-history-dev")
    indexes = {
        i["IndexName"] for i in table["Table"]["GlobalSecondaryIndexes"]
    }
    assert indexes == {"PlanIdIndex", "StatusIndex"}
    assert len(ddb.list_tables()["TableNames"]) == 6
    servers = ddb.describe_table(TableName=f"{PREFIX}-execution-servers-dev")
    assert [k["AttributeName"] for k in servers["Table"]["KeySchema"]] == [
        "executionId",
        "serverKey",
    ]
    # and the functions carry the template's handler, timeout and env
    lam = boto3.client("lambda", region_name=REGION)
    fn = lam.get_function(FunctionName=f"{PREFIX}-dr-orch-sf-dev")
    config = fn["Configuration"]
    assert config["Handler"] == "index.lambda_handler"
    assert config["Timeout"] == 120
    env = config["Environment"]["Variables"]
    assert env["WAVE_POLL_INTERVAL_SECONDS"] == "1"
    assert env["QUERY_HANDLER_ARN"] == (
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"
        f"{PREFIX}-query-handler-dev"
    )
    # and the state machine runs the generic orchestration function
    arn = stack.outputs["StateMachineArn"]
    sfn = boto3.client("stepfunctions", region_name=REGION)
    definition = sfn.describe_state_machine(stateMachineArn=arn)["definition"]
    assert f"function:{PREFIX}-dr-orch-sf-dev" in definition
    assert "${" not in definition
    # and the DRS launch-result rule targets the alerts topic
    events = boto3.client("events", region_name=REGION)
    targets = events.list_targets_by_rule(
        Rule=f"{PREFIX}-drs-launch-result-dev"
    )["Targets"]
    assert targets[0]["Arn"] == stack.outputs["DRSAlertsTopicArn"]


def test_legacy_orchestration_is_selectable(moto_ctx):
    # When deployed with the rollback switch
    stack = deploy_master(moto_ctx, OrchestrationImplementation="legacy")

    # Then the state machine calls the legacy function
    sfn = boto3.client("stepfunctions", region_name=REGION)
    definition = sfn.describe_state_machine(
        stateMachineArn=stack.outputs["StateMachineArn"]
    )["definition"]
    assert f"function:{PREFIX}-orch-sf-dev" in definition
    assert f"function:{PREFIX}-dr-orch-sf-dev" not in definition


def test_observability_resources_deploy_locally(moto_ctx):
    # When deployed with a metrics namespace of its own
    stack = deploy_master(moto_ctx, MetricsNamespace="DRSOrchTest")

    # Then the functions emit metrics into it
    lam = boto3.client("lambda", region_name=REGION)
    fn = lam.get_function(FunctionName=f"{PREFIX}-query-handler-dev")
    env = fn["Configuration"]["Environment"]["Variables"]
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "DRSOrchTest"
    # and the state machine's log group exists in moto
    logs = boto3.client("logs", region_name=REGION)
    groups = logs.describe_log_groups(logGroupNamePrefix="/aws/vendedlogs/")
    assert [g["logGroupName"] for g in groups["logGroups"]] == [
        f"/aws/vendedlogs/states/{PREFIX}-orchestration-dev"
    ]
    # and the dashboard and alarms are placeholders (AWS only)
    monitoring = stack.nested["MonitoringStack"].resources.values()
    kinds = {r.type for r in monitoring}
    assert kinds == {"AWS::CloudWatch::Dashboard", "AWS::CloudWatch::Alarm"}
    assert not any(r.emulated for r in monitoring)


def test_notification_plan_filter_reaches_the_admin_subscription(moto_ctx):
    # When deployed with an admin e-mail and a plan filter
    stack = deploy_master(
        moto_ctx,
        AdminEmail="admin@example.com",
        NotificationPlanIdFilter="plan-1",
    )

    # Then the admin subscription to executions only takes that plan
    sns = boto3.client("sns", region_name=REGION)
    subscriptions = sns.list_subscriptions_by_topic(
        TopicArn=stack.outputs["ExecutionNotificationsTopicArn"]
    )["Subscriptions"]
    assert [s["Endpoint"] for s in subscriptions] == ["admin@example.com"]
    attributes = sns.get_subscription_attributes(
        SubscriptionArn=subscriptions[0]["SubscriptionArn"]
    )["Attributes"]
    assert json.loads(attributes["FilterPolicy"]) == {"planId": ["plan-1"]}
    assert attributes["FilterPolicyScope"] == "MessageAttributes"


def test_cross_account_role_trusts_hub_with_external_id(moto_ctx):
    # When the spoke role template is deployed
    StackDeployer(moto_ctx).deploy(
        CFN_DIR / "cross-account-role.yaml",
        {"HubAccountId": "111122223333", "ExternalId": "ext-12345678"},
    )

    # Then the role trusts the hub with the ExternalId condition
    role = boto3.client("iam").get_role(
        RoleName="DRSOrchestrationCrossAccountRole"
    )["Role"]
    doc = role["AssumeRolePolicyDocument"]
    if isinstance(doc, str):
        doc = json.loads(doc)
    statement = doc["Statement"][0]
    assert statement["Principal"]["AWS"] == "arn:aws:iam::111122223333:root"
    assert statement["Condition"]["StringEquals"] == {
        "sts:ExternalId": "ext-12345678"
    }


def test_unsupported_resource_type_is_an_error_naming_it(tmp_path):
    # Given a template with a type the local cloud does not create
    path = write(
        tmp_path,
        """
        Resources:
          Queue:
            Type: AWS::SQS::Queue
        """,
    )

    # When deployed, Then the error names the template and the resource
    with pytest.raises(TemplateError, match=r"t.yaml:Queue.*AWS::SQS::Queue"):
        StackDeployer(context()).deploy(path)


def test_unsupported_intrinsic_is_an_error_naming_the_resource(tmp_path):
    path = write(
        tmp_path,
        """
        Resources:
          Topic:
            Type: AWS::SNS::Topic
            Properties:
              TopicName: !ImportValue other-stack-name
        """,
    )

    with pytest.raises(TemplateError, match=r"t.yaml:Topic.*Fn::ImportValue"):
        StackDeployer(context()).deploy(path)


def _function_template(tmp_path, code):
    return write(
        tmp_path,
        f"""
        Resources:
          Fn:
            Type: AWS::Lambda::Function
            Properties:
              Role: arn:aws:iam::123456789012:role/r
              Handler: index.lambda_handler
              Code: {code}
        """,
    )


def test_function_code_path_names_the_folder_it_deploys(tmp_path):
    # Given a function whose Code is the local path of a packaged zip
    path = _function_template(tmp_path, "../build/lambda/query-handler.zip")
    asked = []

    def build_zip(folder):
        asked.append(folder)
        return None  # not registered: no AWS call needed

    # When deployed
    stack = StackDeployer(context(build_zip=build_zip)).deploy(path)

    # Then the zip built is that folder's
    assert asked == ["query-handler"]
    assert stack.resources["Fn"].emulated is False


@pytest.mark.parametrize(
    "code, message",
    [
        (
            "../build/lambda/no-such-function.zip",
            r"names lambda/no-such-function, which package_lambda.py does "
            r"not build",
        ),
        (
            "{S3Bucket: b, S3Key: lambda/query-handler.zip}",
            r"Code must be the local path of a packaged zip",
        ),
        ("../lambda/query-handler", r"Code must be the local path"),
    ],
)
def test_function_code_not_a_packaged_zip_path_is_an_error(
    tmp_path, code, message
):
    # Given a function whose Code is not the path of a zip package_lambda
    # builds
    path = _function_template(tmp_path, code)

    # When deployed, Then the error names the resource and the problem
    with pytest.raises(TemplateError, match=rf"t.yaml:Fn: .*{message}"):
        StackDeployer(context()).deploy(path)


def test_parameters_are_checked(tmp_path):
    path = write(
        tmp_path,
        """
        Parameters:
          Needed:
            Type: String
          Mode:
            Type: String
            Default: a
            AllowedValues: [a, b]
        Resources: {}
        """,
    )
    deployer = StackDeployer(context())

    with pytest.raises(TemplateError, match="parameter Needed has no"):
        deployer.deploy(path)
    with pytest.raises(TemplateError, match="Mode='c' not in AllowedValues"):
        deployer.deploy(path, {"Needed": "x", "Mode": "c"})
    with pytest.raises(TemplateError, match="not declared: Other"):
        deployer.deploy(path, {"Needed": "x", "Other": "y"})


def test_not_emulated_types_get_placeholders(tmp_path):
    # Given API Gateway resources (not emulated) referenced by an output
    path = write(
        tmp_path,
        """
        Resources:
          Api:
            Type: AWS::ApiGateway::RestApi
          Permission:
            Type: AWS::Lambda::Permission
        Outputs:
          Url:
            Value: !Sub "https://${Api}.execute-api/${Api.RootResourceId}"
        """,
    )
    deployer = StackDeployer(context())

    # When deployed
    stack = deployer.deploy(path)

    # Then nothing was created, each type is noted and values resolve
    assert deployer.skipped_types == {
        "AWS::ApiGateway::RestApi",
        "AWS::Lambda::Permission",
    }
    assert stack.outputs["Url"] == (
        "https://local-Api.execute-api/local-Api-RootResourceId"
    )


def test_ref_to_conditioned_out_resource_is_an_error(tmp_path):
    path = write(
        tmp_path,
        """
        Conditions:
          Never: !Equals [a, b]
        Resources:
          Maybe:
            Type: AWS::SQS::Queue
            Condition: Never
        Outputs:
          Out:
            Value: !Ref Maybe
        """,
    )

    with pytest.raises(TemplateError, match="Ref Maybe.*conditioned out"):
        StackDeployer(context()).deploy(path)


def test_definition_placeholder_without_substitution_is_an_error(tmp_path):
    (tmp_path / "sm.json").write_text(
        json.dumps({"StartAt": "A", "Comment": "${Missing}", "States": {}})
    )
    path = write(
        tmp_path,
        """
        Resources:
          Machine:
            Type: AWS::StepFunctions::StateMachine
            Properties:
              RoleArn: arn:aws:iam::123456789012:role/r
              DefinitionS3Location: sm.json
              DefinitionSubstitutions:
                Other: x
        """,
    )
    ctx = context(template_dir=tmp_path)

    with pytest.raises(TemplateError, match=r"t.yaml:Machine.*Missing"):
        StackDeployer(ctx).deploy(path)


def test_nested_stack_url_must_be_local(tmp_path):
    path = write(
        tmp_path,
        """
        Resources:
          Child:
            Type: AWS::CloudFormation::Stack
            Properties:
              TemplateURL: https://bucket.s3.amazonaws.com/child.yaml
        """,
    )

    with pytest.raises(TemplateError, match="t.yaml:Child.*TemplateURL"):
        StackDeployer(context()).deploy(path)


def test_resolver_handles_novalue_mappings_and_split():
    from localcloud.templates import Resolver, pseudo_parameters

    # Given a resolver with a mapping and the pseudo parameters
    resolver = Resolver(
        {"Env": "dev", **pseudo_parameters()},
        mappings={"Sizes": {"dev": {"Memory": 256}}},
    )

    # When properties use AWS::NoValue, FindInMap and Split
    props = resolver.resolve(
        {
            "Gone": {"Ref": "AWS::NoValue"},
            "List": ["a", {"Ref": "AWS::NoValue"}],
            "Memory": {"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Memory"]},
            "Parts": {"Fn::Split": [",", "x,y"]},
            "Where": {"Fn::Sub": "${AWS::Region}/${AWS::AccountId}"},
        }
    )

    # Then
    assert props == {
        "List": ["a"],
        "Memory": 256,
        "Parts": ["x", "y"],
        "Where": "us-east-1/123456789012",
    }
    with pytest.raises(TemplateError, match="FindInMap Sizes.prod.Memory"):
        resolver.resolve({"Fn::FindInMap": ["Sizes", "prod", "Memory"]})
