"""The scheduled ``evaluate_readiness`` action: every plan's result is
stored on the plan (version untouched) and a change of status is
notified once."""

import json

import boto3
import pytest

from tests.helpers import REGION, load_handler, reset_shared_caches
from tests.unit.query_handler.readiness_support import (
    create_profile,
    healthy_launch_config,
    hub_network,
    put_group,
    put_plan,
    set_replication,
)


@pytest.fixture
def scheduled(small_world, monkeypatch):
    """Plan p1 (app + web servers, launchable), a notifications topic
    with a queue subscribed."""
    create_profile()
    config = healthy_launch_config(hub_network())
    put_group(small_world, "pg-app", {"Tier": "app"}, config)
    put_group(small_world, "pg-web", {"Tier": "Web"}, config)
    put_plan(small_world, "p1", ["pg-app", "pg-web"])
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="readiness-notes")["TopicArn"]
    queue = sqs.create_queue(QueueName="readiness-notes")["QueueUrl"]
    arn = sqs.get_queue_attributes(
        QueueUrl=queue, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    monkeypatch.setenv("EXECUTION_NOTIFICATIONS_TOPIC_ARN", topic)
    reset_shared_caches()
    small_world.queue = queue
    return small_world


def run(world):
    return world.handler({"action": "evaluate_readiness"}, None)


def notifications(world):
    """The readiness notifications received since the last call."""
    sqs = boto3.client("sqs", region_name=REGION)
    found = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=world.queue, MaxNumberOfMessages=10
        ).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            note = json.loads(json.loads(message["Body"])["Message"])
            found.append(dict(note["details"], subject=note["subject"]))
            sqs.delete_message(
                QueueUrl=world.queue, ReceiptHandle=message["ReceiptHandle"]
            )


def stored(world):
    item = world.tables["RECOVERY_PLANS_TABLE"].get_item(Key={"planId": "p1"})[
        "Item"
    ]
    return item


def test_schedule_stores_the_result_and_alerts_once_per_change(scheduled):
    # When the schedule runs twice on a healthy plan
    first = run(scheduled)
    run(scheduled)
    # Then the result is stored, the version untouched, nothing notified
    assert first["plans"] == [
        {
            "planId": "p1",
            "status": "READY",
            "previous": None,
            "notified": False,
        }
    ]
    item = stored(scheduled)
    assert item["readiness"]["status"] == "READY"
    assert item["readiness"]["summary"]["checks"]["replication"] == "READY"
    assert item["version"] == 1
    assert notifications(scheduled) == []
    # When a server stalls and the schedule runs twice
    set_replication(scheduled, "web-03", "STALLED")
    run(scheduled)
    run(scheduled)
    # Then one notification names the change and the failing check
    notes = notifications(scheduled)
    assert len(notes) == 1
    assert notes[0]["planId"] == "p1"
    assert notes[0]["status"] == "READY -> NOT_READY"
    assert notes[0]["subject"] == "DR plan readiness changed: p1"
    assert "replication NOT_READY" in notes[0]["checks"]
    assert stored(scheduled)["readiness"]["summary"]["failingServers"] == 1
    # When it recovers
    set_replication(scheduled, "web-03", "CONTINUOUS")
    run(scheduled)
    run(scheduled)
    # Then one notification says so
    notes = notifications(scheduled)
    assert [n["status"] for n in notes] == ["NOT_READY -> READY"]


def test_plan_read_and_listing_show_the_stored_readiness(scheduled):
    # Given a scheduled evaluation
    run(scheduled)
    # When the plan is read and listed (data-management-handler)
    handler = load_handler("data-management-handler").lambda_handler
    plan = handler(
        {"operation": "get_recovery_plan", "body": {"planId": "p1"}}, None
    )
    listing = handler({"operation": "list_recovery_plans"}, None)
    # Then both show the readiness
    assert plan["readiness"]["status"] == "READY"
    plans = listing.get("plans", listing)
    assert [p["readiness"]["status"] for p in plans] == ["READY"]


def test_a_plan_that_cannot_be_evaluated_does_not_stop_the_others(
    scheduled,
):
    # Given a second plan whose wave has no number (cannot be ordered)
    scheduled.tables["RECOVERY_PLANS_TABLE"].put_item(
        Item={
            "planId": "p0-broken",
            "planName": "broken",
            "waves": [{"protectionGroupId": "pg-app"}],
        }
    )
    # When the schedule runs
    answer = run(scheduled)
    # Then the broken plan is reported and p1 still evaluated and stored
    by_id = {p["planId"]: p for p in answer["plans"]}
    assert by_id["p0-broken"] == {"planId": "p0-broken", "error": True}
    assert by_id["p1"]["status"] == "READY"
    assert stored(scheduled)["readiness"]["status"] == "READY"
