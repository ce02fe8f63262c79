"""Console contract: the server picker of the group dialog and the
launch-settings pickers (subnets, security groups, types, profiles)."""

import json

import boto3

from tests.helpers import REGION, api_event


def _get(world, path, query):
    response = world.handler(
        api_event("GET", path, query=query, groups=("DRSReadOnly",)), None
    )
    return response["statusCode"], json.loads(response["body"])


def _group(world, group_id, name, server_ids):
    world.tables["PROTECTION_GROUPS_TABLE"].put_item(
        Item={
            "groupId": group_id,
            "groupName": name,
            "region": REGION,
            "sourceServerIds": server_ids,
        }
    )


def test_server_picker_reads_state_lag_assignment_and_selectable(
    small_world,
):
    # Given two groups, each holding one server
    _, first = _get(small_world, "/drs/source-servers", {"region": REGION})
    ids = sorted(s["sourceServerID"] for s in first["servers"])
    _group(small_world, "g-edit", "Being edited", [ids[0]])
    _group(small_world, "g-other", "Other", [ids[1]])
    # When the dialog editing g-edit lists the region's servers
    status, body = _get(
        small_world,
        "/drs/source-servers",
        {"region": REGION, "currentProtectionGroupId": "g-edit"},
    )
    # Then every server carries what the picker reads
    assert status == 200
    assert body["serverCount"] == len(body["servers"]) == len(ids)
    by_id = {s["sourceServerID"]: s for s in body["servers"]}
    for server in by_id.values():
        assert isinstance(server["state"], str)
        assert "lagDuration" in server
        assert isinstance(server["hostname"], str)
        assert isinstance(server["replicationState"], str)
    # And its own group's server stays selectable, the other's is not
    assert by_id[ids[0]]["selectable"] is True
    assert by_id[ids[0]]["assignedToProtectionGroup"] == {
        "protectionGroupId": "g-edit",
        "protectionGroupName": "Being edited",
    }
    assert by_id[ids[1]]["selectable"] is False
    assert (
        by_id[ids[1]]["assignedToProtectionGroup"]["protectionGroupName"]
        == "Other"
    )
    free = [s for s in by_id.values() if s["sourceServerID"] not in ids[:2]]
    assert all(
        s["selectable"] and s["assignedToProtectionGroup"] is None
        for s in free
    )


def test_server_list_filtered_by_group(small_world):
    # Given a group of one server
    _, first = _get(small_world, "/drs/source-servers", {"region": REGION})
    one = first["servers"][0]["sourceServerID"]
    _group(small_world, "g-1", "One", [one])
    # When the console asks for that group's servers only
    _, body = _get(
        small_world,
        "/drs/source-servers",
        {"region": REGION, "filterByProtectionGroup": "g-1"},
    )
    # Then only it is answered
    assert [s["sourceServerID"] for s in body["servers"]] == [one]


def test_subnet_and_security_group_pickers_without_vpc(small_world):
    # Given a security group in the hub's VPC
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.describe_vpcs(
        Filters=[{"Name": "cidr", "Values": ["10.0.0.0/16"]}]
    )["Vpcs"][0]["VpcId"]
    ec2.create_security_group(GroupName="app-sg", Description="app", VpcId=vpc)
    # When the pickers ask with the region only, as the console does
    status, subnets = _get(small_world, "/ec2/subnets", {"region": REGION})
    sg_status, groups = _get(
        small_world, "/ec2/security-groups", {"region": REGION}
    )
    # Then they answer options {value, label} with the fields read
    assert (status, sg_status) == (200, 200), (subnets, groups)
    hub = [s for s in subnets["subnets"] if s["vpcId"] == vpc]
    assert sorted(s["cidr"] for s in hub) == ["10.0.1.0/24", "10.0.2.0/24"]
    for subnet in subnets["subnets"]:
        assert subnet["value"] == subnet["subnetId"]
        assert subnet["subnetId"] in subnet["label"]
        assert subnet["az"].startswith(REGION)
    app = next(
        g for g in groups["securityGroups"] if g["groupName"] == "app-sg"
    )
    assert app["value"] == app["groupId"] and "app-sg" in app["label"]
    assert app["vpcId"] == vpc and app["description"] == "app"


def test_instance_type_and_profile_pickers(small_world):
    # When the type and profile pickers ask for the region's options
    _, types = _get(
        small_world,
        "/ec2/instance-types",
        {"region": REGION, "instanceFamily": "t3"},
    )
    boto3.client("iam").create_instance_profile(
        InstanceProfileName="app-profile"
    )
    _, profiles = _get(
        small_world, "/ec2/instance-profiles", {"region": REGION}
    )
    # Then each option has value and label (and types vcpus, memoryGb)
    assert types["instanceTypes"]
    for item in types["instanceTypes"]:
        assert item["value"] == item["instanceType"]
        assert item["label"].startswith(item["instanceType"])
        assert item["vcpus"] > 0 and item["memoryGb"] > 0
    names = [p["value"] for p in profiles["instanceProfiles"]]
    assert "app-profile" in names
    for item in profiles["instanceProfiles"]:
        assert item["label"] == item["value"] and item["arn"]


def test_setup_wizard_reads_the_current_account(small_world):
    # When the setup wizard asks which account the API runs in
    status, body = _get(small_world, "/accounts/current", None)
    # Then it reads the id, a name and that it is the current account
    assert status == 200, body
    assert body["accountId"] == "123456789012"
    assert isinstance(body["accountName"], str) and body["accountName"]
    assert body["isCurrentAccount"] is True
