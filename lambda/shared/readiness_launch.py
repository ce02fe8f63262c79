"""Readiness of the launch configuration, in each target account/region.

For every server, the effective configuration (group defaults + its
overrides, ``shared.config_merge``) is judged against EC2 as it is now:
the subnet exists; the security groups exist in the subnet's VPC; the
instance type is offered in the subnet's AZ; a static private IP lies in
the subnet's CIDR and no network interface holds it; the instance
profile exists; DRS's EC2 launch template for the server exists.

EC2 is listed once per account/region (subnets, security groups, launch
templates, the interfaces of the subnets used, the offerings of the AZs
used); DRS is asked only ``GetLaunchConfiguration`` per server (for its
launch template), on a bounded thread pool.
"""

import ipaddress
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set

from botocore.exceptions import BotoCoreError, ClientError

from shared.aws_pagination import all_items
from shared.config_merge import get_effective_launch_config
from shared.readiness_checks import PlanView, finding
from shared.readiness_inventory import ClientFactory, Inventory
from shared.readiness_result import NOT_READY, check_result

MAX_WORKERS = 16
FILTER_CHUNK = 200  # EC2 filter values per request


@dataclass
class Ec2View:
    """One account/region's EC2 resources the configurations name."""

    subnets: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    group_vpcs: Dict[str, str] = field(default_factory=dict)
    offered: Dict[str, Set[str]] = field(default_factory=dict)
    used_ips: Set[str] = field(default_factory=set)
    profiles: Set[str] = field(default_factory=set)
    templates: Set[str] = field(default_factory=set)
    template_of: Dict[str, Optional[str]] = field(default_factory=dict)


def _chunks(values: List[str]) -> List[List[str]]:
    return [
        values[i : i + FILTER_CHUNK]
        for i in range(0, len(values), FILTER_CHUNK)
    ]


def _profile_name(config: Dict[str, Any]) -> Optional[str]:
    arn = config.get("instanceProfileArn")
    if arn:
        return str(arn).rsplit("/", 1)[-1]
    return config.get("instanceProfileName")


def _launch_templates(
    drs: Any, server_ids: List[str]
) -> Dict[str, Optional[str]]:
    """Server id -> the EC2 launch template DRS launches it with."""

    def one(server_id: str) -> Optional[str]:
        try:
            answer = drs.get_launch_configuration(sourceServerID=server_id)
        except ClientError:
            return None
        return answer.get("ec2LaunchTemplateID")

    with ThreadPoolExecutor(max_workers=MAX_WORKERS) as pool:
        return dict(zip(server_ids, pool.map(one, server_ids)))


def read_ec2(
    inventory: Inventory,
    configs: Dict[str, Dict[str, Any]],
    clients: ClientFactory,
) -> Ec2View:
    """The EC2/IAM resources of one account/region the configs use."""
    region, context = inventory.region, inventory.context
    ec2 = clients("ec2", region, context)
    view = Ec2View()
    view.subnets = {
        s["SubnetId"]: s for s in all_items(ec2, "describe_subnets", "Subnets")
    }
    view.group_vpcs = {
        g["GroupId"]: g.get("VpcId")
        for g in all_items(ec2, "describe_security_groups", "SecurityGroups")
    }
    view.templates = {
        t["LaunchTemplateId"]
        for t in all_items(ec2, "describe_launch_templates", "LaunchTemplates")
    }
    used = sorted(
        {c["subnetId"] for c in configs.values() if c.get("subnetId")}
        & set(view.subnets)
    )
    if any(c.get("staticPrivateIp") for c in configs.values()):
        for chunk in _chunks(used):
            for eni in all_items(
                ec2,
                "describe_network_interfaces",
                "NetworkInterfaces",
                Filters=[{"Name": "subnet-id", "Values": chunk}],
            ):
                view.used_ips.update(
                    a.get("PrivateIpAddress")
                    for a in eni.get("PrivateIpAddresses") or []
                )
    for zone in sorted({view.subnets[s]["AvailabilityZone"] for s in used}):
        view.offered[zone] = {
            o["InstanceType"]
            for o in all_items(
                ec2,
                "describe_instance_type_offerings",
                "InstanceTypeOfferings",
                page_size=1000,
                LocationType="availability-zone",
                Filters=[{"Name": "location", "Values": [zone]}],
            )
        }
    names = {_profile_name(c) for c in configs.values()} - {None}
    if names:
        iam = clients("iam", region, context)
        view.profiles = {
            p["InstanceProfileName"]
            for p in all_items(
                iam, "list_instance_profiles", "InstanceProfiles"
            )
        }
    drs = clients("drs", region, context)
    view.template_of = _launch_templates(drs, sorted(configs))
    return view


def _network_problems(config: Dict[str, Any], view: Ec2View) -> List[str]:
    subnet_id = config.get("subnetId")
    subnet = view.subnets.get(subnet_id) if subnet_id else None
    if subnet_id and subnet is None:
        return [f"subnet {subnet_id} does not exist"]
    problems = []
    for group_id in config.get("securityGroupIds") or []:
        vpc = view.group_vpcs.get(group_id)
        if group_id not in view.group_vpcs:
            problems.append(f"security group {group_id} does not exist")
        elif subnet is not None and vpc != subnet.get("VpcId"):
            problems.append(
                f"security group {group_id} is in {vpc}, not in the "
                f"subnet's VPC {subnet.get('VpcId')}"
            )
    if subnet is None:
        return problems
    zone = subnet["AvailabilityZone"]
    instance_type = config.get("instanceType")
    if instance_type and instance_type not in view.offered.get(zone, set()):
        problems.append(
            f"instance type {instance_type} is not offered in {zone}"
        )
    ip = config.get("staticPrivateIp")
    if ip:
        try:
            inside = ipaddress.ip_address(ip) in ipaddress.ip_network(
                subnet["CidrBlock"]
            )
        except ValueError:
            inside = False
        if not inside:
            problems.append(
                f"static IP {ip} is outside subnet {subnet_id} "
                f"({subnet['CidrBlock']})"
            )
        elif ip in view.used_ips:
            problems.append(f"static IP {ip} is already in use")
    return problems


def server_problems(
    server_id: str, config: Dict[str, Any], view: Ec2View
) -> List[str]:
    """What in one server's effective configuration will not launch."""
    problems = _network_problems(config, view)
    profile = _profile_name(config)
    if profile and profile not in view.profiles:
        problems.append(f"instance profile {profile} does not exist")
    template = view.template_of.get(server_id)
    if template is None or template not in view.templates:
        problems.append(
            f"DRS launch template {template or '(none)'} does not exist"
        )
    return problems


def check_launch_configuration(
    view: PlanView, clients: ClientFactory
) -> Dict[str, Any]:
    """Every server's launch configuration is launchable as it stands."""
    servers: List[Dict[str, Any]] = []
    problems = []
    for key, inventory in sorted(
        view.inventories.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])
    ):
        members = [
            (wave, server_id, server)
            for wave, server_id, server in view.servers()
            if wave.location == key and server is not None
        ]
        if not members:
            continue
        configs = {
            sid: get_effective_launch_config(_group_of(wave, sid), sid)
            for wave, sid, _ in members
        }
        try:
            ec2 = read_ec2(inventory, configs, clients)
        except (ClientError, BotoCoreError) as error:
            problems.append(
                {
                    "status": NOT_READY,
                    "message": f"{inventory.where}: EC2 cannot be read "
                    f"({error})",
                    "resource": {"accountId": key[0], "region": key[1]},
                }
            )
            continue
        for wave, server_id, server in members:
            found = server_problems(server_id, configs[server_id], ec2)
            if found:
                servers.append(
                    finding(
                        wave, server_id, server, NOT_READY, "; ".join(found)
                    )
                )
    return check_result(
        "launch_configuration",
        "every server's launch configuration is launchable",
        servers,
        problems,
    )


def _group_of(wave: Any, server_id: str) -> Dict[str, Any]:
    """The group whose launch settings apply to the server (a wave of
    several groups: each server's own, ``readiness_groups``)."""
    by_server = getattr(wave, "server_groups", None) or {}
    return by_server.get(server_id) or wave.group
