"""Notification formatting, publishing and the notification-formatter."""

import json

import boto3
import pytest

from shared.notifications import build_message, publish_execution_event
from tests.helpers import REGION, load_handler


def test_paused_message_tells_how_to_resume():
    # Given a paused execution's details
    details = {
        "executionId": "e-1",
        "planId": "p-1",
        "planName": "ERP <prod>",
        "pausedBeforeWave": 1,
    }
    # When it is formatted
    message = build_message("EXECUTION_PAUSED", details)
    # Then subject, text and HTML say what happened and how to resume
    assert message["subject"] == (
        "DR execution paused - action required: ERP <prod>"
    )
    assert "POST /executions/e-1/resume" in message["text"]
    assert '"operation": "resume_execution"' in message["text"]
    # (stored zero-based: index 1 is the plan's second wave)
    assert "Paused before wave (position in the plan): 2" in message["text"]
    assert "POST /executions/e-1/resume" in message["html"]
    assert "ERP &lt;prod&gt;" in message["html"]  # escaped


def test_subject_is_clipped_to_sns_limits():
    message = build_message(
        "EXECUTION_COMPLETED", {"planName": "é" + "x" * 200}
    )
    assert len(message["subject"]) == 100
    assert message["subject"].isascii()
    assert "resume" not in message["text"]


def test_publish_failure_never_raises(mocked_aws):
    # Given a topic that does not exist
    sns = boto3.client("sns", region_name=REGION)
    # When an event is published there
    sent = publish_execution_event(
        "EXECUTION_FAILED",
        {"planId": "p"},
        sns_client=sns,
        topic_arn=f"arn:aws:sns:{REGION}:123456789012:missing",
    )
    # Then it reports False instead of failing the caller
    assert sent is False


def test_plan_filter_policy_receives_only_its_plan(lc):
    # Given a subscriber filtering on plan p2
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName="p2-only")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(
        QueueUrl=queue, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    boto3.client("sns", region_name=REGION).subscribe(
        TopicArn=lc.topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"FilterPolicy": json.dumps({"planId": ["p2"]})},
    )
    # When events of plans p1 and p2 are published
    publish_execution_event("EXECUTION_STARTED", {"planId": "p1"})
    publish_execution_event("EXECUTION_STARTED", {"planId": "p2"})
    # Then the filtered subscriber got only p2's, as JSON with the HTML
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
    (message,) = got["Messages"]
    envelope = json.loads(message["Body"])
    body = json.loads(envelope["Message"])
    assert body["details"]["planId"] == "p2"
    assert body["eventType"] == "EXECUTION_STARTED"
    assert body["html"].startswith("<h2>")
    assert len(lc.notifications()) == 2


def _formatter():
    return load_handler("notification-formatter").lambda_handler


def test_formatter_direct_event_reads_the_execution(lc):
    # Given an execution that the engine paused
    lc.plan("p1", ("g1", lc.servers(1)))
    execution_id = lc.start("p1")
    lc.notifications()
    lc.set_record(execution_id, status="PAUSED", pausedBeforeWave=2)
    # When the formatter is invoked with the event type and execution id
    result = _formatter()(
        {"eventType": "EXECUTION_PAUSED", "executionId": execution_id}, None
    )
    # Then a paused notification with resume instructions was published
    assert result["published"] is True
    (note,) = lc.notifications()
    assert note["Subject"].startswith("DR execution paused")
    assert f"/executions/{execution_id}/resume" in note["Message"]
    assert note["MessageAttributes"]["planId"]["Value"] == "p1"


def test_formatter_drs_eventbridge_event(lc, monkeypatch):
    # Given a DRS launch-result event the simulator published
    servers = lc.servers(1)
    lc.drs().start_recovery(
        isDrill=True, sourceServers=[{"sourceServerID": servers[0]}]
    )
    lc.sim.clock.advance(120)
    lc.sim.tick()
    (event,) = lc.sim.events
    # When the formatter receives it
    result = _formatter()(event, None)
    # Then a readable launch-result notification went to the topic
    assert result == {
        "eventType": "DRS_LAUNCH_RESULT",
        "published": True,
        "topicArn": lc.topic_arn,
    }
    (note,) = lc.notifications()
    assert note["Subject"].startswith("DRS recovery launch result")
    assert "RECOVERY_LAUNCH_SUCCEEDED" in note["Message"]
    assert servers[0] in note["Message"]


def test_formatter_state_machine_failure_event(lc):
    lc.plan("p1", ("g1", lc.servers(1)))
    execution_id = lc.start("p1")
    lc.notifications()
    result = _formatter()(
        {
            "source": "aws.states",
            "detail-type": "Step Functions Execution Status Change",
            "detail": {
                "name": execution_id,
                "status": "FAILED",
                "error": "States.TaskFailed",
                "cause": "DRS exploded",
            },
        },
        None,
    )
    assert result["eventType"] == "EXECUTION_FAILED"
    (note,) = lc.notifications()
    assert "DRS exploded" in note["Message"]


@pytest.mark.parametrize(
    "event",
    [
        {"eventType": "EXECUTION_EXPLODED", "executionId": "x"},
        {"eventType": "EXECUTION_PAUSED"},
        {"something": "else"},
    ],
)
def test_formatter_bad_events_answer_validation_error(lc, event):
    result = _formatter()(event, None)
    assert result["error"] == "VALIDATION_ERROR"
    assert lc.notifications() == []
