"""Tag sync: EC2 instance tags copied to the DRS source servers that
replicate them; settings; recorded runs."""

import json

import boto3
import pytest

from tests.helpers import REGION
from tests.unit.data_management.conftest import HUB
from tests.unit.templates.cfn_helpers import resources


@pytest.fixture
def linked(dm):
    """Two hub web servers' source EC2 instances get a CostCenter tag.

    The sample scenario's servers replicate EC2 instances (created with
    the servers' tags; DRS reports them as the awsInstanceID hint).
    """
    ec2 = boto3.client("ec2", region_name=REGION)
    drs = boto3.client("drs", region_name=REGION)
    web = dm.server_ids("erp-web")[:2]
    servers = drs.describe_source_servers(filters={"sourceServerIDs": web})[
        "items"
    ]
    centers = {}
    for index, server in enumerate(sorted(servers, key=_server_id)):
        hints = server["sourceProperties"]["identificationHints"]
        ec2.create_tags(
            Resources=[hints["awsInstanceID"]],
            Tags=[{"Key": "CostCenter", "Value": f"cc-{index}"}],
        )
        centers[server["sourceServerID"]] = f"cc-{index}"
    assert len(centers) == 2
    return centers


def _server_id(server):
    return server["sourceServerID"]


def _tags(dm, server_id):
    for server in dm.sim.servers(HUB, REGION):
        if server.server_id == server_id:
            return dict(server.tags)
    raise KeyError(server_id)


def test_tag_sync_copies_changed_tags_and_records_the_run(dm, linked):
    # Given two source servers linked to tagged EC2 instances
    first, second = sorted(linked)
    # When a dry run, then a real run, happen over REST
    status, dry = dm.rest("POST", "/drs/tag-sync", {"dryRun": True})
    assert status == 200, dry
    assert dry["serversUpdated"] == 2
    assert "CostCenter" not in _tags(dm, first)
    status, run = dm.rest("POST", "/drs/tag-sync", {})
    # Then only the differing tags were written to DRS
    assert status == 200, run
    by_server = {c["sourceServerId"]: c for c in run["changes"]}
    assert set(by_server) == {first, second}
    for server, center in linked.items():
        assert by_server[server]["tags"] == {"CostCenter": center}
        assert _tags(dm, server)["CostCenter"] == center
    assert _tags(dm, first)["Tier"] == "Web"
    # And the run is recorded on the settings
    settings = dm.direct("get_tag_sync_settings")
    assert settings["lastRun"]["serversUpdated"] == 2
    assert settings["lastRun"]["initiatedBy"] == "tester@example.com"
    # And a second run changes nothing
    again = dm.direct("handle_drs_tag_sync", {})
    assert again["serversUpdated"] == 0 and again["serversChecked"] >= 8


def test_settings_defaults_update_version_and_validation(dm):
    # Given no stored settings: defaults
    settings = dm.direct("get_tag_sync_settings")
    assert settings["enabled"] is False and settings["regions"] == [REGION]
    # When updated over REST
    status, updated = dm.rest(
        "PUT",
        "/config/tag-sync",
        {"enabled": True, "regions": ["us-east-1", "us-west-2"]},
    )
    assert status == 200, updated
    assert updated["version"] == 1 and updated["enabled"] is True
    # Then a stale version conflicts and bad input names the field
    answer = dm.direct(
        "update_tag_sync_settings", {"enabled": False, "version": 0}
    )
    assert answer["error"] == "VERSION_CONFLICT"
    answer = dm.direct("update_tag_sync_settings", {"schedule": "often"})
    assert answer["error"] == "VALIDATION_ERROR"
    assert answer["field"] == "schedule"
    answer = dm.direct("update_tag_sync_settings", {"regions": ["mars"]})
    assert answer["field"] == "regions"
    assert dm.direct("get_tag_sync_settings")["enabled"] is True


def test_scheduled_run_skips_when_disabled_and_rbac(dm):
    answer = dm.direct("handle_drs_tag_sync", {"trigger": "schedule"})
    assert answer == {"skipped": True, "reason": "tag sync is disabled"}
    status, _ = dm.rest(
        "POST", "/drs/tag-sync", {}, groups=("DRSRecoveryManager",)
    )
    assert status == 200
    status, _ = dm.rest("POST", "/drs/tag-sync", {}, groups=("DRSOperator",))
    assert status == 403
    status, _ = dm.rest(
        "PUT", "/config/tag-sync", {"enabled": True}, groups=("DRSReadOnly",)
    )
    assert status == 403
    status, _ = dm.rest("GET", "/config/tag-sync", groups=("DRSReadOnly",))
    assert status == 200


def _schedule_event():
    """The event the EventBridge schedule rule of the template sends."""
    rules = resources("eventbridge-stack.yaml", "AWS::Events::Rule")
    target = rules["TagSyncScheduleRule"]["Properties"]["Targets"][0]
    return json.loads(target["Input"])


def test_scheduled_run_follows_the_enabled_setting(dm, linked):
    # Given the schedule rule's input and tag sync disabled (default)
    event = _schedule_event()
    # When the schedule fires
    answer = dm.handler(dict(event), None)
    # Then nothing runs and nothing is changed
    assert answer == {"skipped": True, "reason": "tag sync is disabled"}
    assert all("CostCenter" not in _tags(dm, s) for s in linked)
    # When tag sync is enabled and the schedule fires again
    dm.direct("update_tag_sync_settings", {"enabled": True})
    answer = dm.handler(dict(event), None)
    # Then the run happens and is recorded
    assert answer["serversUpdated"] == 2, answer
    assert answer["status"] == "SUCCEEDED"
    last = dm.direct("get_tag_sync_settings")["lastRun"]
    assert last["serversUpdated"] == 2 and last["status"] == "SUCCEEDED"
    # And once disabled again the schedule skips
    dm.direct("update_tag_sync_settings", {"enabled": False})
    assert dm.handler(dict(event), None)["skipped"] is True


def test_run_failing_midway_is_recorded_with_its_error(dm, linked):
    # Given two regions, the second one without DRS
    body = {"regions": [REGION, "us-west-2"]}
    # When a run is started over REST
    status, answer = dm.rest("POST", "/drs/tag-sync", body)
    # Then the caller gets the mapped DRS error
    assert status == 409 and answer["error"] == "INVALID_STATE", answer
    # And lastRun shows the partial run: what was written, and why it
    # stopped
    last = dm.direct("get_tag_sync_settings")["lastRun"]
    assert last["status"] == "FAILED"
    assert last["error"]["code"] == "INVALID_STATE"
    assert last["error"]["region"] == "us-west-2"
    assert last["serversUpdated"] == 2
    assert {c["sourceServerId"] for c in last["changes"]} == set(linked)
    assert all(_tags(dm, s)["CostCenter"] == c for s, c in linked.items())
    # And a direct invocation answers the same error, recorded again
    direct = dm.direct("handle_drs_tag_sync", body)
    assert (direct["statusCode"], direct["error"]) == (409, "INVALID_STATE")
    last = dm.direct("get_tag_sync_settings")["lastRun"]
    assert last["status"] == "FAILED" and last["serversUpdated"] == 0
