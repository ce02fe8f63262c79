"""Launch configuration of protection groups: per-server overrides, apply
now, and what was applied when.

Applying goes through ``shared.launch_config.apply_launch_configs``: the
same code path the wave engine runs before every recovery.
"""

from typing import Any, Dict, List, Optional

import drs_lookup
from data_routes import router
from protection_groups import get_group, update_group
from server_config_audit import RESET, UPDATE, record_changes
from shared.api import Request
from shared.aws_errors import aws_errors
from shared.config_merge import find_server_config, get_effective_launch_config
from shared.errors import NotFoundError
from shared.launch_config import APPLIED, apply_launch_configs
from shared.launch_config_status import SOURCE_API
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


Entry = Dict[str, Any]


def _member_ids(group: Dict[str, Any]) -> List[str]:
    return drs_lookup.group_server_ids(group)


def require_member(
    group: Dict[str, Any],
    server_id: str,
    members: Optional[List[str]] = None,
) -> None:
    """404 unless the server is in the group (or has an entry there);
    ``members``: the group's servers when already resolved."""
    validate_source_server_id(server_id, "serverId")
    if find_server_config(group, server_id):
        return
    if server_id not in (
        members if members is not None else _member_ids(group)
    ):
        raise NotFoundError(
            f"server {server_id} is not in protection group "
            f"{group['groupId']}",
            groupId=group["groupId"],
            serverId=server_id,
        )


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
    # per-server failures are outcomes, recorded, then one error.
    with aws_errors("EC2", account, region):
        result = apply_launch_configs(
            group,
            server_ids,
            region=region,
            account_context=context,
            drs_client=drs,
            ec2_client=ec2,
            source=SOURCE_API,
            applied_by=caller,
            status_table=table,
        )
    if not result.ok:
        raise result.failure(account, region, groupId=group_id)
    return {"groupId": group_id, "status": APPLIED, **result.to_dict()}


def launch_config_status(
    group_id: str, table: Optional[Any] = None
) -> Dict[str, Any]:
    """Per server: what was applied, when, by whom (or NOT_APPLIED).

    The servers are the group's members now (a tag group's resolved in
    DRS), then any other server a past apply recorded.
    """
    group = get_group(group_id, table)
    stored = group.get("launchConfigStatus") or {}
    ids = _member_ids(group)
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
    require_member(group, server_id)
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


def replace_entries(
    group_id: str,
    entries: Dict[str, Optional[Entry]],
    caller: str,
    action: str,
    version: Any = None,
    table: Optional[Any] = None,
) -> Dict[str, Any]:
    """Set (an entry) or remove (None) servers' override entries in one
    group update: the group PUT's validation and conditional write
    (``update_group``; no other rule, e.g. none for an active execution),
    on the version read here unless the caller sent one. Then each
    server's change is recorded (``server_config_audit``). The group as
    stored."""
    table = table if table is not None else protection_groups_table()
    group = get_group(group_id, table)
    old = {sid: find_server_config(group, sid) for sid in entries}
    servers = [
        s
        for s in group.get("servers") or []
        if s.get("sourceServerId") not in entries
    ]
    servers += [entry for entry in entries.values() if entry is not None]
    expected = int(group.get("version", 1)) if version is None else version
    change = {"servers": servers, "version": expected}
    stored = update_group(group_id, change, caller, table)
    changed = [(sid, old[sid], entries[sid]) for sid in entries]
    record_changes(table, stored, changed, action, caller)
    return stored


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
    require_member(group, server_id)
    entry: Dict[str, Any] = {"sourceServerId": server_id}
    for key in ("useGroupDefaults", "launchTemplate"):
        if key in body:
            entry[key] = body[key]
    replace_entries(
        group_id,
        {server_id: entry},
        caller,
        UPDATE,
        body.get("version"),
        table,
    )
    answer = server_launch_config(group_id, server_id, table)
    # The console's per-server dialog shows the answer's message.
    answer["message"] = f"launch configuration of {server_id} saved"
    return answer


def reset_server_config(
    group_id: str, server_id: str, caller: str, table: Optional[Any] = None
) -> Dict[str, Any]:
    """Remove one server's override entry: it uses the group defaults."""
    group = get_group(group_id, table)
    require_member(group, server_id)
    if find_server_config(group, server_id) is None:
        message = f"server {server_id} already uses the group defaults"
        version = group.get("version", 1)
    else:
        stored = replace_entries(
            group_id, {server_id: None}, caller, RESET, table=table
        )
        message = f"server {server_id} now uses the group defaults"
        version = stored.get("version", 1)
    return {
        "message": message,
        "sourceServerId": server_id,
        "groupId": group_id,
        "useGroupDefaults": True,
        "version": int(version),
    }


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


@router.operation("delete_server_launch_config")
def delete_server_launch_config(request: Request) -> Dict[str, Any]:
    """DELETE /protection-groups/{id}/servers/{serverId}/launch-config."""
    reject_unknown(request.body, ("groupId", "serverId", "sourceServerId"))
    return reset_server_config(
        request.path_param("id"),
        request.path_param("serverId"),
        request.caller.name,
    )
