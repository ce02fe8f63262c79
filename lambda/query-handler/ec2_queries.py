"""``/ec2/subnets|security-groups|instance-types|instance-profiles``.

Launch-settings pickers: every page read, in the requested account
(``accountId``) and region.
"""

from typing import Any, Dict, List, Optional

from query_inputs import (
    SESSION_NAME,
    Target,
    availability_zone_param,
    instance_family_param,
    region_param,
    target_param,
    vpc_param,
)
from query_routes import router
from shared.api import Request
from shared.aws_clients import (
    create_client_for_account,
    create_ec2_client,
    resolve_region,
)
from shared.aws_errors import aws_errors
from shared.aws_pagination import all_items
from shared.console_shapes import (
    instance_profile_option,
    instance_type_option,
    security_group_option,
    subnet_option,
)

# DescribeInstanceTypes accepts at most this many names per call.
INSTANCE_TYPES_PER_CALL = 100


def _ec2(target: Target, ec2_client: Optional[Any]) -> Any:
    return ec2_client or create_ec2_client(
        target.region, target.account_context, session_name=SESSION_NAME
    )


def _name_tag(tags: Optional[List[Dict[str, str]]]) -> Optional[str]:
    for tag in tags or []:
        if tag.get("Key") == "Name":
            return tag.get("Value")
    return None


def list_subnets(
    target: Target,
    vpc_id: Optional[str],
    availability_zone: Optional[str] = None,
    ec2_client: Optional[Any] = None,
) -> List[Dict[str, Any]]:
    """Subnets of a VPC (every VPC without one), optionally of one
    availability zone."""
    filters = [{"Name": "vpc-id", "Values": [vpc_id]}] if vpc_id else []
    if availability_zone:
        filters.append(
            {"Name": "availability-zone", "Values": [availability_zone]}
        )
    with aws_errors("EC2", target.account_id, target.region):
        subnets = all_items(
            _ec2(target, ec2_client),
            "describe_subnets",
            "Subnets",
            Filters=filters,
        )
    return sorted(
        (
            {
                "subnetId": s["SubnetId"],
                "vpcId": s["VpcId"],
                "availabilityZone": s.get("AvailabilityZone"),
                "cidrBlock": s.get("CidrBlock"),
                "availableIpAddressCount": s.get("AvailableIpAddressCount"),
                "defaultForAz": bool(s.get("DefaultForAz")),
                "name": _name_tag(s.get("Tags")),
            }
            for s in subnets
        ),
        key=lambda s: (s["availabilityZone"] or "", s["subnetId"]),
    )


def list_security_groups(
    target: Target, vpc_id: Optional[str], ec2_client: Optional[Any] = None
) -> List[Dict[str, Any]]:
    """Security groups of a VPC (of every VPC without one)."""
    filters = [{"Name": "vpc-id", "Values": [vpc_id]}] if vpc_id else []
    with aws_errors("EC2", target.account_id, target.region):
        groups = all_items(
            _ec2(target, ec2_client),
            "describe_security_groups",
            "SecurityGroups",
            Filters=filters,
        )
    return sorted(
        (
            {
                "groupId": g["GroupId"],
                "groupName": g.get("GroupName"),
                "description": g.get("Description"),
                "vpcId": g.get("VpcId"),
                "name": _name_tag(g.get("Tags")),
            }
            for g in groups
        ),
        key=lambda g: (g["groupName"] or "", g["groupId"]),
    )


def list_instance_types(
    target: Target,
    family: Optional[str] = None,
    availability_zone: Optional[str] = None,
    ec2_client: Optional[Any] = None,
) -> List[Dict[str, Any]]:
    """Instance types offered in the region (or zone), by family."""
    location: Dict[str, Any] = {"LocationType": "region"}
    filters = [{"Name": "location", "Values": [target.region]}]
    if availability_zone:
        location = {"LocationType": "availability-zone"}
        filters = [{"Name": "location", "Values": [availability_zone]}]
    with aws_errors("EC2", target.account_id, target.region):
        ec2 = _ec2(target, ec2_client)
        offered = sorted(
            {
                o["InstanceType"]
                for o in all_items(
                    ec2,
                    "describe_instance_type_offerings",
                    "InstanceTypeOfferings",
                    Filters=filters,
                    **location,
                )
                # Family matched here, not by a "t3.*" filter: moto
                # compares instance-type filter values literally.
                if not family or o["InstanceType"].split(".")[0] == family
            }
        )
        details: Dict[str, Dict[str, Any]] = {}
        for start in range(0, len(offered), INSTANCE_TYPES_PER_CALL):
            names = offered[start : start + INSTANCE_TYPES_PER_CALL]
            # EC2 may answer fewer items than asked, with a NextToken.
            for item in all_items(
                ec2,
                "describe_instance_types",
                "InstanceTypes",
                page_size=INSTANCE_TYPES_PER_CALL,
                InstanceTypes=names,
            ):
                details[item["InstanceType"]] = item
    return [_instance_type(name, details.get(name) or {}) for name in offered]


def _instance_type(name: str, detail: Dict[str, Any]) -> Dict[str, Any]:
    memory = (detail.get("MemoryInfo") or {}).get("SizeInMiB")
    return {
        "instanceType": name,
        "family": name.split(".", 1)[0],
        "vCpus": (detail.get("VCpuInfo") or {}).get("DefaultVCpus"),
        "memoryMiB": memory,
        "memoryGiB": round(memory / 1024, 2) if memory else None,
        "currentGeneration": detail.get("CurrentGeneration"),
    }


def list_instance_profiles(
    target: Target, iam_client: Optional[Any] = None
) -> List[Dict[str, Any]]:
    """IAM instance profiles of the account (IAM is global)."""
    with aws_errors("IAM", target.account_id):
        iam = iam_client or create_client_for_account(
            "iam",
            target.region,
            target.account_context,
            session_name=SESSION_NAME,
        )
        profiles = all_items(iam, "list_instance_profiles", "InstanceProfiles")
    return sorted(
        (
            {
                "instanceProfileName": p["InstanceProfileName"],
                "instanceProfileId": p.get("InstanceProfileId"),
                "arn": p.get("Arn"),
                "path": p.get("Path"),
                "roles": [r["RoleName"] for r in p.get("Roles") or []],
            }
            for p in profiles
        ),
        key=lambda p: p["instanceProfileName"],
    )


def _listing(key: str, items: List[Any], region: str) -> Dict[str, Any]:
    return {key: items, "totalCount": len(items), "region": region}


@router.operation("get_ec2_subnets")
def get_ec2_subnets(request: Request) -> Dict[str, Any]:
    """Subnets: ``region`` required; ``vpcId`` (the seeds' filter; the
    console's picker omits it: every VPC) and ``availabilityZone``."""
    region = region_param(request)
    vpc_id = vpc_param(request, required=False)
    zone = availability_zone_param(request, region)
    subnets = list_subnets(target_param(request, region), vpc_id, zone)
    return _listing("subnets", [subnet_option(s) for s in subnets], region)


@router.operation("get_ec2_security_groups")
def get_ec2_security_groups(request: Request) -> Dict[str, Any]:
    """Security groups: ``region`` required, ``vpcId`` as for subnets."""
    region = region_param(request)
    vpc_id = vpc_param(request, required=False)
    groups = list_security_groups(target_param(request, region), vpc_id)
    options = [security_group_option(g) for g in groups]
    return _listing("securityGroups", options, region)


@router.operation("get_ec2_instance_types")
def get_ec2_instance_types(request: Request) -> Dict[str, Any]:
    """Instance types offered: ``region`` required, ``instanceFamily``
    and ``availabilityZone`` optional."""
    region = region_param(request)
    family = instance_family_param(request)
    zone = availability_zone_param(request, region)
    types = list_instance_types(target_param(request, region), family, zone)
    options = [instance_type_option(t) for t in types]
    return _listing("instanceTypes", options, region)


@router.operation("get_ec2_instance_profiles")
def get_ec2_instance_profiles(request: Request) -> Dict[str, Any]:
    """IAM instance profiles (``region`` optional: IAM is global)."""
    region = region_param(request, required=False) or resolve_region(None)
    profiles = list_instance_profiles(target_param(request, region))
    options = [instance_profile_option(p) for p in profiles]
    return _listing("instanceProfiles", options, region)
