"""moto fixes and EventBridge delivery the local cloud installs."""

import json

import boto3
import pytest
from moto import mock_aws

from localcloud import event_targets, lambda_runtime, moto_patches
from localcloud.lambda_runtime import LambdaRuntime, make_zip

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/unit"


@pytest.fixture
def patched():
    moto_patches.install()
    event_targets.install()
    try:
        yield
    finally:
        event_targets.uninstall()
        moto_patches.uninstall()


def test_a_machine_runs_again_after_an_execution(patched):
    config = {"stepfunctions": {"execute_state_machine": True}}
    with mock_aws(config=config):
        sfn = boto3.client("stepfunctions", region_name=REGION)
        machine = sfn.create_state_machine(
            name="again",
            definition=json.dumps(
                {
                    "StartAt": "P",
                    "States": {"P": {"Type": "Pass", "End": True}},
                }
            ),
            roleArn=ROLE,
        )["stateMachineArn"]

        # When it is started twice without execution names
        first = sfn.start_execution(stateMachineArn=machine)["executionArn"]
        second = sfn.start_execution(stateMachineArn=machine)["executionArn"]

        # Then both started, each with a generated name
        assert first != second
        assert not first.endswith(":None")
        listed = sfn.list_executions(stateMachineArn=machine)["executions"]
        assert len(listed) == 2


def test_rule_targets_lambda_and_sns_are_delivered(patched, tmp_path):
    runtime = LambdaRuntime(tmp_path / "work", tmp_path / "logs")
    lambda_runtime.install(runtime)
    marker = tmp_path / "event.json"
    source = (
        "import json\n\ndef handler(event, context):\n"
        f"    open({str(marker)!r}, 'w').write(json.dumps(event))\n"
    )
    config = {"lambda": {"use_docker": False}}
    try:
        with mock_aws(config=config):
            # Given a rule targeting a function and a topic
            role = boto3.client("iam").create_role(
                RoleName="unit", AssumeRolePolicyDocument="{}"
            )["Role"]["Arn"]
            lam = boto3.client("lambda", region_name=REGION)
            fn_arn = lam.create_function(
                FunctionName="on-event",
                Runtime="python3.12",
                Role=role,
                Handler="index.handler",
                Code={"ZipFile": make_zip({"index.py": source})},
            )["FunctionArn"]
            topic = boto3.client("sns", region_name=REGION).create_topic(
                Name="alerts"
            )["TopicArn"]
            events = boto3.client("events", region_name=REGION)
            events.put_rule(
                Name="drs", EventPattern=json.dumps({"source": ["aws.drs"]})
            )
            events.put_targets(
                Rule="drs",
                Targets=[
                    {"Id": "fn", "Arn": fn_arn},
                    {"Id": "t", "Arn": topic},
                ],
            )

            # When a matching event is put
            events.put_events(
                Entries=[
                    {
                        "Source": "aws.drs",
                        "DetailType": "DRS Source Server Launch Result",
                        "Detail": json.dumps({"state": "X"}),
                    }
                ]
            )

            # Then the function ran with the event and the topic got it
            assert runtime.wait_async(10)
            assert json.loads(marker.read_text())["detail"] == {"state": "X"}
            from moto.sns.models import sns_backends

            sent = sns_backends["123456789012"][REGION].topics[topic]
            message = json.loads(sent.sent_notifications[0][1])
            assert message["detail-type"] == "DRS Source Server Launch Result"
    finally:
        lambda_runtime.uninstall()
        runtime.stop()


@mock_aws
def test_only_enabled_rules_with_a_matching_pattern_get_events(patched):
    # Given a schedule rule, a disabled DRS rule, an enabled DRS rule and
    # an enabled rule of another source, each targeting its own topic
    sns = boto3.client("sns", region_name=REGION)
    events = boto3.client("events", region_name=REGION)
    drs = json.dumps({"source": ["aws.drs"]})
    rules = {
        "schedule": {"ScheduleExpression": "rate(15 minutes)"},
        "disabled": {"EventPattern": drs, "State": "DISABLED"},
        "enabled": {"EventPattern": drs},
        "other": {"EventPattern": json.dumps({"source": ["aws.ec2"]})},
    }
    topics = {}
    for name, options in rules.items():
        topics[name] = sns.create_topic(Name=name)["TopicArn"]
        events.put_rule(Name=name, **options)
        events.put_targets(
            Rule=name, Targets=[{"Id": "t", "Arn": topics[name]}]
        )

    # When a DRS event is put
    events.put_events(
        Entries=[
            {
                "Source": "aws.drs",
                "DetailType": "DRS Source Server Launch Result",
                "Detail": json.dumps({"state": "X"}),
            }
        ]
    )

    # Then only the enabled DRS rule's topic received it
    from moto.sns.models import sns_backends

    backend = sns_backends["123456789012"][REGION]
    received = {
        name: len(backend.topics[arn].sent_notifications)
        for name, arn in topics.items()
    }
    assert received == {"schedule": 0, "disabled": 0, "enabled": 1, "other": 0}
