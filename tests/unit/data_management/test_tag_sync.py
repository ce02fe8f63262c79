"""Tag sync: EC2 instance tags copied to the DRS source servers that
replicate them; settings; recorded runs."""

import boto3
import pytest

from tests.helpers import REGION
from tests.unit.data_management.conftest import HUB


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
