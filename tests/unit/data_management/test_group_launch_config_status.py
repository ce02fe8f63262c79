"""Launch config status: tag groups list their members, a failed apply is
an error with per-server results and leaves DRS as it was."""

import boto3

from tests.helpers import REGION
from tests.unit.data_management.conftest import db_group


def _default_version(template_id):
    ec2 = boto3.client("ec2", region_name=REGION)
    return ec2.describe_launch_templates(LaunchTemplateIds=[template_id])[
        "LaunchTemplates"
    ][0]["DefaultVersionNumber"]


def test_status_of_a_tag_group_lists_its_resolved_members(dm):
    # Given a tag group matching the hub's ERP web servers, never applied
    created = dm.direct(
        "create_protection_group",
        {
            "groupName": "ERP Web",
            "region": REGION,
            "serverSelectionTags": {"Tier": "Web", "Application": "ERP"},
        },
    )
    members = dm.server_ids("erp-web")
    assert members, "the scenario has ERP web servers"
    # When its launch config status is read over REST
    status, report = dm.rest(
        "GET", f"/protection-groups/{created['groupId']}/launch-config-status"
    )
    # Then every resolved member is listed, not applied yet
    assert status == 200, report
    assert sorted(s["sourceServerId"] for s in report["servers"]) == sorted(
        members
    )
    assert {s["status"] for s in report["servers"]} == {"NOT_APPLIED"}


def test_apply_records_its_source_and_template_version(dm):
    # Given a group with an instance type for both database servers
    group = db_group(dm, launchConfig={"instanceType": "r5.large"})
    gid = group["groupId"]
    # When applied now
    status, applied = dm.rest(
        "POST", f"/protection-groups/{gid}/apply-launch-configs"
    )
    # Then each server's status names the endpoint and the new version
    assert status == 200 and applied["status"] == "APPLIED", applied
    report = dm.direct("get_launch_config_status", {"groupId": gid})
    for server in report["servers"]:
        assert server["status"] == "APPLIED"
        assert server["source"] == "apply-launch-configs"
        assert server["templateVersion"] == 2
        assert server["groupVersion"] == 1
        assert isinstance(server["appliedAt"], int)
    # And the group's optimistic-lock version is untouched
    stored = dm.item("PROTECTION_GROUPS_TABLE", "groupId", gid)
    assert stored["version"] == 1


def test_failed_apply_is_an_error_and_changes_nothing(dm):
    # Given a two-server group and one server busy in a DRS job
    group = db_group(
        dm,
        launchConfig={"copyTags": False, "instanceType": "m5.xlarge"},
    )
    gid = group["groupId"]
    free, busy = group["sourceServerIds"]
    drs = boto3.client("drs", region_name=REGION)
    drs.start_recovery(sourceServers=[{"sourceServerID": busy}], isDrill=True)
    before = {
        sid: drs.get_launch_configuration(sourceServerID=sid)
        for sid in (free, busy)
    }
    # When the launch configs are applied now
    status, answer = dm.rest(
        "POST", f"/protection-groups/{gid}/apply-launch-configs"
    )
    # Then DRS's refusal is a 409 naming the busy server, with the
    # per-server results and the rollback
    assert status == 409, answer
    assert answer["error"] == "INVALID_STATE"
    assert answer["reason"] == "AWS_CONFLICT"
    assert busy in answer["message"] and "rolled back" in answer["message"]
    assert answer["groupId"] == gid and answer["rolledBack"] is True
    by_server = {s["sourceServerId"]: s for s in answer["servers"]}
    assert by_server[busy]["status"] == "FAILED"
    assert "ConflictException" in by_server[busy]["error"]
    assert by_server[free]["status"] == "ROLLED_BACK"
    assert answer["rollbackFailed"] == []
    # And DRS and the EC2 templates are as before
    for sid in (free, busy):
        after = drs.get_launch_configuration(sourceServerID=sid)
        assert after["copyTags"] == before[sid]["copyTags"]
        assert (
            after["targetInstanceTypeRightSizingMethod"]
            == before[sid]["targetInstanceTypeRightSizingMethod"]
        )
        assert _default_version(after["ec2LaunchTemplateID"]) == 1
    # And the status says what happened to each server
    report = dm.direct("get_launch_config_status", {"groupId": gid})
    statuses = {s["sourceServerId"]: s for s in report["servers"]}
    assert statuses[busy]["status"] == "FAILED"
    assert statuses[free]["status"] == "ROLLED_BACK"
    assert {s["source"] for s in statuses.values()} == {"apply-launch-configs"}
