"""``POST /protection-groups/{id}/servers/{serverId}/validate-ip``.

The launch-settings dialog of the reference console asks, before it
saves a server's ``staticPrivateIp``, whether the address can be given
to the recovery instance in the chosen subnet of the group's account
and region: a well-formed IPv4 address inside the subnet's CIDR, not
one of the five addresses AWS reserves in every subnet (the network
address, the next three and the broadcast address) and not held by a
network interface now. A malformed request is a 400; an address that
cannot be used is a 200 answer with ``valid: false`` and the reason,
which is what the dialog shows.
"""

import ipaddress
from typing import Any, Dict, List, Optional

from botocore.exceptions import ClientError

import drs_lookup
from data_routes import router
from group_launch_config import require_member
from group_validation import FIELD_CHECKS
from protection_groups import get_group
from shared.api import Request
from shared.aws_errors import aws_errors
from shared.errors import ValidationError
from shared.validation import reject_unknown

# groupId/serverId: where direct invocation names the path.
BODY_FIELDS = ("staticPrivateIp", "subnetId", "groupId", "serverId")
# AWS reserves the first four addresses and the last one of a subnet.
RESERVED_HEAD = 4
DRS_TAG = "AWSElasticDisasterRecoveryManaged"


def _request_fields(body: Dict[str, Any]) -> Dict[str, str]:
    reject_unknown(body, BODY_FIELDS, "body")
    values = {}
    for name in ("staticPrivateIp", "subnetId"):
        value = body.get(name)
        if value in (None, ""):
            raise ValidationError(f"{name} is required", field=name)
        FIELD_CHECKS[name](value, name)
        values[name] = value
    return values


def _subnet(ec2: Any, subnet_id: str) -> Optional[Dict[str, Any]]:
    try:
        subnets = ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"]
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code.startswith("InvalidSubnet"):
            return None
        raise
    return subnets[0] if subnets else None


def _holders(ec2: Any, subnet_id: str, ip: str) -> List[Dict[str, Any]]:
    return ec2.describe_network_interfaces(
        Filters=[
            {"Name": "subnet-id", "Values": [subnet_id]},
            {"Name": "addresses.private-ip-address", "Values": [ip]},
        ]
    ).get("NetworkInterfaces", [])


def _conflict(eni: Dict[str, Any]) -> Dict[str, Any]:
    tags = {t.get("Key"): t.get("Value") for t in eni.get("TagSet") or []}
    attachment = eni.get("Attachment") or {}
    return {
        "type": "network-interface",
        "id": eni.get("NetworkInterfaceId"),
        "name": eni.get("Description") or tags.get("Name") or "",
        "instanceId": attachment.get("InstanceId"),
        "isDrsResource": DRS_TAG in tags,
    }


def judge_ip(ec2: Any, ip: str, subnet_id: str) -> Dict[str, Any]:
    """Whether ``ip`` can be a recovery instance's address in the subnet
    (the console's answer shape: ``valid``, ``details``, ``message``)."""
    answer: Dict[str, Any] = {"ip": ip, "subnetId": subnet_id}
    subnet = _subnet(ec2, subnet_id)
    if subnet is None:
        message = f"subnet {subnet_id} does not exist"
        return dict(answer, valid=False, error=message, message=message)
    network = ipaddress.ip_network(subnet["CidrBlock"])
    address = ipaddress.ip_address(ip)
    inside = address in network
    offset = int(address) - int(network.network_address)
    not_reserved = (
        inside and RESERVED_HEAD <= offset < network.num_addresses - 1
    )
    holders = _holders(ec2, subnet_id, ip) if not_reserved else []
    details = {
        "inCidrRange": inside,
        "notReserved": not_reserved,
        "available": not_reserved and not holders,
        "subnetCidr": subnet["CidrBlock"],
        "vpcId": subnet.get("VpcId"),
        "availabilityZone": subnet.get("AvailabilityZone"),
    }
    answer["details"] = details
    if not inside:
        problem = f"{ip} is outside subnet {subnet_id} ({network})"
    elif not not_reserved:
        problem = f"{ip} is reserved by AWS in subnet {subnet_id}"
    elif holders:
        answer["conflictingResource"] = _conflict(holders[0])
        problem = (
            f"{ip} is already in use by network interface "
            f"{holders[0].get('NetworkInterfaceId')}"
        )
    else:
        return dict(
            answer, valid=True, message=f"{ip} is available in {subnet_id}"
        )
    return dict(answer, valid=False, error=problem, message=problem)


@router.operation("validate_server_static_ip")
def validate_server_static_ip(request: Request) -> Dict[str, Any]:
    """A server's static private IP checked in the group's account and
    region (the group and its member must exist: 404 otherwise)."""
    fields = _request_fields(request.body)
    group = get_group(request.path_param("id"))
    server_id = request.path_param("serverId")
    require_member(group, server_id)
    region, account_id = group["region"], group.get("accountId")
    ec2 = drs_lookup.ec2_client(region, account_id)
    with aws_errors("EC2", account_id, region):
        answer = judge_ip(ec2, fields["staticPrivateIp"], fields["subnetId"])
    return dict(
        answer, protectionGroupId=group["groupId"], sourceServerId=server_id
    )
