"""/ec2/subnets|security-groups|instance-types in a spoke account, over
more than one EC2 page, and their 404/403/429 answers.

moto answers EC2 listings in one piece; the ``ec2_paging`` fixture makes
it page them as EC2 does and records the account of each call.
"""

import json
import math

import boto3
import pytest

from tests.helpers import REGION, api_event
from tests.unit.query_handler.conftest import SPOKE, register_spoke

SPOKE_SUBNETS = 105
SPOKE_GROUPS = 104
ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")


def rest(world, path, query):
    response = world.handler(
        api_event("GET", path, query=query, groups=("DRSOperator",)), None
    )
    return response["statusCode"], json.loads(response["body"])


def spoke_ec2():
    """An EC2 client of the spoke account (test setup only)."""
    creds = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{SPOKE}:role/OrganizationAccountAccessRole",
        RoleSessionName="setup",
    )["Credentials"]
    return boto3.client(
        "ec2",
        region_name=REGION,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )


def spoke_vpc(ec2):
    return ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]


def spoke_subnets(ec2, vpc, count):
    return {
        ec2.create_subnet(
            VpcId=vpc,
            CidrBlock=f"10.1.{i}.0/24",
            AvailabilityZone=ZONES[i % len(ZONES)],
        )["Subnet"]["SubnetId"]
        for i in range(count)
    }


def pages(paging, operation):
    return [(c.max_results, c.next_token) for c in paging.of(operation)]


def test_spoke_subnets_over_two_pages(small_world, ec2_paging):
    # Given 105 subnets in a VPC of the spoke (EC2 pages hold 100)
    ec2 = spoke_ec2()
    vpc = spoke_vpc(ec2)
    created = spoke_subnets(ec2, vpc, SPOKE_SUBNETS)
    ec2_paging.calls.clear()
    # When the spoke's subnets of that VPC are listed (REST)
    status, body = rest(
        small_world,
        "/ec2/subnets",
        {"region": REGION, "vpcId": vpc, "accountId": SPOKE},
    )
    # Then every one of the spoke's subnets is answered
    assert status == 200
    assert body["totalCount"] == SPOKE_SUBNETS
    assert {s["subnetId"] for s in body["subnets"]} == created
    assert {s["vpcId"] for s in body["subnets"]} == {vpc}
    # And EC2 was read page by page (100, then from the token), in the
    # spoke account only
    assert pages(ec2_paging, "describe_subnets") == [(100, None), (100, "100")]
    assert {c.account for c in ec2_paging.calls} == {SPOKE}
    # When only one zone is asked for (direct)
    body = small_world.direct(
        "get_ec2_subnets",
        region=REGION,
        vpcId=vpc,
        accountId=SPOKE,
        availabilityZone="us-east-1b",
    )
    # Then only that zone's 35 subnets are answered
    assert body["totalCount"] == SPOKE_SUBNETS // len(ZONES)
    assert {s["availabilityZone"] for s in body["subnets"]} == {"us-east-1b"}


def test_spoke_security_groups_over_two_pages(small_world, ec2_paging):
    # Given 104 security groups (plus the default one) in a spoke VPC
    ec2 = spoke_ec2()
    vpc = spoke_vpc(ec2)
    created = {
        ec2.create_security_group(
            GroupName=f"sg-{i:03d}", Description="spoke", VpcId=vpc
        )["GroupId"]
        for i in range(SPOKE_GROUPS)
    }
    ec2_paging.calls.clear()
    # When the spoke VPC's groups are listed (direct)
    body = small_world.direct(
        "get_ec2_security_groups", region=REGION, vpcId=vpc, accountId=SPOKE
    )
    # Then all 105 are answered, the spoke's own, sorted by name
    assert body["totalCount"] == SPOKE_GROUPS + 1
    groups = body["securityGroups"]
    assert created < {g["groupId"] for g in groups}
    assert [g["groupName"] for g in groups] == ["default"] + [
        f"sg-{i:03d}" for i in range(SPOKE_GROUPS)
    ]
    assert {g["vpcId"] for g in groups} == {vpc}
    # And EC2 was read in two pages in the spoke account only
    assert pages(ec2_paging, "describe_security_groups") == [
        (100, None),
        (100, "100"),
    ]
    assert {c.account for c in ec2_paging.calls} == {SPOKE}
    # And over REST the hub's VPC id is unknown in the spoke
    hub_vpc = boto3.client("ec2", region_name=REGION).describe_vpcs(
        Filters=[{"Name": "cidr", "Values": ["10.0.0.0/16"]}]
    )["Vpcs"][0]["VpcId"]
    status, body = rest(
        small_world,
        "/ec2/security-groups",
        {"region": REGION, "vpcId": hub_vpc, "accountId": SPOKE},
    )
    assert (status, body["totalCount"]) == (200, 0)


def test_spoke_instance_types_follow_every_page(small_world, ec2_paging):
    # Given EC2 answers at most 40 items a page, whatever MaxResults asks
    from moto.ec2.models.instance_types import INSTANCE_TYPE_OFFERINGS

    ec2_paging.cap = 40
    offered = sorted(
        {o["InstanceType"] for o in INSTANCE_TYPE_OFFERINGS["region"][REGION]}
    )
    ec2_paging.calls.clear()
    # When every type offered in the spoke's region is listed (direct)
    body = small_world.direct(
        "get_ec2_instance_types", region=REGION, accountId=SPOKE
    )
    # Then every offered type is answered, each with its size
    assert body["totalCount"] == len(offered) > 1000
    types = body["instanceTypes"]
    assert [t["instanceType"] for t in types] == offered
    assert all(t["vCpus"] and t["memoryMiB"] for t in types)
    # And offerings and details were read page by page (details asked
    # 100 names at a time), in the spoke account only
    offerings = pages(ec2_paging, "describe_instance_type_offerings")
    assert len(offerings) == math.ceil(len(offered) / 40)
    assert offerings[0] == (100, None)
    chunks = [offered[i : i + 100] for i in range(0, len(offered), 100)]
    details = ec2_paging.of("describe_instance_types")
    assert len(details) == sum(math.ceil(len(c) / 40) for c in chunks)
    assert {c.account for c in ec2_paging.calls} == {SPOKE}


def test_spoke_instance_types_of_a_family_over_rest(small_world, ec2_paging):
    # When the spoke's m5 family is listed (REST), pages of 40 at most
    ec2_paging.cap = 40
    status, body = rest(
        small_world,
        "/ec2/instance-types",
        {"region": REGION, "instanceFamily": "m5", "accountId": SPOKE},
    )
    # Then only m5 types are answered, m5.large with its size
    assert status == 200
    assert {t["family"] for t in body["instanceTypes"]} == {"m5"}
    large = next(
        t for t in body["instanceTypes"] if t["instanceType"] == "m5.large"
    )
    assert (large["vCpus"], large["memoryMiB"]) == (2, 8192)
    assert {c.account for c in ec2_paging.calls} == {SPOKE}


@pytest.mark.parametrize(
    "path, operation, query",
    [
        ("/ec2/subnets", "get_ec2_subnets", {"vpcId": "vpc-12345678"}),
        ("/ec2/instance-types", "get_ec2_instance_types", {}),
    ],
)
def test_unregistered_account_is_404(bare_handler, path, operation, query):
    query = dict(query, region=REGION, accountId="111122223333")
    # When an account that is not registered is asked for (REST)
    status, body = rest(bare_handler, path, query)
    # Then a 404 names the account
    assert (status, body["error"]) == (404, "NOT_FOUND")
    assert body["accountId"] == "111122223333"
    # And the same over a direct invocation
    body = bare_handler.direct(operation, **query)
    assert (body["statusCode"], body["accountId"]) == (404, "111122223333")


def test_role_that_cannot_be_assumed_is_403(
    small_world, enforce_external_id, ec2_paging
):
    # Given the spoke registered with an ExternalId its role does not trust
    register_spoke(
        small_world.tables["TARGET_ACCOUNTS_TABLE"], external_id="wrong"
    )
    # When the spoke's security groups are listed
    status, body = rest(
        small_world,
        "/ec2/security-groups",
        {"region": REGION, "vpcId": "vpc-12345678", "accountId": SPOKE},
    )
    # Then a 403 explains the role cannot be assumed, before any EC2 call
    assert (status, body["error"]) == (403, "FORBIDDEN")
    assert body["reason"] == "ASSUME_ROLE_DENIED"
    assert body["accountId"] == SPOKE
    assert ec2_paging.calls == []


def test_persistent_throttling_is_429(small_world, ec2_paging, fast_retries):
    # Given EC2 throttles every listing
    ec2_paging.throttle = True
    # When the hub's subnets are listed
    status, body = rest(
        small_world,
        "/ec2/subnets",
        {"region": REGION, "vpcId": "vpc-1234abcd"},
    )
    # Then after the client's bounded retries the caller gets a 429
    assert (status, body["error"]) == (429, "DRS_LIMIT_EXCEEDED")
    assert body["reason"] == "THROTTLED"
    assert body["message"].startswith("EC2 throttled")
    # (5 retries: 6 attempts of the first page)
    assert pages(ec2_paging, "describe_subnets") == [(100, None)] * 6
