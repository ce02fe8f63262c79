"""The servers a wave start recovers, and where (execution-handler side
of ``shared.wave_servers``)."""

from typing import Any, Dict, List, Optional

from shared.account_context import get_account_context
from shared.config import get_settings
from shared.execution_records import get_execution
from shared.lambda_invoke import invoke_function
from shared.wave_servers import (
    TagLister,
    WaveServers,
    recorded_wave_servers,
    resolve_group_servers,
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


def wave_servers(
    state: Dict[str, Any],
    index: int,
    group: Dict[str, Any],
    resolver: TagLister,
    history_table: Optional[Any] = None,
    accounts_table: Optional[Any] = None,
) -> WaveServers:
    """The servers wave ``index`` recovers: those recorded on the
    execution at its start (``shared.wave_servers``), so a group edited
    since changes nothing here; resolved now only for a record that has
    none (a state machine started without ``execute_recovery_plan``)."""
    recorded = None
    if state.get("execution_id"):
        record = get_execution(state["execution_id"], history_table)
        recorded = recorded_wave_servers(record, index)
    if recorded is not None:
        return recorded
    return resolve_group_servers(
        group, get_account_context(state), resolver, accounts_table
    )


def execution_context(
    state: Dict[str, Any], servers: WaveServers
) -> Optional[Dict[str, Any]]:
    """The wave's account context, with the execution's session name
    (CloudTrail in the target account names the execution)."""
    if not servers.account_context:
        return None
    return get_account_context(
        {
            "accountContext": servers.account_context,
            "execution_id": state.get("execution_id"),
        }
    )
