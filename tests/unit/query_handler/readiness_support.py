"""Plans, groups and breakages for the readiness tests (small_world:
web-01..10 Tier=Web, db-01/02 Tier=db STOPPED, app-001..008 Tier=app in
the hub; spoke-0..2 Tier=Web in the spoke)."""

import dataclasses
import json
from typing import Any, Dict, List, Optional

import boto3

from tests.helpers import HUB_ACCOUNT, REGION, api_event

PROFILE = "hub-recovery-profile"


@dataclasses.dataclass
class Network:
    vpc: str
    subnets: Dict[str, Dict[str, Any]]  # by AZ
    default_sg: str


def hub_network() -> Network:
    """The scenario's hub VPC, its subnets by AZ and default SG."""
    ec2 = boto3.client("ec2", region_name=REGION)
    subnets = [
        s
        for s in ec2.describe_subnets()["Subnets"]
        if s["CidrBlock"].startswith("10.0.")
    ]
    vpc = subnets[0]["VpcId"]
    groups = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}]
    )["SecurityGroups"]
    default = next(g for g in groups if g["GroupName"] == "default")
    return Network(
        vpc,
        {s["AvailabilityZone"]: s for s in subnets},
        default["GroupId"],
    )


def healthy_launch_config(network: Network) -> Dict[str, Any]:
    return {
        "subnetId": network.subnets["us-east-1a"]["SubnetId"],
        "securityGroupIds": [network.default_sg],
        "instanceType": "t3.medium",
        "instanceProfileName": PROFILE,
    }


def create_profile() -> None:
    boto3.client("iam", region_name=REGION).create_instance_profile(
        InstanceProfileName=PROFILE
    )


def put_group(
    world,
    group_id: str,
    tags: Dict[str, str],
    launch_config: Optional[Dict[str, Any]] = None,
    servers: Optional[List[Dict[str, Any]]] = None,
    **extra: Any,
) -> None:
    world.tables["PROTECTION_GROUPS_TABLE"].put_item(
        Item={
            "groupId": group_id,
            "groupName": group_id,
            "region": REGION,
            "serverSelectionTags": tags,
            "launchConfig": launch_config or {},
            "servers": servers or [],
            **extra,
        }
    )


def put_plan(world, plan_id: str, group_ids: List[str], **extra) -> None:
    world.tables["RECOVERY_PLANS_TABLE"].put_item(
        Item={
            "planId": plan_id,
            "planName": plan_id,
            "version": 1,
            "waves": [
                {
                    "waveNumber": i + 1,
                    "waveName": f"wave {i + 1}",
                    "protectionGroupId": g,
                }
                for i, g in enumerate(group_ids)
            ],
            **extra,
        }
    )


def readiness(world, plan_id: str) -> Dict[str, Any]:
    """GET /recovery-plans/{id}/readiness as a read-only user."""
    response = world.handler(
        api_event(
            "GET",
            f"/recovery-plans/{plan_id}/readiness",
            path_params={"id": plan_id},
            groups=("DRSReadOnly",),
        ),
        None,
    )
    assert response["statusCode"] == 200, response["body"]
    return json.loads(response["body"])


def check(report: Dict[str, Any], name: str) -> Dict[str, Any]:
    return next(c for c in report["checks"] if c["name"] == name)


def failing_hosts(report: Dict[str, Any], name: str) -> List[str]:
    return sorted(s["hostname"] for s in check(report, name)["servers"])


def set_replication(world, hostname: str, state: str) -> None:
    """Make the simulator report ``state`` for one hub server."""
    for server in world.sim.servers(HUB_ACCOUNT, REGION):
        if server.spec.hostname == hostname:
            server.spec = dataclasses.replace(
                server.spec, replication_state=state
            )
            return
    raise KeyError(hostname)


def start_outside_job(world, hostnames: List[str]) -> str:
    """A DRS drill started outside any plan."""
    ids = [world.sim.server_id(HUB_ACCOUNT, REGION, h) for h in hostnames]
    return boto3.client("drs", region_name=REGION).start_recovery(
        sourceServers=[{"sourceServerID": s} for s in ids], isDrill=True
    )["job"]["jobID"]
