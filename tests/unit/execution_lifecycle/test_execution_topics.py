"""An execution's own ``topicArn`` (issue 20): validated at the start
(this account and region, a project-prefixed name), recorded, and every
event of the execution published there as well as to the deployment's
topic."""

import json

import boto3
import pytest

from shared.notifications import notify_execution, publish_execution_event
from tests.helpers import REGION

START = "execute_recovery_plan"
OWN_TOPIC = "hrp-drs-tech-adapter-team-erp"


def _queue_on(topic_arn: str, name: str) -> str:
    """An SQS queue subscribed to the topic (its URL)."""
    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(
        QueueUrl=queue, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    boto3.client("sns", region_name=REGION).subscribe(
        TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn
    )
    return queue


def _events(queue: str) -> list:
    sqs = boto3.client("sqs", region_name=REGION)
    got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
    return [
        json.loads(json.loads(m["Body"])["Message"])["eventType"]
        for m in got.get("Messages", [])
    ]


def test_an_execution_topic_receives_the_execution_events(lc):
    # Given a project-prefixed topic of this account with a subscriber
    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(Name=OWN_TOPIC)["TopicArn"]
    queue = _queue_on(topic, "team-erp")
    lc.plan("p1", ("g1", lc.servers(1)))
    # When a drill is started naming that topic
    answer = lc.direct(START, {"planId": "p1", "topicArn": topic})
    # Then the execution records it
    assert answer.get("executionId"), answer
    record = lc.record(answer["executionId"])
    assert record["topicArn"] == topic
    # When its events are published (from the record, and from the
    # state machine's details, which name only the execution)
    assert notify_execution("EXECUTION_PAUSED", record)
    details = {"executionId": answer["executionId"], "planId": "p1"}
    assert publish_execution_event("EXECUTION_COMPLETED", details)
    # Then the execution's topic got both, as the deployment topic did
    assert sorted(_events(queue)) == [
        "EXECUTION_COMPLETED",
        "EXECUTION_PAUSED",
    ]
    assert len(lc.notifications()) >= 2


@pytest.mark.parametrize(
    "topic",
    [
        f"arn:aws:sns:us-west-2:123456789012:{OWN_TOPIC}",
        f"arn:aws:sns:{REGION}:111111111111:{OWN_TOPIC}",
        f"arn:aws:sns:{REGION}:123456789012:someone-elses-topic",
        f"arn:aws:sqs:{REGION}:123456789012:{OWN_TOPIC}",
    ],
)
def test_a_topic_outside_the_rule_is_refused(lc, topic):
    # Given a plan and a topic of another region, account, name or kind
    lc.plan("p1", ("g1", lc.servers(1)))
    # When a start names it
    answer = lc.direct(START, {"planId": "p1", "topicArn": topic})
    # Then 400 names topicArn and nothing is recorded
    assert (answer["error"], answer["field"]) == (
        "VALIDATION_ERROR",
        "topicArn",
    )
    assert lc.tables["EXECUTION_HISTORY_TABLE"].scan()["Items"] == []
