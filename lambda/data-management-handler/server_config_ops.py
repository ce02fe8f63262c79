"""Per-server launch configuration of many servers at once, and each
server's change history (the reference console's calls, issue 20).

``POST /protection-groups/{id}/servers/bulk-launch-config`` is
all-or-nothing, validate-all-first: every entry is checked (shape with
the group's own ``validate_server``, membership, no server twice) and
every failure reported; then the group as it would be stored goes through
the same validation and conditional write as the per-server ``PUT``
(``group_launch_config.replace_entries``): one group version, one audit
entry per changed server. Any failure: 400 with the per-entry
``results``, nothing saved.
"""

from typing import Any, Dict, List, Optional, Tuple

import drs_lookup
from data_routes import router
from group_launch_config import replace_entries, require_member
from group_validation import validate_server
from protection_groups import get_group
from server_config_audit import BULK, audit_entries
from shared.api import Request
from shared.console_inputs import bulk_server_input
from shared.console_shapes import audit_log_answer
from shared.errors import DomainError, ValidationError
from shared.tables import protection_groups_table
from shared.validation import reject_unknown, validate_source_server_id

MAX_BULK_SERVERS = 200
BODY_FIELDS = ("servers", "groupId")
# A console entry: serverId (the seeds' sourceServerId), the override.
ENTRY_FIELDS = ("serverId", "useGroupDefaults", "launchTemplate")
SAVED = "launch configuration saved"
NOT_SAVED = "not saved: another entry is invalid"

Entry = Dict[str, Any]
Result = Dict[str, Any]


def _servers(body: Dict[str, Any]) -> List[Any]:
    reject_unknown(body, BODY_FIELDS)
    servers = body.get("servers")
    if not isinstance(servers, list) or not servers:
        raise ValidationError(
            "servers must be a non-empty list", field="servers"
        )
    if len(servers) > MAX_BULK_SERVERS:
        raise ValidationError(
            f"servers holds {len(servers)} entries; at most "
            f"{MAX_BULK_SERVERS} per call",
            field="servers",
        )
    return servers


def _entry(
    raw: Any, index: int, group: Entry, members: List[str], seen: set
) -> Tuple[str, Entry]:
    """One entry as a group ``servers[]`` entry (DomainError if not):
    the group's own check, in the console's names."""
    where = f"servers[{index}]"
    sid = validate_server(raw, where, seen, ENTRY_FIELDS, "serverId")
    require_member(group, sid, members)
    return sid, bulk_server_input(raw, where)


def _failed(message: str, results: List[Result]) -> ValidationError:
    failures = [r for r in results if not r["success"]]
    return ValidationError(
        f"{message}; nothing was saved",
        field="servers",
        totalRequested=len(results),
        successCount=0,
        failureCount=len(failures),
        results=results,
    )


def _server_id(raw: Any) -> Optional[str]:
    if isinstance(raw, dict):
        value = raw.get("serverId") or raw.get("sourceServerId")
        return value if isinstance(value, str) else None
    return None


def bulk_update(
    group_id: str,
    body: Dict[str, Any],
    caller: str,
    table: Optional[Any] = None,
) -> Dict[str, Any]:
    """Validate every entry, then save them all in one group update."""
    servers = _servers(body)
    group = get_group(group_id, table)
    members = drs_lookup.group_server_ids(group)
    entries: Dict[str, Entry] = {}
    results: List[Result] = []
    seen: set = set()
    for index, raw in enumerate(servers):
        try:
            sid, entry = _entry(raw, index, group, members, seen)
        except DomainError as error:
            results.append(
                {
                    "serverId": _server_id(raw),
                    "success": False,
                    "error": error.code,
                    "message": error.message,
                }
            )
            continue
        entries[sid] = entry
        results.append({"serverId": sid, "success": True, "message": "ok"})
    if len(entries) < len(servers):
        for result in results:
            if result["success"]:
                result.update(success=False, message=NOT_SAVED)
        bad = len(servers) - len(entries)
        raise _failed(f"{bad} of {len(servers)} entries are invalid", results)
    try:
        stored = replace_entries(group_id, entries, caller, BULK, table=table)
    except ValidationError as error:
        for result in results:
            result.update(success=False, message=NOT_SAVED)
        _blame(error, results, group, entries)
        raise _failed(error.message, results) from None
    for result in results:
        result["message"] = SAVED
    return {
        "message": f"{len(entries)} server launch configuration(s) saved",
        "groupId": group_id,
        "protectionGroupId": group_id,
        "version": int(stored.get("version", 1)),
        "totalRequested": len(results),
        "successCount": len(results),
        "failureCount": 0,
        "results": results,
    }


def _blame(
    error: ValidationError,
    results: List[Result],
    group: Entry,
    entries: Dict[str, Entry],
) -> None:
    """Name the entry a group validation error points at
    (``servers[k]`` of the group as it would be stored)."""
    field = str(error.details.get("field", ""))
    if not field.startswith("servers["):
        return
    kept = [
        s["sourceServerId"]
        for s in group.get("servers") or []
        if s.get("sourceServerId") not in entries
    ]
    order = kept + list(entries)
    index = int(field[len("servers[") : field.index("]")])
    if index >= len(order):
        return
    for result in results:
        if result["serverId"] == order[index]:
            result.update(error=error.code, message=error.message)


def server_audit_log(
    group_id: str,
    server_id: str,
    query: Dict[str, Any],
    table: Optional[Any] = None,
) -> List[Dict[str, Any]]:
    """The server's launch-config changes, oldest first."""
    table = table if table is not None else protection_groups_table()
    group = get_group(group_id, table)
    validate_source_server_id(server_id, "serverId")
    known, entries = audit_entries(
        table,
        group_id,
        server_id,
        query.get("startDate"),
        query.get("endDate"),
    )
    if not known:
        # No history: the server must be the group's (404 otherwise).
        require_member(group, server_id)
    return entries


@router.operation("bulk_update_server_launch_config")
def bulk_update_server_launch_config(request: Request) -> Dict[str, Any]:
    """POST /protection-groups/{id}/servers/bulk-launch-config."""
    return bulk_update(
        request.path_param("id"), request.body, request.caller.name
    )


@router.operation("get_server_audit_log")
def get_server_audit_log(request: Request) -> Any:
    """GET /protection-groups/{id}/servers/{serverId}/audit-log."""
    group_id, server_id = (
        request.path_param("id"),
        request.path_param("serverId"),
    )
    entries = server_audit_log(group_id, server_id, request.query)
    return audit_log_answer(entries, group_id, server_id, request.caller)
