"""A hub and a spoke account under moto, DRS answered by the simulator.

``world``: the five tables; the hub (123456789012) with 150 source servers
in us-east-1 (more than one DescribeSourceServers page) and a VPC; the
spoke (210987654321) registered in the target accounts table, its
cross-account role created in moto's IAM (trusting the hub with an
ExternalId), with 3 servers in us-east-1. us-west-2 is not initialized.
``small_world``: the same with 20 hub servers (faster to load).
"""

import contextlib
import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import boto3
import pytest

from localcloud.drs.testing import simulated_drs
from localcloud.scenario import scenario_from_dict
from tests.helpers import HUB_ACCOUNT, REGION, load_handler

SPOKE = "210987654321"
ROLE = "DRSOrchestrationCrossAccountRole"
EXTERNAL_ID = "ext-spoke-1"
HUB_SERVERS = 150


def scenario_data(hub_servers: int = HUB_SERVERS) -> Dict[str, Any]:
    return {
        "seed": 3,
        "accounts": [
            {
                "id": HUB_ACCOUNT,
                "name": "hub",
                "regions": {
                    REGION: {
                        "network": {
                            "vpc_cidr": "10.0.0.0/16",
                            "subnets": [
                                {
                                    "name": "app-a",
                                    "cidr": "10.0.1.0/24",
                                    "availability_zone": "us-east-1a",
                                },
                                {
                                    "name": "app-b",
                                    "cidr": "10.0.2.0/24",
                                    "availability_zone": "us-east-1b",
                                },
                            ],
                        },
                        "source_servers": [
                            {
                                "hostname": "web-{i:02d}",
                                "count": 10,
                                "tags": {"Tier": "Web", "Env": "prod"},
                                "hardware": {
                                    "cores": 4,
                                    "ram_gib": 16,
                                    "disks": [
                                        {
                                            "device": "/dev/xvda",
                                            "size_gib": 60,
                                        },
                                        {
                                            "device": "/dev/xvdb",
                                            "size_gib": 40,
                                        },
                                    ],
                                },
                            },
                            {
                                "hostname": "db-{i:02d}",
                                "count": 2,
                                "tags": {"Tier": "db", "Env": "prod"},
                                "replication_state": "STOPPED",
                            },
                            {
                                "hostname": "app-{i:03d}",
                                "count": hub_servers - 12,
                                "tags": {"Tier": "app"},
                            },
                        ],
                    }
                },
            },
            {
                "id": SPOKE,
                "name": "spoke",
                "role": "spoke",
                "cross_account_role": ROLE,
                "external_id": EXTERNAL_ID,
                "regions": {
                    REGION: {
                        "source_servers": [
                            {
                                "hostname": "spoke-{i}",
                                "count": 3,
                                "tags": {"Tier": "Web"},
                            }
                        ]
                    }
                },
            },
        ],
    }


@pytest.fixture(autouse=True)
def no_default_amis(monkeypatch):
    """moto loads ~4700 AMIs per account/region otherwise (slow); the
    simulator's instances are launched from templates without an AMI."""
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


@dataclass
class World:
    sim: Any
    tables: Dict[str, Any]
    handler: Any

    def direct(self, operation: str, **query: Any) -> Dict[str, Any]:
        """A direct invocation of the query-handler."""
        return self.handler(
            {"operation": operation, "queryParams": query}, None
        )


def create_spoke_role() -> None:
    """The spoke's cross-account role, trusting the hub with ExternalId."""
    creds = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{SPOKE}:role/OrganizationAccountAccessRole",
        RoleSessionName="setup",
    )["Credentials"]
    iam = boto3.client(
        "iam",
        region_name=REGION,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{HUB_ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
            }
        ],
    }
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    iam.create_instance_profile(InstanceProfileName="spoke-profile")


def register_spoke(table: Any, external_id: str = EXTERNAL_ID) -> None:
    table.put_item(
        Item={
            "accountId": SPOKE,
            "accountName": "spoke",
            "assumeRoleName": ROLE,
            "externalId": external_id,
            "isCurrentAccount": False,
        }
    )


@pytest.fixture
def make_world(ddb_tables):
    """Build the world with ``hub_servers`` source servers in the hub."""
    with contextlib.ExitStack() as stack:

        def make(hub_servers: int = HUB_SERVERS) -> World:
            scenario = scenario_from_dict(scenario_data(hub_servers))
            sim = stack.enter_context(
                simulated_drs(scenario, start_mock=False)
            )
            create_spoke_role()
            register_spoke(ddb_tables["TARGET_ACCOUNTS_TABLE"])
            handler = load_handler("query-handler").lambda_handler
            return World(sim, ddb_tables, handler)

        yield make


@pytest.fixture
def world(make_world):
    return make_world(HUB_SERVERS)


@pytest.fixture
def small_world(make_world):
    return make_world(20)


@pytest.fixture
def enforce_external_id():
    """Make STS evaluate the roles' ExternalId condition as AWS does.

    moto's AssumeRole accepts any ExternalId; this checks the request
    against the trust policy stored in moto's IAM and answers STS's
    AccessDenied when it does not match.
    """
    from botocore.awsrequest import AWSResponse
    from moto.iam.models import iam_backends

    from shared import aws_clients

    def check(params, **_):
        request = params["body"]  # the serialized AssumeRole query
        arn = request["RoleArn"]
        account, name = arn.split(":")[4], arn.split("/")[-1]
        role = iam_backends[account]["aws"].get_role(name)
        trust = json.loads(role.assume_role_policy_document)
        wanted = {
            s.get("Condition", {})
            .get("StringEquals", {})
            .get("sts:ExternalId")
            for s in trust["Statement"]
        }
        if request.get("ExternalId") in wanted:
            return None
        error = {
            "Error": {
                "Code": "AccessDenied",
                "Message": f"not authorized: sts:AssumeRole on {arn}",
            },
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }
        return AWSResponse(arn, 403, {}, None), error

    aws_clients._base_session().events.register(
        "before-call.sts.AssumeRole", check
    )
    yield


@pytest.fixture
def bare_handler(ddb_tables):
    """The handler over the tables only: requests that must fail before
    any DRS call (a DRS call here would be moto's 404, i.e. a 500)."""
    register_spoke(ddb_tables["TARGET_ACCOUNTS_TABLE"])
    handler = load_handler("query-handler").lambda_handler
    return World(None, ddb_tables, handler)


# EC2 operations of the launch-settings pickers and their item keys.
EC2_LISTINGS = {
    "describe_subnets": "Subnets",
    "describe_security_groups": "SecurityGroups",
    "describe_instance_type_offerings": "InstanceTypeOfferings",
    "describe_instance_types": "InstanceTypes",
}


@dataclass
class Ec2Call:
    operation: str
    account: str
    max_results: Optional[int]
    next_token: Optional[str]


@dataclass
class Ec2Paging:
    """What moto answered: ``calls`` in order, ``cap`` the most items
    a page holds whatever MaxResults asked (EC2 may answer fewer items
    than MaxResults, with a NextToken)."""

    calls: List[Ec2Call] = field(default_factory=list)
    cap: int = 1000
    throttle: bool = False

    def of(self, operation: str) -> List[Ec2Call]:
        return [c for c in self.calls if c.operation == operation]


@pytest.fixture
def ec2_paging(monkeypatch):
    """Make moto page EC2 listings as EC2 does (moto answers every item
    at once): MaxResults items at most (1000 without it, ``cap`` at
    most), an opaque NextToken; each call is recorded with the account
    it ran in. ``throttle`` makes every listing answer
    RequestLimitExceeded."""
    from moto.core.responses import ActionResult
    from moto.ec2.exceptions import EC2ClientError
    from moto.ec2.responses import EC2Response

    paging = Ec2Paging()

    def paged(operation: str, key: str, original: Any) -> Any:
        def method(self):
            limit = self._get_param("MaxResults")
            token = self._get_param("NextToken")
            paging.calls.append(
                Ec2Call(
                    operation,
                    self.current_account,
                    None if limit is None else int(limit),
                    token,
                )
            )
            if paging.throttle:
                raise EC2ClientError(
                    "RequestLimitExceeded", "Request limit exceeded."
                )
            answer = original(self)
            items = list(answer.result[key])
            start = int(token or 0)
            size = min(int(limit or 1000), paging.cap)
            page = dict(answer.result, **{key: items[start : start + size]})
            page.pop("NextToken", None)
            if start + size < len(items):
                page["NextToken"] = str(start + size)
            return ActionResult(page)

        return method

    for operation, key in EC2_LISTINGS.items():
        original = getattr(EC2Response, operation)
        monkeypatch.setattr(
            EC2Response, operation, paged(operation, key, original)
        )
    yield paging
