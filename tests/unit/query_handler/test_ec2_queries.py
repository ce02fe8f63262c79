"""/ec2/subnets|security-groups|instance-types|instance-profiles."""

import json

import boto3
import pytest

from tests.helpers import REGION, api_event
from tests.unit.query_handler.conftest import SPOKE


def hub_vpc():
    ec2 = boto3.client("ec2", region_name=REGION)
    vpcs = ec2.describe_vpcs(
        Filters=[{"Name": "cidr", "Values": ["10.0.0.0/16"]}]
    )["Vpcs"]
    return vpcs[0]["VpcId"]


def rest(world, path, query):
    response = world.handler(
        api_event("GET", path, query=query, groups=("DRSOperator",)), None
    )
    return response["statusCode"], json.loads(response["body"])


def test_subnets_of_a_vpc_and_zone(small_world):
    # Given the hub's VPC with a subnet in us-east-1a and one in 1b
    vpc = hub_vpc()
    # When its subnets are listed (REST)
    status, body = rest(
        small_world, "/ec2/subnets", {"region": REGION, "vpcId": vpc}
    )
    # Then both are answered with their zone and CIDR
    assert status == 200
    assert [
        (s["availabilityZone"], s["cidrBlock"]) for s in body["subnets"]
    ] == [
        ("us-east-1a", "10.0.1.0/24"),
        ("us-east-1b", "10.0.2.0/24"),
    ]
    assert {s["vpcId"] for s in body["subnets"]} == {vpc}
    # When only one zone is asked for
    body = small_world.direct(
        "get_ec2_subnets",
        region=REGION,
        vpcId=vpc,
        availabilityZone="us-east-1b",
    )
    # Then only its subnet is answered
    assert [s["cidrBlock"] for s in body["subnets"]] == ["10.0.2.0/24"]


def test_security_groups_of_a_vpc(small_world):
    # Given a security group in the hub's VPC
    vpc = hub_vpc()
    ec2 = boto3.client("ec2", region_name=REGION)
    ec2.create_security_group(
        GroupName="app-sg", Description="app servers", VpcId=vpc
    )
    # When the VPC's groups are listed
    status, body = rest(
        small_world, "/ec2/security-groups", {"region": REGION, "vpcId": vpc}
    )
    # Then it is answered (with the VPC's default group)
    assert status == 200
    names = [g["groupName"] for g in body["securityGroups"]]
    assert "app-sg" in names and "default" in names
    assert {g["vpcId"] for g in body["securityGroups"]} == {vpc}


def test_instance_types_offered_by_family(small_world):
    # When the t3 family offered in the region is listed
    status, body = rest(
        small_world,
        "/ec2/instance-types",
        {"region": REGION, "instanceFamily": "T3"},
    )
    # Then only t3 types are answered, with their size
    assert status == 200
    names = [t["instanceType"] for t in body["instanceTypes"]]
    assert "t3.medium" in names
    assert {t["family"] for t in body["instanceTypes"]} == {"t3"}
    medium = next(
        t for t in body["instanceTypes"] if t["instanceType"] == "t3.medium"
    )
    assert (medium["vCpus"], medium["memoryMiB"]) == (2, 4096)


def test_instance_profiles_in_the_spoke(small_world):
    # Given a profile in the hub and one in the spoke
    boto3.client("iam").create_instance_profile(
        InstanceProfileName="hub-profile"
    )
    # When the spoke's profiles are listed
    status, body = rest(
        small_world, "/ec2/instance-profiles", {"accountId": SPOKE}
    )
    # Then only the spoke's profile is answered
    assert status == 200
    assert [p["instanceProfileName"] for p in body["instanceProfiles"]] == [
        "spoke-profile"
    ]
    assert SPOKE in body["instanceProfiles"][0]["arn"]
    # And the hub's is answered without accountId
    hub = small_world.direct("get_ec2_instance_profiles")
    assert [p["instanceProfileName"] for p in hub["instanceProfiles"]] == [
        "hub-profile"
    ]


@pytest.mark.parametrize(
    "path, query, field",
    [
        ("/ec2/subnets", {"region": REGION, "vpcId": "sg-1"}, "vpcId"),
        (
            "/ec2/subnets",
            {
                "region": REGION,
                "vpcId": "vpc-0123456789abcdef0",
                "availabilityZone": "eu-west-1a",
            },
            "availabilityZone",
        ),
        ("/ec2/security-groups", {"vpcId": "vpc-12345678"}, "region"),
        (
            "/ec2/instance-types",
            {"region": REGION, "instanceFamily": "t3;drop"},
            "instanceFamily",
        ),
        ("/ec2/instance-profiles", {"region": "nowhere"}, "region"),
    ],
)
def test_bad_parameters_are_400(bare_handler, path, query, field):
    # When a parameter is missing or malformed
    status, body = rest(bare_handler, path, query)
    # Then a 400 names it
    assert (status, body["error"], body["field"]) == (
        400,
        "VALIDATION_ERROR",
        field,
    )


def test_callers_without_a_role_are_refused(bare_handler):
    # When a caller without any role asks
    response = bare_handler.handler(
        api_event("GET", "/ec2/subnets", query={"region": REGION}, groups=()),
        None,
    )
    # Then it is refused
    assert response["statusCode"] == 403
