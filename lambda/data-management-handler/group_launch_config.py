"""Launch configuration of protection groups: per-server overrides, apply
now, and what was applied when.

Applying goes through ``shared.launch_config.apply_launch_configs``: the
same code path the wave engine runs before every recovery.
"""

from typing import Any, Dict, List, Optional

from botocore.exceptions import ClientError

import drs_lookup
from data_routes import router
from protection_groups import get_group, update_group
from shared import clock
from shared.api import Request
from shared.aws_errors import aws_errors
from shared.config_merge import find_server_config, get_effective_launch_config
from shared.errors import NotFoundError, VersionConflictError
from shared.launch_config import APPLIED, apply_launch_configs
from shared.tables import protection_groups_table
from shared.validation import reject_unknown, validate_source_server_id

NOT_APPLIED = "NOT_APPLIED"
SERVER_BODY_FIELDS = (
    "useGroupDefaults",
    "launchTemplate",
    "version",
    "groupId",
    "serverId",
    "sourceServerId",
)


def _member_ids(group: Dict[str, Any]) -> List[str]:
    return drs_lookup.group_server_ids(group)


def _require_member(group: Dict[str, Any], server_id: str) -> None:
    validate_source_server_id(server_id, "serverId")
    if find_server_config(group, server_id):
        return
    if server_id not in _member_ids(group):
        raise NotFoundError(
            f"server {server_id} is not in protection group "
            f"{group['groupId']}",
            groupId=group["groupId"],
            serverId=server_id,
        )


def _status_entry(
    outcome: Dict[str, Any], group: Dict[str, Any], caller: str, now: int
) -> Dict[str, Any]:
    entry = {
        "status": outcome["status"],
        "appliedAt": now,
        "appliedBy": caller,
        "groupVersion": int(group.get("version", 1)),
        "config": get_effective_launch_config(
            group, outcome["sourceServerId"]
        ),
    }
    for key in ("launchTemplateId", "launchTemplateVersion", "error"):
        if outcome.get(key) is not None:
            entry[key] = outcome[key]
    return entry


def record_status(
    group: Dict[str, Any],
    outcomes: List[Dict[str, Any]],
    caller: str,
    table: Optional[Any] = None,
) -> Dict[str, Any]:
    """Store per-server apply outcomes on the group record.

    Status is bookkeeping, not configuration: the group's ``version`` is
    unchanged, but the write is conditional on it so a status never
    describes a configuration that was replaced meanwhile.
    """
    table = table if table is not None else protection_groups_table()
    now = clock.epoch()
    status = dict(group.get("launchConfigStatus") or {})
    for outcome in outcomes:
        status[outcome["sourceServerId"]] = _status_entry(
            outcome, group, caller, now
        )
    try:
        table.update_item(
            Key={"groupId": group["groupId"]},
            UpdateExpression="SET launchConfigStatus = :s",
            ConditionExpression="#v = :v",
            ExpressionAttributeNames={"#v": "version"},
            ExpressionAttributeValues={
                ":s": status,
                ":v": int(group.get("version", 1)),
            },
        )
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code == "ConditionalCheckFailedException":
            raise VersionConflictError(
                "protection group changed while its launch configuration "
                "was applied; apply again",
                groupId=group["groupId"],
            ) from None
        raise
    return status


def apply_group_launch_configs(
    group_id: str,
    caller: str,
    table: Optional[Any] = None,
    drs: Any = None,
    ec2: Any = None,
) -> Dict[str, Any]:
    """Apply the group's launch configuration to its servers now."""
    group = get_group(group_id, table)
    region, account = group["region"], group.get("accountId")
    context = drs_lookup.account_context(account)
    drs = drs or drs_lookup.drs_client(region, account)
    server_ids = drs_lookup.group_server_ids(group, drs)
    # Creating the EC2 client assumes the spoke's role (403 if refused);
    # per-server failures are outcomes, not errors.
    with aws_errors("EC2", account, region):
        result = apply_launch_configs(
            group,
            server_ids,
            region=region,
            account_context=context,
            drs_client=drs,
            ec2_client=ec2,
        )
    record_status(group, result.servers, caller, table)
    answer = {"groupId": group_id, **result.to_dict()}
    answer["status"] = APPLIED if result.ok else "FAILED"
    return answer


def launch_config_status(
    group_id: str, table: Optional[Any] = None
) -> Dict[str, Any]:
    """Per server: what was applied, when, by whom (or NOT_APPLIED)."""
    group = get_group(group_id, table)
    stored = group.get("launchConfigStatus") or {}
    ids = list(group.get("sourceServerIds") or [])
    ids += [sid for sid in sorted(stored) if sid not in ids]
    servers = []
    for sid in ids:
        entry = stored.get(sid)
        if entry is None:
            servers.append({"sourceServerId": sid, "status": NOT_APPLIED})
        else:
            servers.append({"sourceServerId": sid, **entry})
    return {
        "groupId": group_id,
        "groupVersion": int(group.get("version", 1)),
        "servers": servers,
    }


def server_launch_config(
    group_id: str, server_id: str, table: Optional[Any] = None
) -> Dict[str, Any]:
    """A server's defaults, overrides, effective config, last apply."""
    group = get_group(group_id, table)
    _require_member(group, server_id)
    entry = find_server_config(group, server_id) or {}
    return {
        "groupId": group_id,
        "sourceServerId": server_id,
        "useGroupDefaults": entry.get("useGroupDefaults", True),
        "launchTemplate": entry.get("launchTemplate") or {},
        "groupDefaults": group.get("launchConfig") or {},
        "effectiveConfig": get_effective_launch_config(group, server_id),
        "lastApplied": (group.get("launchConfigStatus") or {}).get(server_id),
        "version": int(group.get("version", 1)),
    }


def update_server_config(
    group_id: str,
    server_id: str,
    body: Dict[str, Any],
    caller: str,
    table: Optional[Any] = None,
) -> Dict[str, Any]:
    """Replace one server's override entry (validated like the group)."""
    reject_unknown(body, SERVER_BODY_FIELDS)
    group = get_group(group_id, table)
    _require_member(group, server_id)
    entry: Dict[str, Any] = {"sourceServerId": server_id}
    for key in ("useGroupDefaults", "launchTemplate"):
        if key in body:
            entry[key] = body[key]
    servers = [
        s
        for s in group.get("servers") or []
        if s.get("sourceServerId") != server_id
    ]
    servers.append(entry)
    change: Dict[str, Any] = {"servers": servers}
    if "version" in body:
        change["version"] = body["version"]
    update_group(group_id, change, caller, table)
    return server_launch_config(group_id, server_id, table)


@router.operation("apply_launch_configs")
def apply_launch_configs_operation(request: Request) -> Dict[str, Any]:
    """POST /protection-groups/{id}/apply-launch-configs."""
    reject_unknown(request.body, ("groupId",))
    return apply_group_launch_configs(
        request.path_param("id"), request.caller.name
    )


@router.operation("get_launch_config_status")
def get_launch_config_status(request: Request) -> Dict[str, Any]:
    """GET /protection-groups/{id}/launch-config-status."""
    return launch_config_status(request.path_param("id"))


@router.operation("get_server_launch_config")
def get_server_launch_config(request: Request) -> Dict[str, Any]:
    """GET /protection-groups/{id}/servers/{serverId}/launch-config."""
    return server_launch_config(
        request.path_param("id"), request.path_param("serverId")
    )


@router.operation("update_server_launch_config")
def update_server_launch_config(request: Request) -> Dict[str, Any]:
    """PUT /protection-groups/{id}/servers/{serverId}/launch-config."""
    return update_server_config(
        request.path_param("id"),
        request.path_param("serverId"),
        request.body,
        request.caller.name,
    )
