"""The servers a wave start recovers, and where (execution-handler side
of ``shared.wave_servers``)."""

from typing import Any, Dict, List, Optional, Tuple

from shared.account_context import get_account_context
from shared.config import get_settings
from shared.engine_state import EngineState
from shared.execution_records import get_execution
from shared.lambda_invoke import invoke_function
from shared.wave_plan_store import with_planned
from shared.wave_servers import (
    TagLister,
    WaveServers,
    recorded_wave_servers,
    resolve_group_servers,
    union_by_group,
)


def resolve_by_tags_via_lambda(
    region: str, tags: Dict[str, str], account_context: Optional[Dict]
) -> List[str]:
    """Server ids from query-handler's ``query_servers_by_tags`` action."""
    result = invoke_function(
        get_settings().require("query_handler_arn"),
        {
            "action": "query_servers_by_tags",
            "region": region,
            "tags": tags,
            "account_context": account_context,
        },
    )
    return list((result or {}).get("server_ids") or [])


def recorded_wave(
    state: EngineState, index: int, history_table: Optional[Any] = None
) -> Tuple[Dict[str, Any], Optional[WaveServers]]:
    """The execution record's ``waves[index]`` and the servers recorded
    on it at the start (None: nothing recorded; a state machine started
    without ``execute_recovery_plan`` has no record to read)."""
    if not state.execution_id:
        return {}, None
    record = with_planned(
        get_execution(state.execution_id, history_table), index=index
    )
    waves = record.get("waves") or []
    wave = waves[index] if 0 <= index < len(waves) else {}
    return wave, recorded_wave_servers(record, index)


def wave_servers(
    state: EngineState,
    groups: List[Dict[str, Any]],
    resolver: TagLister,
    recorded: Optional[WaveServers],
    accounts_table: Optional[Any] = None,
) -> WaveServers:
    """The servers the wave recovers: those recorded on the execution at
    its start (``shared.wave_servers``), so a group edited since changes
    nothing here; resolved now from ``groups`` (the union, without
    repeats, with the group of each) only when nothing was recorded."""
    if recorded is not None:
        return recorded
    context = get_account_context(state)
    parts = [
        resolve_group_servers(group, context, resolver, accounts_table)
        for group in groups
    ]
    if len(parts) == 1:
        return parts[0]
    union, by_group = union_by_group(
        (str(group["groupId"]), part.server_ids)
        for group, part in zip(groups, parts)
    )
    return WaveServers(
        parts[0].region, parts[0].account_context, union, by_group
    )


def execution_context(
    state: EngineState, servers: WaveServers
) -> Optional[Dict[str, Any]]:
    """The wave's account context, with the execution's session name
    (CloudTrail in the target account names the execution)."""
    if not servers.account_context:
        return None
    return get_account_context(
        EngineState(
            input_account_context=servers.account_context,
            execution_id=state.execution_id,
        )
    )
