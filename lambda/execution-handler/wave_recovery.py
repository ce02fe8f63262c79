"""Start the DRS recovery of one wave (action ``start_wave_recovery``).

Moved from the orchestration Lambda (``seeds/000_*`` §1): read the wave's
protection group, take the servers recorded for the wave when the
execution started (``shared.wave_servers``; resolved now only when the
record has none) and apply the group's launch configuration (those:
``wave_preparation``), record the wave with its plan of DRS jobs
(``shared.wave_jobs``: ceil(N / max servers per job) chunks), then start
the chunks that fit the quotas (``chunk_starts``); the poll starts the
rest as capacity frees.
A failure before any job (resolution, launch configuration) ends the
wave and the state ``failed`` with an ``error_code``; a refused
``start_recovery`` is recorded in our words
(``shared.aws_errors.recovery_start_error``).
"""

from typing import Any, Dict, List, Optional

from botocore.exceptions import BotoCoreError, ClientError

from chunk_starts import start_wave_chunks
from execution_routes import router
from shared import clock, statuses
from shared.account_context import get_account_context
from shared.aws_clients import create_drs_client
from shared.config import get_settings
from shared.ddb_updates import condition_failed
from shared.engine_state import EngineState
from shared.execution_records import get_execution
from shared.logging_setup import get_logger
from shared.server_records import put_servers
from shared.wave_jobs import plan_jobs, wave_job_ids, wave_jobs
from shared.wave_plan_store import (
    PARTS_FIELD,
    part_count,
    store_planned,
    with_planned,
)
from shared.wave_schedule import QUEUED, quotas_from
from shared.wave_servers import (
    ServerResolutionError,
    TagLister,
    recorded_wave_servers,
)
from shared.wave_state import (
    claim_wave,
    end_for_record,
    mark_failed,
    save_wave,
    wave_name,
    wave_result,
)
from wave_members import execution_context, resolve_by_tags_via_lambda
from wave_preparation import (
    PreparedWave,
    prepare_wave,
    record_launch_status,
)

logger = get_logger("execution-handler")


def _record_wave(
    state: EngineState,
    index: int,
    wave: Dict[str, Any],
    table: Any,
) -> Optional[Exception]:
    """Save ``waves[index]``; the error when it could not be written (the
    client's adaptive retries have been spent, or the record ended)."""
    if not state.execution_id:
        return None
    try:
        save_wave(
            state.execution_id,
            index,
            wave,
            {"currentWave": index},
            table=table,
        )
    except (ClientError, BotoCoreError) as error:
        logger.warning(
            "recording the wave failed",
            extra={
                "wave": index,
                "ended": isinstance(error, ClientError)
                and condition_failed(error),
            },
        )
        return error
    return None


def _wave_record(
    state: EngineState, index: int, group_id: Optional[str]
) -> Dict[str, Any]:
    wave = (state.waves or [])[index]
    return {
        "waveNumber": wave.get("waveNumber", index),
        "waveName": wave_name(state, index),
        "protectionGroupId": group_id,
    }


def _reset(state: EngineState, index: int) -> None:
    """A wave begins: the state follows it from zero."""
    state.set(
        current_wave_number=index,
        wave_completed=False,
        current_wave_total_wait_time=0,
        job_id=None,
        server_ids=[],
        job_account_context=None,
        status="running",
        paused_before_wave=None,
        error=None,
        error_code=None,
    )


def start_wave_recovery(
    state: Dict[str, Any],
    wave_number: int,
    *,
    chunk: Optional[int] = None,
    server_resolver: Optional[TagLister] = None,
    groups_table: Optional[Any] = None,
    history_table: Optional[Any] = None,
    accounts_table: Optional[Any] = None,
    drs_client: Optional[Any] = None,
    ec2_client: Optional[Any] = None,
) -> Dict[str, Any]:
    """Start wave ``wave_number`` (zero-based), or what of it fits now,
    and return the JSON state (the dict passed, updated in place).

    The first call claims the wave, resolves and configures its servers,
    records its chunk plan (``shared.wave_jobs``) and starts the chunks
    the quotas allow; a later call (the poll, a retry) starts the queued
    chunks that fit now (``chunk``: only that one). The state is updated
    in place (``seeds/000_*``) and returned.
    ``server_resolver(region, tags, account_context)`` resolves tag-based
    groups; by default the query-handler is invoked (the legacy
    orchestration passes ``server_discovery.query_drs_servers_by_tags``).
    """
    typed = _start(
        EngineState.from_json(state),
        int(wave_number),
        chunk,
        server_resolver or resolve_by_tags_via_lambda,
        dict(
            groups_table=groups_table,
            history_table=history_table,
            accounts_table=accounts_table,
            drs_client=drs_client,
            ec2_client=ec2_client,
        ),
    )
    return typed.write_to(state)


def _start(
    state: EngineState,
    index: int,
    chunk: Optional[int],
    resolver: TagLister,
    tables_and_clients: Dict[str, Any],
) -> EngineState:
    """``start_wave_recovery`` on the typed state."""
    history_table = tables_and_clients["history_table"]
    drs_client = tables_and_clients["drs_client"]
    waves = state.waves or []
    if not 0 <= index < len(waves):
        _reset(state, index)
        return mark_failed(
            state, "WAVE_NOT_FOUND", f"the plan has no wave {index}"
        )
    group_id = waves[index].get("protectionGroupId")
    if state.execution_id and not claim_wave(
        state.execution_id, index, table=history_table
    ):
        return _not_claimed(state, index, chunk, history_table, drs_client)
    _reset(state, index)
    record = _wave_record(state, index, group_id)
    entry = wave_result(state, index)
    entry.update(status=QUEUED, startTime=clock.iso_now())
    try:
        members, context, drs = prepare_wave(
            state, index, group_id, resolver, **tables_and_clients
        )
    except ServerResolutionError as error:
        logger.warning(
            "wave start failed",
            extra={"wave": index, "code": error.code, "error": str(error)},
        )
        mark_failed(state, error.code, f"{record['waveName']}: {error}")
        record.update(
            status="FAILED",
            startTime=entry["startTime"],
            endTime=entry["endTime"],
            error=state.error,
            errorCode=error.code,
            servers=[],
        )
        if _record_wave(state, index, record, history_table):
            logger.error("failed wave not recorded", extra={"wave": index})
        return state
    try:
        return _launch(
            state,
            index,
            record,
            members,
            context,
            drs,
            chunk,
            history_table,
        )
    finally:
        # The configurations were applied whatever the start did: their
        # bookkeeping is written once the jobs are started.
        record_launch_status(
            members.launch_outcomes,
            state,
            tables_and_clients["groups_table"],
        )


def _launch(
    state: EngineState,
    index: int,
    record: Dict[str, Any],
    members: PreparedWave,
    context: Optional[Dict[str, Any]],
    drs: Any,
    chunk: Optional[int],
    history_table: Optional[Any] = None,
) -> EngineState:
    """Record the prepared wave (its servers PENDING, its chunk plan) and
    start the chunks that fit."""
    entry = wave_result(state, index)
    quotas = quotas_from(get_settings())
    record.update(
        status=QUEUED,
        startTime=entry["startTime"],
        # What this wave recovers (as recorded at start, or resolved now).
        **members.as_record(),
        # Each server PENDING in its own record (written below); the
        # item keeps the counts.
        serverCount=len(members.server_ids),
        serverCounts={"PENDING": len(members.server_ids)},
        maxServersPerJob=quotas.max_servers_per_job,
        jobs=plan_jobs(len(members.server_ids), quotas.max_servers_per_job),
    )
    if not members.server_ids:
        return _complete_empty(state, index, record, entry, history_table)
    if state.execution_id and not members.recorded:
        # Resolved now (a state machine started directly): recorded
        # before the wave's plan is, as execute_recovery_plan does.
        store_planned(
            state.execution_id,
            {index: (members.server_ids, members.group_server_ids)},
        )
        record[PARTS_FIELD] = part_count(len(members.server_ids))
    if state.execution_id:
        put_servers(
            state.execution_id,
            index,
            [
                {"sourceServerId": sid, "hostname": host, "status": "PENDING"}
                for sid, host in members.hostnames.items()
            ],
        )
    lost = _record_wave(state, index, record, history_table)
    if lost:
        return mark_failed(
            state,
            "WAVE_RECORD_FAILED",
            f"{record['waveName']}: recording the wave's plan failed "
            "before any DRS job started",
        )
    _follow(state, entry, members.region, members.server_ids, context)
    if not state.execution_id:
        return state
    return start_wave_chunks(state, index, record, drs, chunk, history_table)


def _follow(
    state: EngineState,
    entry: Dict[str, Any],
    region: Optional[str],
    server_ids: List[str],
    context: Optional[Dict[str, Any]],
) -> None:
    """Put the wave being started in the state and its entry. The state
    holds no per-server list (bounded for waves of any size): the seeds'
    ``server_ids`` stays empty, the wave's servers are on the record."""
    state.set(region=region, server_ids=[], job_account_context=context)
    entry.update(region=region, serverCount=len(server_ids))


def _not_claimed(
    state: EngineState,
    index: int,
    chunk: Optional[int],
    history_table: Optional[Any],
    drs_client: Optional[Any],
) -> EngineState:
    """The wave was claimed before: no new plan here.

    A cancelled or ended execution ends the state (a CANCELLING record's
    wave is recorded CANCELLED when none of its jobs started; an ended
    record is never written); a wave with a chunk plan starts its queued
    chunks that fit now (the poll asks, or a retried start); a wave
    another invocation is still preparing keeps the state running (the
    poll follows it once recorded).
    """
    record = with_planned(
        get_execution(state.execution_id, history_table), index=index
    )
    name = wave_name(state, index)
    waves = record.get("waves") or []
    wave = waves[index] if index < len(waves) else {}
    if end_for_record(state, record.get("status"), f"before {name}"):
        if record.get("status") == statuses.CANCELLING and not wave_job_ids(
            wave
        ):
            entry = wave_result(state, index)
            cancelled = dict(
                status=statuses.WAVE_CANCELLED, error=entry["error"]
            )
            cancelled.update(
                endTime=entry["endTime"], errorCode=entry["errorCode"]
            )
            _record_wave(state, index, cancelled, history_table)
        return state
    if state.current_wave_number != index:
        _reset(state, index)
    entry = wave_result(state, index)
    entry.update(status=wave.get("status"), startTime=wave.get("startTime"))
    if not wave_jobs(wave):
        state.status_reason = f"{name} is being started"
        return state
    recorded = recorded_wave_servers(record, index)
    context = (
        execution_context(state, recorded)
        if recorded
        else get_account_context(state)
    )
    servers = [str(i) for i in wave.get("serverIds") or []] or [
        s["sourceServerId"] for s in wave.get("servers") or []
    ]
    _follow(state, entry, wave.get("region"), servers, context)
    drs = drs_client or create_drs_client(wave.get("region"), context)
    return start_wave_chunks(state, index, wave, drs, chunk, history_table)


def _complete_empty(
    state: EngineState,
    index: int,
    record: Dict[str, Any],
    entry: Dict[str, Any],
    history_table: Optional[Any],
) -> EngineState:
    """A wave recorded with no server (every one left out at the start)
    completes at once: no DRS job, the reason recorded."""
    now = clock.iso_now()
    reason = f"{record['waveName']}: no server to recover; completed empty"
    record.update(
        status=statuses.WAVE_COMPLETED, endTime=now, statusReason=reason
    )
    entry.update(status=statuses.WAVE_COMPLETED, endTime=now, serverCount=0)
    entry["reason"] = reason
    if _record_wave(state, index, record, history_table):
        return mark_failed(
            state,
            "WAVE_RECORD_FAILED",
            f"{record['waveName']}: recording the empty wave failed",
        )
    state.completed_waves = int(state.completed_waves or 0) + 1
    state.set(wave_completed=True, status_reason=reason)
    logger.info("empty wave completed", extra={"wave": index})
    return state


@router.action("start_wave_recovery")
def start_wave_recovery_action(event: Dict[str, Any]) -> Dict[str, Any]:
    """``{"action": "start_wave_recovery", "state", "wave_number",
    "chunk"?}`` (CONTRACTS §8)."""
    chunk = event.get("chunk")
    return start_wave_recovery(
        dict(event.get("state") or {}),
        int(event.get("wave_number") or 0),
        chunk=None if chunk is None else int(chunk),
    )
