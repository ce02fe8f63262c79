"""Launch configuration: overrides validated against EC2, apply through
shared.launch_config, status per server."""

import boto3

from tests.helpers import REGION
from tests.unit.data_management.conftest import (
    HUB,
    SPOKE_EXTERNAL_ID,
    SPOKE_ROLE,
    db_group,
)


def _sg(dm, subnet_id):
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]["VpcId"]
    return ec2.create_security_group(
        GroupName="db", Description="db", VpcId=vpc
    )["GroupId"]


def test_launch_config_validated_against_ec2(dm):
    # Given the data subnet (10.10.1.0/24) and a group
    data = dm.subnet("data")
    group = db_group(dm)
    gid = group["groupId"]
    server = group["sourceServerIds"][0]
    cases = [
        ({"subnetId": "subnet-0123456789abcdef0"}, "servers[0].subnetId"),
        (
            {"subnetId": data, "securityGroupIds": ["sg-0123456789abcdef0"]},
            "servers[0].securityGroupIds",
        ),
        (
            {"subnetId": data, "staticPrivateIp": "10.10.9.5"},
            "servers[0].staticPrivateIp",
        ),
        ({"staticPrivateIp": "10.10.1.400"}, None),
    ]
    for template, field in cases:
        # When a server override names bad EC2 resources
        answer = dm.direct(
            "update_server_launch_config",
            {
                "groupId": gid,
                "serverId": server,
                "launchTemplate": template,
            },
        )
        # Then a 400 names the field and nothing is stored
        assert answer["error"] == "VALIDATION_ERROR", answer
        if field:
            assert answer["field"] == field
    stored = dm.item("PROTECTION_GROUPS_TABLE", "groupId", gid)
    assert "servers" not in stored and stored["version"] == 1


def test_server_override_apply_and_status(dm):
    # Given a group with defaults and a valid static IP override
    data = dm.subnet("data")
    sg = _sg(dm, data)
    group = db_group(
        dm,
        launchConfig={
            "subnetId": data,
            "securityGroupIds": [sg],
            "instanceType": "r5.large",
            "copyTags": True,
            "launchDisposition": "STOPPED",
        },
    )
    gid, (first, second) = group["groupId"], group["sourceServerIds"]
    status, answer = dm.rest(
        "PUT",
        f"/protection-groups/{gid}/servers/{first}/launch-config",
        {"launchTemplate": {"staticPrivateIp": "10.10.1.50"}, "version": 1},
        groups=("DRSOperator",),
    )
    assert status == 200, answer
    assert answer["effectiveConfig"]["staticPrivateIp"] == "10.10.1.50"
    assert answer["effectiveConfig"]["instanceType"] == "r5.large"
    assert answer["version"] == 2
    # And nothing applied yet
    before = dm.direct("get_launch_config_status", {"groupId": gid})
    assert {s["status"] for s in before["servers"]} == {"NOT_APPLIED"}

    # When the launch configs are applied now
    status, applied = dm.rest(
        "POST", f"/protection-groups/{gid}/apply-launch-configs"
    )

    # Then every server is applied in DRS and in its EC2 template
    assert status == 200, applied
    assert applied["status"] == "APPLIED" and applied["applied"] == 2
    drs = boto3.client("drs", region_name=REGION)
    config = drs.get_launch_configuration(sourceServerID=first)
    assert config["launchDisposition"] == "STOPPED"
    assert config["targetInstanceTypeRightSizingMethod"] == "NONE"
    ec2 = boto3.client("ec2", region_name=REGION)
    version = ec2.describe_launch_template_versions(
        LaunchTemplateId=config["ec2LaunchTemplateID"],
        Versions=["$Default"],
    )["LaunchTemplateVersions"][0]["LaunchTemplateData"]
    nic = version["NetworkInterfaces"][0]
    assert nic["PrivateIpAddress"] == "10.10.1.50"
    assert version["InstanceType"] == "r5.large"
    # And the status says what was applied, when and by whom
    report = dm.direct("get_launch_config_status", {"groupId": gid})
    by_server = {s["sourceServerId"]: s for s in report["servers"]}
    assert by_server[first]["status"] == "APPLIED"
    assert by_server[first]["config"]["staticPrivateIp"] == "10.10.1.50"
    assert by_server[second]["appliedBy"] == "tester@example.com"
    assert isinstance(by_server[second]["appliedAt"], int)
    got = dm.direct(
        "get_server_launch_config", {"groupId": gid, "serverId": first}
    )
    assert got["lastApplied"]["status"] == "APPLIED"
    assert got["launchTemplate"] == {"staticPrivateIp": "10.10.1.50"}


def test_server_not_in_group_is_404(dm):
    group = db_group(dm)
    other = dm.server_ids("erp-web")[0]
    status, answer = dm.rest(
        "GET",
        f"/protection-groups/{group['groupId']}/servers/{other}"
        "/launch-config",
    )
    assert status == 404 and answer["error"] == "NOT_FOUND"


def test_apply_cross_account_group_uses_the_spoke(dm):
    # Given the spoke account registered and a tag group in it
    spoke = "210987654321"
    dm.direct(
        "create_target_account",
        {
            "accountId": spoke,
            "accountName": "portal",
            "roleArn": SPOKE_ROLE,
            "externalId": SPOKE_EXTERNAL_ID,
        },
    )
    created = dm.direct(
        "create_protection_group",
        {
            "groupName": "Portal",
            "region": REGION,
            "accountId": spoke,
            "serverSelectionTags": {"Application": "Portal"},
            "launchConfig": {"launchDisposition": "STOPPED"},
        },
    )
    assert created.get("accountId") == spoke, created
    # When applied
    applied = dm.direct(
        "apply_launch_configs", {"groupId": created["groupId"]}
    )
    # Then the spoke's two portal servers were changed, the hub's not
    assert applied["applied"] == 2, applied
    portal = dm.server_ids("portal-web", account=spoke)
    assert sorted(s["sourceServerId"] for s in applied["servers"]) == sorted(
        portal
    )
    hub_server = dm.sim.servers(HUB, REGION)[0]
    assert hub_server.launch_config["launchDisposition"] == "STARTED"
    spoke_server = dm.sim.servers(spoke, REGION)[0]
    assert spoke_server.launch_config["launchDisposition"] == "STOPPED"
