"""The simulator's side effects in moto (same process): EC2, EventBridge.

Uses moto's backends directly, so it works both under ``mock_aws`` and
next to ``ThreadedMotoServer`` without credentials or endpoints.
"""

from __future__ import annotations

import json
from typing import Any

from ..scenario import NetworkSpec

RECOVERY_AMI = "ami-12c6146b"  # never validated by moto (AMI check off)


def _ec2(account: str, region: str) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[account][region]


def ensure_network(
    account: str, region: str, network: NetworkSpec | None
) -> dict[str, str]:
    """Create the scenario's VPC/subnets; return subnet name -> id.

    Without a network, the default VPC's first subnet is ``default``.
    """
    ec2 = _ec2(account, region)
    if network is None:
        subnets = sorted(
            ec2.get_default_subnets().values(),
            key=lambda s: s.availability_zone,
        )
        return {"default": subnets[0].id} if subnets else {}
    name = f"drs-sim-{network.vpc_cidr}"
    found = ec2.describe_vpcs(filters={"tag:Name": [name]})
    vpc = (
        found[0]
        if found
        else ec2.create_vpc(
            network.vpc_cidr, tags=[{"Key": "Name", "Value": name}]
        )
    )
    existing = {
        s.cidr_block: s.id
        for s in ec2.describe_subnets(filters={"vpc-id": [vpc.id]})
    }
    result = {}
    for sub in network.subnets:
        if sub.cidr in existing:  # loaded before (reset() keeps moto)
            result[sub.name] = existing[sub.cidr]
            continue
        zone = sub.availability_zone or f"{region}a"
        created = ec2.create_subnet(
            vpc.id,
            sub.cidr,
            availability_zone=zone,
            tags={"subnet": {"Name": sub.name}},
        )
        result[sub.name] = created.id
    return result


def create_launch_template(
    account: str,
    region: str,
    name: str,
    instance_type: str,
    subnet_id: str | None,
    private_ip: str | None,
) -> str:
    """Create the EC2 launch template DRS owns for one source server."""
    nic: dict[str, Any] = {"DeviceIndex": 0}
    if subnet_id:
        nic["SubnetId"] = subnet_id
    if private_ip:
        nic["PrivateIpAddress"] = private_ip
    data = {"InstanceType": instance_type, "NetworkInterfaces": [nic]}
    ec2 = _ec2(account, region)
    found = [t for t in ec2.describe_launch_templates() if t.name == name]
    if found:  # loaded before (reset() keeps moto): a new version
        found[0].create_version(data, "DRS launch template")
        return found[0].id
    template = ec2.create_launch_template(
        name, "AWS Elastic Disaster Recovery launch template", data, {}
    )
    return template.id


def launch_template_data(account: str, region: str, template_id: str) -> dict:
    """The latest version's data of a launch template."""
    template = _ec2(account, region).describe_launch_templates(
        template_ids=[template_id], template_names=[], filters={}
    )[0]
    return template.latest_version().data


def run_instance(
    account: str,
    region: str,
    template_id: str,
    copy_private_ip: bool,
    tags: dict[str, str],
) -> str:
    """Start a running EC2 instance from the launch template; its id."""
    data = launch_template_data(account, region, template_id)
    nic = (data.get("NetworkInterfaces") or [{}])[0]
    reservation = _ec2(account, region).run_instances(
        RECOVERY_AMI,
        1,
        None,
        [],
        instance_type=data.get("InstanceType", "t3.medium"),
        is_instance_type_default=False,
        region_name=region,
        subnet_id=nic.get("SubnetId"),
        private_ip=(nic.get("PrivateIpAddress") if copy_private_ip else None),
        tags={"instance": dict(tags)},
    )
    return reservation.instances[0].id


def terminate_instance(account: str, region: str, instance_id: str) -> None:
    """Terminate an EC2 instance (ignore one that no longer exists)."""
    ec2 = _ec2(account, region)
    try:
        ec2.terminate_instances([instance_id])
    except Exception:  # noqa: BLE001 - already gone is fine
        return


def put_event(account: str, region: str, entry: dict[str, Any]) -> None:
    """Publish an event on the default bus of moto's EventBridge."""
    from moto.events.models import events_backends

    events_backends[account][region].put_events(
        [
            {
                "Source": entry["source"],
                "DetailType": entry["detail-type"],
                "Detail": json.dumps(entry["detail"]),
                "Resources": entry["resources"],
                "EventBusName": "default",
            }
        ]
    )
