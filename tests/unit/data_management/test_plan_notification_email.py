"""A plan's ``notificationEmail`` (issue 20): an SNS email subscription
of the execution topic, filtered to the plan's ``planId`` message
attribute, created, replaced and removed with the plan."""

import json

import boto3
import pytest

from shared.config_manifest import build_manifest
from shared.responses import to_jsonable
from tests.helpers import REGION, reset_shared_caches
from tests.unit.data_management.conftest import db_group


@pytest.fixture
def topic(dm, monkeypatch):
    """The deployment's execution topic, configured."""
    arn = boto3.client("sns", region_name=REGION).create_topic(
        Name="hrp-drs-tech-adapter-execution-notifications-test"
    )["TopicArn"]
    monkeypatch.setenv("EXECUTION_NOTIFICATIONS_TOPIC_ARN", arn)
    reset_shared_caches()
    yield arn
    reset_shared_caches()


def _subscriptions(topic):
    """endpoint -> filter policy of the topic's email subscriptions."""
    sns = boto3.client("sns", region_name=REGION)
    found = {}
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)
    for sub in listed["Subscriptions"]:
        if sub["Protocol"] != "email":
            continue
        attributes = sns.get_subscription_attributes(
            SubscriptionArn=sub["SubscriptionArn"]
        )["Attributes"]
        found[sub["Endpoint"]] = json.loads(attributes["FilterPolicy"])
    return found


def _plan(group, email):
    body = {
        "planName": "ERP DR",
        "waves": [
            {
                "waveNumber": 1,
                "waveName": "DB",
                "protectionGroupId": group["groupId"],
            }
        ],
    }
    if email is not None:
        body["notificationEmail"] = email
    return body


def test_the_email_follows_the_plan(dm, topic):
    # Given a group
    group = db_group(dm)
    # When a plan is created with an email
    plan = dm.direct("create_recovery_plan", _plan(group, "a@example.com"))
    plan_id = plan["planId"]
    # Then the topic has that email, filtered to the plan
    assert _subscriptions(topic) == {"a@example.com": {"planId": [plan_id]}}
    assert "notificationSubscriptionArn" not in plan
    # When the email is changed
    body = {**_plan(group, "b@example.com"), "planId": plan_id}
    body["version"] = plan["version"]
    plan = dm.direct("update_recovery_plan", body)
    # Then only the new email is subscribed
    assert plan.get("notificationEmail") == "b@example.com", plan
    assert _subscriptions(topic) == {"b@example.com": {"planId": [plan_id]}}
    # When the email is removed
    body = {**_plan(group, ""), "planId": plan_id, "version": plan["version"]}
    plan = dm.direct("update_recovery_plan", body)
    # Then nothing is subscribed
    assert "notificationEmail" not in plan
    assert _subscriptions(topic) == {}
    # When an email is set again and the plan deleted
    body = {**_plan(group, "c@example.com"), "planId": plan_id}
    body["version"] = plan["version"]
    plan = dm.direct("update_recovery_plan", body)
    assert set(_subscriptions(topic)) == {"c@example.com"}
    dm.direct("delete_recovery_plan", {"planId": plan_id})
    # Then its subscription is gone with it
    assert _subscriptions(topic) == {}


def test_a_plan_without_email_subscribes_nothing(dm, topic):
    # Given a group
    group = db_group(dm)
    # When a plan is created without an email
    plan = dm.direct("create_recovery_plan", _plan(group, None))
    # Then the topic has no email subscription
    assert plan.get("planId"), plan
    assert _subscriptions(topic) == {}


def test_an_import_keeps_the_plans_email_and_subscription(dm, topic):
    # Given a plan with an email, exported with an RPO target
    group = db_group(dm)
    body = {**_plan(group, "a@example.com"), "rpoTargetSeconds": 900}
    plan = dm.direct("create_recovery_plan", body)
    stored = dm.item("RECOVERY_PLANS_TABLE", "planId", plan["planId"])
    manifest = to_jsonable(build_manifest([], [stored]))
    assert manifest["recoveryPlans"][0]["rpoTargetSeconds"] == 900
    # When the manifest is imported with a changed description
    manifest["recoveryPlans"][0]["description"] = "changed"
    result = dm.direct("import_configuration", {"manifest": manifest})
    # Then the plan is updated, its email and subscription kept
    assert result["summary"]["update"] == 1, result
    after = dm.item("RECOVERY_PLANS_TABLE", "planId", plan["planId"])
    assert after["description"] == "changed"
    assert after["rpoTargetSeconds"] == 900
    assert after["notificationEmail"] == "a@example.com"
    assert after["notificationSubscriptionArn"] == (
        stored["notificationSubscriptionArn"]
    )
    assert set(_subscriptions(topic)) == {"a@example.com"}
