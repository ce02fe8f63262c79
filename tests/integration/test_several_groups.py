"""A wave of several protection groups and a plan's notification email on
the local cloud (issue 20): packaged functions, the real state machine,
the DRS simulator."""

import json

import pytest

from tests.integration.test_execution_lifecycle import (
    DM,
    REGION,
    Api,
    _wait_status,
)

TOPIC = "hrp-drs-tech-adapter-execution-notifications-dev"


@pytest.fixture
def api(local_cloud):
    return Api(local_cloud)


def _group(api, name, servers, copy_tags):
    created = api.call(
        DM,
        "create_protection_group",
        {
            "groupName": name,
            "region": REGION,
            "sourceServerIds": servers,
            "launchConfig": {"copyTags": copy_tags},
        },
    )
    assert "groupId" in created, created
    return created["groupId"]


def _email_filters(local_cloud):
    """endpoint -> filter policy of the topic's email subscriptions."""
    sns = local_cloud.client("sns")
    topic = next(
        t["TopicArn"]
        for t in sns.list_topics()["Topics"]
        if t["TopicArn"].endswith(f":{TOPIC}")
    )
    found = {}
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)
    for sub in listed["Subscriptions"]:
        if sub["Protocol"] == "email":
            attributes = sns.get_subscription_attributes(
                SubscriptionArn=sub["SubscriptionArn"]
            )["Attributes"]
            found[sub["Endpoint"]] = json.loads(attributes["FilterPolicy"])
    return found


def test_a_drill_of_a_two_group_wave_completes(local_cloud, api, wait_until):
    # Given two groups with different launch settings in one wave, and
    # a notification email on the plan
    db, app = api.servers("Database"), api.servers("Application")
    db_group = _group(api, "multi-db", db, False)
    app_group = _group(api, "multi-app", app, True)
    plan = api.call(
        DM,
        "create_recovery_plan",
        {
            "planName": "multi",
            "notificationEmail": "dr-team@example.com",
            "waves": [
                {
                    "waveNumber": 1,
                    "waveName": "ERP",
                    "protectionGroupIds": [db_group, app_group],
                }
            ],
        },
    )
    assert plan.get("planId"), plan
    # Then the email is subscribed, filtered to the plan
    assert _email_filters(local_cloud) == {
        "dr-team@example.com": {"planId": [plan["planId"]]}
    }
    # When the plan is drilled to its end
    started = api.start(plan["planId"])
    assert started.get("status") == "PENDING", started
    execution_id = started["executionId"]
    details = _wait_status(
        api, wait_until, execution_id, ("COMPLETED", "FAILED", "CANCELLED")
    )
    # Then it completed with every server of both groups launched
    assert details["status"] == "COMPLETED", details
    (wave,) = details["waves"]
    launched = {s["sourceServerId"] for s in wave["servers"]}
    assert launched == set(db + app)
    # And each server was configured from its own group
    drs = local_cloud.client("drs")
    for sid in db + app:
        config = drs.get_launch_configuration(sourceServerID=sid)
        assert config["copyTags"] is (sid in app), sid
