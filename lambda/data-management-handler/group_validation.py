"""Validation of protection group input (create, update, import).

Shape first (400 naming the field), then what only AWS can tell: the
source servers exist in DRS, the subnets and security groups exist in EC2,
a static private IP lies in its subnet's CIDR.
"""

import ipaddress
import re
from typing import Any, Dict, Iterable, List, Optional, Set

from botocore.exceptions import ClientError

from shared.config_manifest import GROUP_FIELDS as MANIFEST_GROUP_FIELDS
from shared.config_merge import get_effective_launch_config
from shared.errors import ValidationError
from shared.validation import (
    check_text,
    reject_unknown,
    validate_account_id,
    validate_bool,
    validate_choice,
    validate_description,
    validate_name,
    validate_region,
    validate_source_server_id,
    validate_source_server_ids,
    validate_tags,
)

# The fields a caller sets: the manifest's, minus the generated id.
GROUP_FIELDS = tuple(f for f in MANIFEST_GROUP_FIELDS if f != "groupId")
LAUNCH_CONFIG_FIELDS = (
    "subnetId",
    "securityGroupIds",
    "instanceType",
    "instanceProfileName",
    "copyPrivateIp",
    "copyTags",
    "licensing",
    "targetInstanceTypeRightSizingMethod",
    "launchDisposition",
)
SERVER_FIELDS = (
    "sourceServerId",
    "useGroupDefaults",
    "launchTemplate",
    "staticPrivateIp",
    "instanceType",
    "subnetId",
)
# What the reference console keeps on a server entry to show it (the EC2
# instance the server replicates and its tags): stored, never used to
# launch.
CONSOLE_SERVER_FIELDS = ("instanceId", "instanceName", "tags")
INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8,17}$")
RIGHT_SIZING = ("NONE", "BASIC", "IN_AWS")
DISPOSITIONS = ("STOPPED", "STARTED")
SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
SG_ID = re.compile(r"^sg-[0-9a-f]{8,17}$")
INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
PROFILE_NAME = re.compile(r"^[\w+=,.@-]{1,128}$")
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")


def _pattern(value: Any, pattern: re.Pattern, field: str, what: str):
    if not isinstance(value, str) or not pattern.match(value):
        raise ValidationError(f"{field} must be {what}", field=field)
    return value


def _sg_list(value: Any, name: str) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError(f"{name} must be a non-empty list", field=name)
    for sg in value:
        _pattern(sg, SG_ID, name, "a list of sg-... ids")


def _licensing(value: Any, name: str) -> None:
    if not isinstance(value, dict) or set(value) - {"osByol"}:
        raise ValidationError(
            f"{name} must be {{'osByol': true|false}}", field=name
        )
    validate_bool(value.get("osByol", False), name + ".osByol")


def _ipv4(value: Any, name: str) -> None:
    try:
        ipaddress.IPv4Address(value)
    except (ValueError, TypeError):
        raise ValidationError(
            f"{name} must be an IPv4 address", field=name
        ) from None


FIELD_CHECKS = {
    "subnetId": lambda v, n: _pattern(v, SUBNET_ID, n, "a subnet id"),
    "securityGroupIds": _sg_list,
    "instanceType": lambda v, n: _pattern(
        v, INSTANCE_TYPE, n, "an instance type"
    ),
    "instanceProfileName": lambda v, n: _pattern(
        v, PROFILE_NAME, n, "an instance profile name"
    ),
    "copyPrivateIp": lambda v, n: validate_bool(v, n),
    "copyTags": lambda v, n: validate_bool(v, n),
    "licensing": _licensing,
    "targetInstanceTypeRightSizingMethod": lambda v, n: validate_choice(
        v, n, RIGHT_SIZING
    ),
    "launchDisposition": lambda v, n: validate_choice(v, n, DISPOSITIONS),
    "staticPrivateIp": _ipv4,
}


def validate_launch_config(
    config: Any, field: str = "launchConfig", template: bool = False
) -> Dict[str, Any]:
    """Group defaults or a server's ``launchTemplate`` (typed, no extras)."""
    if not isinstance(config, dict):
        raise ValidationError(f"{field} must be an object", field=field)
    allowed = LAUNCH_CONFIG_FIELDS + (("staticPrivateIp",) if template else ())
    reject_unknown(config, allowed, field)
    for key, value in config.items():
        FIELD_CHECKS[key](value, f"{field}.{key}")
    return config


def _console_server_fields(entry: Dict[str, Any], where: str) -> None:
    """The console's descriptive fields of a server entry, typed."""
    if entry.get("instanceId") not in (None, ""):
        _pattern(
            entry["instanceId"],
            INSTANCE_ID,
            f"{where}.instanceId",
            "an EC2 instance id",
        )
    if entry.get("instanceName") not in (None, ""):
        check_text(entry["instanceName"], f"{where}.instanceName", 256)
    if entry.get("tags") not in (None, {}):
        validate_tags(entry["tags"], f"{where}.tags")


def validate_servers(value: Any) -> List[Dict[str, Any]]:
    """Per-server overrides ``[{sourceServerId, useGroupDefaults,
    launchTemplate}]``."""
    if not isinstance(value, list):
        raise ValidationError("servers must be a list", field="servers")
    seen: Set[str] = set()
    for index, entry in enumerate(value):
        validate_server(entry, f"servers[{index}]", seen)
    return value


def validate_server(
    entry: Any,
    where: str,
    seen: Set[str],
    fields: Iterable[str] = SERVER_FIELDS + CONSOLE_SERVER_FIELDS,
    id_field: str = "sourceServerId",
) -> str:
    """One per-server override at ``where``; its server id, added to
    ``seen`` (the ids of the entries before it: none twice). ``fields``
    and ``id_field``: the names the caller's entries use (the console's
    bulk call names the id ``serverId``)."""
    if not isinstance(entry, dict):
        raise ValidationError(f"{where} must be an object", field=where)
    reject_unknown(entry, fields, where)
    _console_server_fields(entry, where)
    named = f"{where}.{id_field}"
    sid = validate_source_server_id(entry.get(id_field), named)
    if sid in seen:
        raise ValidationError(f"{named} {sid} is listed twice", field=named)
    seen.add(sid)
    if "useGroupDefaults" in entry:
        validate_bool(entry["useGroupDefaults"], f"{where}.useGroupDefaults")
    if "launchTemplate" in entry:
        validate_launch_config(
            entry["launchTemplate"], f"{where}.launchTemplate", True
        )
    flat = {k: entry[k] for k in SERVER_FIELDS[3:] if k in entry}
    validate_launch_config(flat, where, True)
    return sid


def validate_group_shape(body: Dict[str, Any]) -> Dict[str, Any]:
    """A complete group's fields, normalized (no AWS calls)."""
    reject_unknown(body, GROUP_FIELDS)
    group: Dict[str, Any] = {
        "groupName": validate_name(body.get("groupName"), "groupName"),
        "region": validate_region(body.get("region")),
    }
    description = validate_description(body.get("description"))
    if description:
        group["description"] = description
    if body.get("accountId"):
        group["accountId"] = validate_account_id(body["accountId"])
    if body.get("assumeRoleName"):
        group["assumeRoleName"] = _pattern(
            body["assumeRoleName"], ROLE_NAME, "assumeRoleName", "a role name"
        )
    has_ids = body.get("sourceServerIds") not in (None, [])
    has_tags = body.get("serverSelectionTags") not in (None, {})
    if has_ids == has_tags:
        raise ValidationError(
            "give exactly one of sourceServerIds or serverSelectionTags",
            field="sourceServerIds",
        )
    if has_ids:
        group["sourceServerIds"] = validate_source_server_ids(
            body["sourceServerIds"]
        )
    else:
        group["serverSelectionTags"] = {
            k.strip(): v.strip()
            for k, v in validate_tags(
                body["serverSelectionTags"], "serverSelectionTags"
            ).items()
        }
    if body.get("launchConfig") is not None:
        group["launchConfig"] = validate_launch_config(body["launchConfig"])
    if body.get("servers") is not None:
        group["servers"] = validate_servers(body["servers"])
        members = group.get("sourceServerIds")
        for index, entry in enumerate(group["servers"]):
            if members is not None and entry["sourceServerId"] not in members:
                raise ValidationError(
                    f"servers[{index}].sourceServerId is not in "
                    "sourceServerIds",
                    field=f"servers[{index}].sourceServerId",
                )
    return group


def _ec2_missing(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    return code.endswith(".NotFound") or code.endswith(".Malformed")


def _subnet(ec2: Any, subnet_id: str, field: str) -> Dict[str, Any]:
    try:
        return ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]
    except ClientError as error:
        if _ec2_missing(error):
            raise ValidationError(
                f"{field} {subnet_id} does not exist", field=field
            ) from None
        raise


def _security_groups(ec2: Any, ids: List[str], field: str) -> None:
    try:
        ec2.describe_security_groups(GroupIds=list(ids))
    except ClientError as error:
        if _ec2_missing(error):
            raise ValidationError(
                f"{field} {', '.join(ids)}: not every security group exists",
                field=field,
            ) from None
        raise


def _check_config(
    ec2: Any, config: Dict[str, Any], where: str, cache: Dict[str, Any]
) -> None:
    subnet_id = config.get("subnetId")
    subnet: Optional[Dict[str, Any]] = None
    if subnet_id:
        if subnet_id not in cache:
            cache[subnet_id] = _subnet(ec2, subnet_id, f"{where}.subnetId")
        subnet = cache[subnet_id]
    if config.get("securityGroupIds"):
        _security_groups(
            ec2, config["securityGroupIds"], f"{where}.securityGroupIds"
        )
    ip = config.get("staticPrivateIp")
    if ip:
        if subnet is None:
            raise ValidationError(
                f"{where}.staticPrivateIp needs a subnetId",
                field=f"{where}.staticPrivateIp",
            )
        network = ipaddress.ip_network(subnet["CidrBlock"])
        if ipaddress.ip_address(ip) not in network:
            raise ValidationError(
                f"{where}.staticPrivateIp {ip} is not in subnet "
                f"{subnet_id} ({subnet['CidrBlock']})",
                field=f"{where}.staticPrivateIp",
            )


def validate_against_ec2(group: Dict[str, Any], ec2: Any) -> None:
    """Subnets and security groups exist; static IPs lie in their subnet."""
    cache: Dict[str, Any] = {}
    if group.get("launchConfig"):
        _check_config(ec2, group["launchConfig"], "launchConfig", cache)
    for index, entry in enumerate(group.get("servers") or []):
        effective = get_effective_launch_config(group, entry["sourceServerId"])
        _check_config(ec2, effective, f"servers[{index}]", cache)
