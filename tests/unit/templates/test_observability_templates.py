"""Template tests: tracing, logging, metrics, dashboard and alarms."""

import json

import pytest

from shared import metrics
from tests.unit.templates.cfn_helpers import (
    as_list,
    load,
    resources,
    role_statements,
)

LAMBDA = "lambda-stack.yaml"
SFN = "step-functions-stack.yaml"
MONITORING = "monitoring-stack.yaml"
MASTER = "master-template.yaml"
FUNCTIONS = resources(LAMBDA, "AWS::Lambda::Function")
XRAY_POLICY = "arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"


@pytest.mark.parametrize("logical", sorted(FUNCTIONS))
def test_every_function_is_traced_and_emits_metrics(logical):
    # Given a function of the lambda stack
    props = FUNCTIONS[logical]["Properties"]
    variables = props["Environment"]["Variables"]
    role = load(LAMBDA)["Resources"][props["Role"]["Fn::GetAtt"][0]]
    # Then X-Ray tracing is active and its role may send segments
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert {"Fn::Sub": XRAY_POLICY} in role["Properties"]["ManagedPolicyArns"]
    # And powertools has its service and the one metrics namespace
    assert variables["POWERTOOLS_SERVICE_NAME"]
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == {
        "Ref": "MetricsNamespace"
    }


def test_the_state_machine_is_traced_and_logs_to_its_log_group():
    # Given the state machine and its role
    machine = resources(SFN, "AWS::StepFunctions::StateMachine")
    (props,) = [m["Properties"] for m in machine.values()]
    statements = role_statements(SFN, props["RoleArn"]["Fn::GetAtt"][0])
    actions = {a for s in statements for a in as_list(s["Action"])}
    params = load(SFN)["Parameters"]
    # Then X-Ray tracing is enabled
    assert props["TracingConfiguration"] == {"Enabled": True}
    # And errors (or more) are logged to the stack's log group
    logging = props["LoggingConfiguration"]
    assert logging["Level"] == {"Ref": "StateMachineLogLevel"}
    assert params["StateMachineLogLevel"]["Default"] in ("ERROR", "ALL")
    (destination,) = logging["Destinations"]
    arn = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]
    log_group = arn["Fn::GetAtt"][0]
    assert resources(SFN, "AWS::Logs::LogGroup")[log_group]
    # And the role may send traces and set up the log delivery
    assert {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "logs:CreateLogDelivery",
        "logs:PutResourcePolicy",
        "logs:DescribeLogGroups",
    } <= actions


def test_the_dashboard_shows_every_business_metric_of_the_namespace():
    # Given the dashboard of the monitoring stack
    (dashboard,) = resources(MONITORING, "AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(body)["widgets"]
    shown = [
        metric
        for widget in widgets
        for metric in widget["properties"]["metrics"]
    ]
    # Then every metric the code emits is drawn from the namespace
    # parameter with the code's one dimension
    ours = [m for m in shown if m[0] == "${MetricsNamespace}"]
    assert {m[1] for m in ours} == set(metrics.ALL_METRICS)
    assert {tuple(m[2:4]) for m in ours} == {
        ("service", "${ProjectName}-${Environment}")
    }


def _alarms():
    return {
        logical: res["Properties"]
        for logical, res in resources(
            MONITORING, "AWS::CloudWatch::Alarm"
        ).items()
    }


def _watching(namespace, metric):
    return [
        props
        for props in _alarms().values()
        if props["Namespace"] == namespace and props["MetricName"] == metric
    ]


def test_required_alarms_exist():
    # Then failed executions and DRS throttles (the code's metrics, its
    # dimension) and state machine failures are alarmed
    service = {
        "Name": "service",
        "Value": {"Fn::Sub": "${ProjectName}-${Environment}"},
    }
    for metric in (metrics.EXECUTIONS_FAILED, metrics.DRS_THROTTLES):
        (alarm,) = _watching({"Ref": "MetricsNamespace"}, metric)
        assert alarm["Dimensions"] == [service]
    (machine,) = _watching("AWS/States", "ExecutionsFailed")
    assert machine["Dimensions"] == [
        {"Name": "StateMachineArn", "Value": {"Ref": "StateMachineArn"}}
    ]
    # And every function's errors
    errors = _watching("AWS/Lambda", "Errors")
    watched = {a["Dimensions"][0]["Value"]["Ref"] for a in errors}
    outputs = load(LAMBDA)["Outputs"]
    names = {k for k, v in outputs.items() if k.endswith("FunctionName")}
    assert watched == names and len(names) == len(FUNCTIONS)
    for name in names:
        assert outputs[name]["Value"]["Ref"] in FUNCTIONS


def test_every_alarm_notifies_the_alerts_topic():
    # Given the monitoring stack as the master wires it
    stack = load(MASTER)["Resources"]["MonitoringStack"]["Properties"]
    given = stack["Parameters"]
    # Then its topic is the DRS alerts topic
    assert given["AlertsTopicArn"] == {
        "Fn::GetAtt": ["NotificationsStack", "Outputs.DRSAlertsTopicArn"]
    }
    # And every alarm notifies it
    for logical, props in _alarms().items():
        assert props["AlarmActions"] == [{"Ref": "AlertsTopicArn"}], logical
    # And CloudWatch may publish to it and use its key
    notifications = load("notifications-stack.yaml")["Resources"]
    topic_policy = notifications["DRSAlertsTopicPolicy"]["Properties"]
    key_policy = notifications["AlertsTopicKey"]["Properties"]["KeyPolicy"]
    for statements, action in (
        (topic_policy["PolicyDocument"]["Statement"], "sns:Publish"),
        (key_policy["Statement"], "kms:GenerateDataKey"),
    ):
        assert any(
            s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
            and action in as_list(s["Action"])
            for s in statements
        )


def test_one_namespace_parameter_feeds_functions_and_monitoring():
    # Given the master template
    master = load(MASTER)
    stacks = master["Resources"]
    # Then the lambda and monitoring stacks get the same namespace
    for logical in ("LambdaStack", "MonitoringStack"):
        given = stacks[logical]["Properties"]["Parameters"]
        assert given["MetricsNamespace"] == {"Ref": "MetricsNamespace"}
    # And its default is the code's default namespace
    default = master["Parameters"]["MetricsNamespace"]["Default"]
    assert default == metrics.metrics.namespace == "DRSOrchestration"
