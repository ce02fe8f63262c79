"""The simulator's side effects in moto (same process): EC2, EventBridge.

Uses moto's backends directly, so it works both under ``mock_aws`` and
next to ``ThreadedMotoServer`` without credentials or endpoints.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from ..scenario import NetworkSpec

RECOVERY_AMI = "ami-12c6146b"  # never validated by moto (AMI check off)
DRS_MANAGED_TAG = "AWSElasticDisasterRecoveryManaged"


class LaunchError(Exception):
    """EC2 refused to launch a recovery instance (the launch fails)."""


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


def subnet_cidr(account: str, region: str, subnet_id: str) -> str:
    """The IPv4 CIDR block of a subnet."""
    return _ec2(account, region).get_subnet(subnet_id).cidr_block


def source_subnet(account: str, region: str, subnet_id: str) -> str:
    """The source environment's twin of a recovery subnet; its id.

    Source EC2 instances live in their own VPC with the recovery VPC's
    CIDRs (as a source region mirrored by the recovery network would), so
    ``copyPrivateIp`` can reuse a source IP without an address clash.
    """
    ec2 = _ec2(account, region)
    subnet = ec2.get_subnet(subnet_id)
    vpc_cidr = ec2.get_vpc(subnet.vpc_id).cidr_block
    name = f"drs-sim-source-{vpc_cidr}"
    found = ec2.describe_vpcs(filters={"tag:Name": [name]})
    vpc = (
        found[0]
        if found
        else ec2.create_vpc(vpc_cidr, tags=[{"Key": "Name", "Value": name}])
    )
    for twin in ec2.describe_subnets(filters={"vpc-id": [vpc.id]}):
        if twin.cidr_block == subnet.cidr_block:
            return twin.id
    return ec2.create_subnet(
        vpc.id,
        subnet.cidr_block,
        availability_zone=subnet.availability_zone,
        tags={"subnet": {"Name": f"source-{subnet.cidr_block}"}},
    ).id


def ensure_source_instance(
    account: str,
    region: str,
    subnet_id: str,
    private_ip: str,
    instance_type: str,
    tags: dict[str, str],
) -> str:
    """The running source EC2 instance at ``private_ip``; created once."""
    ec2 = _ec2(account, region)
    for instance in ec2.all_instances():
        if (
            instance.subnet_id == subnet_id
            and instance.private_ip == private_ip
            and instance.state == "running"
        ):
            return instance.id  # loaded before (reset() keeps moto)
    reservation = ec2.run_instances(
        RECOVERY_AMI,
        1,
        None,
        [],
        instance_type=instance_type,
        is_instance_type_default=False,
        region_name=region,
        subnet_id=subnet_id,
        private_ip=private_ip,
        tags={"instance": dict(tags)} if tags else {},
    )
    return reservation.instances[0].id


def create_launch_template(
    account: str,
    region: str,
    name: str,
    instance_type: str,
    subnet_id: str | None,
) -> str:
    """Create the EC2 launch template DRS owns for one source server.

    Its network interface has no private IP: the orchestrator may set a
    static one (a new default version) for launches without
    ``copyPrivateIp``.
    """
    nic: dict[str, Any] = {"DeviceIndex": 0}
    if subnet_id:
        nic["SubnetId"] = subnet_id
    data = {"InstanceType": instance_type, "NetworkInterfaces": [nic]}
    ec2 = _ec2(account, region)
    found = [t for t in ec2.describe_launch_templates() if t.name == name]
    if found:  # loaded before (reset() keeps moto): a new default version
        version = found[0].create_version(data, "DRS launch template")
        found[0].default_version_number = version.number
        return found[0].id
    template = ec2.create_launch_template(
        name, "AWS Elastic Disaster Recovery launch template", data, {}
    )
    return template.id


def launch_template_data(account: str, region: str, template_id: str) -> dict:
    """The data of a launch template's DEFAULT version (what DRS uses)."""
    template = _ec2(account, region).describe_launch_templates(
        template_ids=[template_id], template_names=[], filters={}
    )[0]
    return template.default_version().data


def run_instance(
    account: str,
    region: str,
    template_id: str,
    source_ip: str | None,
    tags: dict[str, str],
) -> tuple[str, str | None]:
    """Start a running EC2 instance from the launch template; its id and
    private IP.

    ``source_ip`` (``copyPrivateIp`` on) replaces the template's private
    IP and must lie in the template's subnet; without it the template's
    static IP, if any, is used. Raises ``LaunchError`` when EC2 refuses
    (IP outside the subnet or in use).
    """
    data = launch_template_data(account, region, template_id)
    nic = (data.get("NetworkInterfaces") or [{}])[0]
    subnet_id = nic.get("SubnetId")
    private_ip = source_ip or nic.get("PrivateIpAddress")
    if source_ip and subnet_id:
        cidr = subnet_cidr(account, region, subnet_id)
        if ipaddress.ip_address(source_ip) not in ipaddress.ip_network(cidr):
            raise LaunchError(
                f"copyPrivateIp: the source server's private IP "
                f"{source_ip} is not in the launch template's subnet "
                f"{subnet_id} ({cidr})"
            )
    try:
        reservation = _ec2(account, region).run_instances(
            RECOVERY_AMI,
            1,
            None,
            [],
            instance_type=data.get("InstanceType", "t3.medium"),
            is_instance_type_default=False,
            region_name=region,
            subnet_id=subnet_id,
            private_ip=private_ip,
            tags={"instance": dict(tags)},
        )
    except Exception as exc:  # noqa: BLE001 - moto raises plain Exception
        raise LaunchError(
            f"EC2 RunInstances failed (private IP {private_ip}): {exc}"
        ) from exc
    instance = reservation.instances[0]
    return instance.id, getattr(instance, "private_ip", None)


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
