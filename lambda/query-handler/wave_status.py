"""Poll the current wave (action ``poll_wave_status``).

Moved from the orchestration Lambda's ``update_wave_status``
(``seeds/000_*`` §2). One poll:

1. reads the execution record; CANCELLING wins over everything: the state
   keeps polling (``status_reason`` says so, no new wave starts) until the
   wave's DRS job is no longer PENDING/STARTED, then ends ``cancelled``
   with both completion flags set (the core records CANCELLED);
2. ``describe_jobs`` for the wave's job and tracks every server's
   ``launchStatus`` (``shared.drs_constants``), its phase from
   ``describe_job_log_items`` and, once launched, its recovery instance
   (``describe_recovery_instances``, EC2 for its private IP and launch
   time) — persisted to ``waves[i].servers`` (``job_progress``);
3. completes the wave when all servers are LAUNCHED, fails it when any is
   FAILED/TERMINATED once the job has ended (the record then holds every
   server's final status), times out at ``current_wave_max_wait_time``;
4. after a completed wave: pauses (next wave's ``pauseBeforeWave`` or the
   record's ``pauseRequested``), starts the next wave (``start_wave``:
   by default an invocation of the execution-handler; its error
   propagates to the state machine's retry of the poll), or completes.

The execution record's status is finished by the orchestration core, not
here (one place for terminal transitions; it also cleans up a drill that
ended failed, timed out or cancelled).
"""

from typing import Any, Callable, Dict, List, Optional

from botocore.exceptions import BotoCoreError, ClientError

from job_progress import record_job_servers
from query_routes import router
from shared import clock, metrics, statuses
from shared.account_context import get_account_context
from shared.aws_clients import create_drs_client, create_ec2_client
from shared.config import get_settings
from shared.drs_constants import (
    DRS_JOB_SERVERS_COMPLETE_FAILURE_STATES,
    DRS_JOB_SERVERS_COMPLETE_SUCCESS_STATES,
    DRS_JOB_STATUS_WAIT_STATES,
)
from shared.aws_errors import translate_client_error
from shared.errors import ForbiddenError, NotFoundError
from shared.execution_records import get_execution
from shared.lambda_invoke import invoke_function
from shared.logging_setup import get_logger
from shared.responses import to_jsonable
from shared.wave_state import (
    end_for_record,
    mark_failed,
    save_wave,
    wave_name,
    wave_result,
)

logger = get_logger("query-handler")

# A wave whose DRS job cannot be read because access is refused.
ACCESS_DENIED = "ACCOUNT_ACCESS_DENIED"

WaveStarter = Callable[[Dict[str, Any], int], Dict[str, Any]]


def start_next_wave_via_lambda(
    state: Dict[str, Any], wave_number: int
) -> Dict[str, Any]:
    """Start a wave through the execution-handler (``seeds/000_*``)."""
    return invoke_function(
        get_settings().require("execution_handler_arn"),
        {
            "action": "start_wave_recovery",
            "state": state,
            "wave_number": wave_number,
        },
    )


def start_next_wave(
    state: Dict[str, Any], wave_number: int, start_wave: WaveStarter
) -> Dict[str, Any]:
    """Start the next wave from a poll; the one path for both
    orchestration functions. An error propagates: the state machine
    retries the whole poll (the wave just completed is completed again,
    the next wave's start is claimed once), then records the failure
    (``orchestration_core.record_failure``)."""
    return to_jsonable(start_wave(to_jsonable(state), wave_number))


def _adopt_recorded_job(
    state: Dict[str, Any], wave: Dict[str, Any]
) -> Optional[str]:
    """The state's job id, else the one recorded by another start of
    this wave (``wave_recovery._not_claimed`` returned none)."""
    if not state.get("job_id") and wave.get("jobId"):
        state.update(
            job_id=wave["jobId"],
            region=wave.get("region"),
            server_ids=[s["sourceServerId"] for s in wave["servers"]],
        )
    return state.get("job_id")


def _wave_record(
    record: Optional[Dict[str, Any]], state: Dict[str, Any], index: int
) -> Dict[str, Any]:
    waves = (record or {}).get("waves") or []
    wave = dict(waves[index]) if index < len(waves) else {}
    entry = wave_result(state, index)
    wave.setdefault("waveNumber", entry.get("waveNumber", index))
    wave.setdefault("waveName", wave_name(state, index))
    wave.setdefault("jobId", state.get("job_id"))
    wave.setdefault("region", state.get("region"))
    wave.setdefault("status", statuses.WAVE_STARTED)
    wave.setdefault("startTime", entry.get("startTime"))
    wave["servers"] = list(wave.get("servers") or [])
    if not wave["servers"]:
        wave["servers"] = [
            {"sourceServerId": sid, "hostname": "", "status": "PENDING"}
            for sid in state.get("server_ids") or []
        ]
    return wave


def _name_servers(servers: List[Dict[str, Any]]) -> str:
    return ", ".join(
        f"{s.get('hostname') or s['sourceServerId']} "
        f"({s['sourceServerId']}: {s.get('status')})"
        for s in servers
    )


def _complete(
    state: Dict[str, Any],
    record: Optional[Dict[str, Any]],
    start_wave: WaveStarter,
) -> Dict[str, Any]:
    """The wave completed: pause, start the next wave, or finish."""
    index = state["current_wave_number"]
    state["completed_waves"] = int(state.get("completed_waves") or 0) + 1
    state["wave_completed"] = True
    nxt = index + 1
    waves = state.get("waves") or []
    if nxt < len(waves):
        if waves[nxt].get("pauseBeforeWave") or (record or {}).get(
            "pauseRequested"
        ):
            state.update(
                status="paused",
                paused_before_wave=nxt,
                status_reason=f"paused before {wave_name(state, nxt)}",
            )
            return state
        return start_next_wave(state, nxt, start_wave)
    now = clock.iso_now()
    state.update(
        all_waves_completed=True,
        status="completed",
        status_reason="all waves completed",
        end_time=now,
    )
    return state


def poll_wave_status(
    state: Dict[str, Any],
    *,
    start_wave: Optional[WaveStarter] = None,
    history_table: Optional[Any] = None,
    drs_client: Optional[Any] = None,
    ec2_client: Optional[Any] = None,
) -> Dict[str, Any]:
    """One poll of the current wave; returns the updated state.

    ``start_wave(state, n)`` starts the next wave: by default the
    execution-handler is invoked; the legacy orchestration passes
    ``wave_recovery.start_wave_recovery``.
    """
    start_wave = start_wave or start_next_wave_via_lambda
    index = int(state.get("current_wave_number") or 0)
    record = None
    if state.get("execution_id"):
        try:
            record = get_execution(state["execution_id"], history_table)
        except NotFoundError:
            logger.warning("execution record missing")
    record_status = (record or {}).get("status")
    if record_status in statuses.TERMINAL_STATUSES:
        # Ended elsewhere (e.g. cancellation settled): nothing to write.
        end_for_record(state, record_status, "while polling")
        return state
    cancelling = record_status == statuses.CANCELLING
    wave = _wave_record(record, state, index)
    entry = wave_result(state, index)
    job_id = _adopt_recorded_job(state, wave)
    job: Dict[str, Any] = {}
    if job_id:
        context = state.get("job_account_context")
        if context is None:
            context = get_account_context(state)
        try:
            drs = drs_client or create_drs_client(state.get("region"), context)
            jobs = drs.describe_jobs(filters={"jobIDs": [job_id]})["items"]
            job = jobs[0] if jobs else {}
        except (ClientError, BotoCoreError) as error:
            return _drs_unreadable(
                state, context, (entry, wave), error, history_table
            )
        if not job and not cancelling:
            return _fail(
                state,
                wave,
                history_table,
                "DRS_JOB_NOT_FOUND",
                f"{wave['waveName']}: DRS job {job_id} not found",
            )
        if job:
            wave["servers"] = record_job_servers(
                drs,
                job,
                wave,
                lambda: ec2_client
                or create_ec2_client(state.get("region"), context),
            )
            entry["serverStatuses"] = [
                {
                    "sourceServerId": s["sourceServerId"],
                    "launchStatus": s.get("status"),
                    "recoveryInstanceId": s.get("recoveryInstanceId"),
                }
                for s in wave["servers"]
            ]
    if cancelling:
        return _cancel(state, job, wave, history_table)
    return _decide(state, record, job, wave, start_wave, history_table)


def _decide(
    state: Dict[str, Any],
    record: Optional[Dict[str, Any]],
    job: Dict[str, Any],
    wave: Dict[str, Any],
    start_wave: WaveStarter,
    history_table: Optional[Any],
) -> Dict[str, Any]:
    """Complete, fail or keep following the wave after a poll."""
    index = state["current_wave_number"]
    entry = wave_result(state, index)
    job_id = state.get("job_id")
    servers = wave["servers"]
    failed = [
        s
        for s in servers
        if s.get("status") in DRS_JOB_SERVERS_COMPLETE_FAILURE_STATES
    ]
    launched = [
        s
        for s in servers
        if s.get("status") in DRS_JOB_SERVERS_COMPLETE_SUCCESS_STATES
    ]
    if failed and job.get("status") in DRS_JOB_STATUS_WAIT_STATES:
        # Decided once the job ended (issue 16): the record then says
        # what DRS did with every server of the wave.
        state["status_reason"] = (
            f"{wave['waveName']}: server(s) {_name_servers(failed)} "
            f"failed; waiting for DRS job {job_id} to end"
        )
        return _advance_clock(state, entry, wave, history_table)
    if failed:
        return _fail(
            state,
            wave,
            history_table,
            "SERVER_LAUNCH_FAILED",
            f"{wave['waveName']} failed: server(s) "
            f"{_name_servers(failed)}",
        )
    if servers and len(launched) == len(servers):
        now = clock.iso_now()
        wave.update(status=statuses.WAVE_COMPLETED, endTime=now)
        metrics.wave_ended(wave)
        entry.update(status=statuses.WAVE_COMPLETED, endTime=now)
        # The state crosses every Step Functions transition (256 KB cap):
        # a completed wave keeps its count; per-server detail stays on
        # the execution record.
        entry.pop("serverStatuses", None)
        entry["launchedCount"] = len(launched)
        _save(state, index, wave, history_table)
        return _complete(state, record, start_wave)
    if job.get("status") not in (None, *DRS_JOB_STATUS_WAIT_STATES):
        return _fail(
            state,
            wave,
            history_table,
            "DRS_JOB_ENDED_INCOMPLETE",
            f"{wave['waveName']}: DRS job {job_id} ended with server(s) "
            f"not launched: {_name_servers(servers)}",
        )
    state["status_reason"] = f"{wave['waveName']} in progress"
    return _advance_clock(state, entry, wave, history_table)


def _drs_unreadable(state, context, at, error, table) -> Dict[str, Any]:
    """The wave's job could not be read. Refused access (the spoke role
    cannot be assumed, DRS denies) fails the wave: polling cannot end
    it. Anything else (throttling past the client's retries, 5xx, the
    network) is transient: keep polling; the wave timeout bounds it."""
    entry, wave = at
    account = (context or {}).get("accountId")
    region = state.get("region")
    mapped = (
        translate_client_error(error, "DRS", account, region)
        if isinstance(error, ClientError)
        else None
    )
    logger.warning("reading DRS job %s failed: %s", state["job_id"], error)
    if isinstance(mapped, ForbiddenError):
        return _fail(
            state,
            wave,
            table,
            ACCESS_DENIED,
            f"{wave['waveName']}: {mapped.message}",
        )
    state["status_reason"] = (
        f"{wave['waveName']}: DRS job {state.get('job_id')} could not be "
        "read; polling again"
    )
    return _advance_clock(state, entry, wave, table)


def _advance_clock(state, entry, wave, table) -> Dict[str, Any]:
    """Count the poll interval; time the wave out at the maximum."""
    waited = int(state.get("current_wave_total_wait_time") or 0)
    waited += int(state.get("current_wave_update_time") or 0)
    state["current_wave_total_wait_time"] = waited
    limit = int(state.get("current_wave_max_wait_time") or 0)
    if limit and waited >= limit:
        return _fail(
            state,
            wave,
            table,
            "WAVE_TIMEOUT",
            f"{wave['waveName']} timed out after {waited}s " f"(max {limit}s)",
            status="timeout",
        )
    _save(state, state["current_wave_number"], wave, table)
    return state


def _fail(state, wave, table, code, message, status="failed"):
    mark_failed(state, code, message, status=status)
    if status != "cancelled":
        state["failed_waves"] = int(state.get("failed_waves") or 0) + 1
    wave.update(
        status=(
            statuses.WAVE_CANCELLED
            if status == "cancelled"
            else statuses.WAVE_FAILED
        ),
        endTime=clock.iso_now(),
        error=message,
        errorCode=code,
    )
    metrics.wave_ended(wave)
    _save(state, state["current_wave_number"], wave, table)
    return state


def _cancel(state, job, wave, table) -> Dict[str, Any]:
    """CANCELLING: wait for the job to settle, then end cancelled."""
    if job.get("status") in DRS_JOB_STATUS_WAIT_STATES:
        state["status_reason"] = (
            f"cancellation requested; waiting for DRS job {job['jobID']} "
            "to settle"
        )
        _save(state, state["current_wave_number"], wave, table)
        return state
    _fail(
        state,
        wave,
        table,
        "EXECUTION_CANCELLED",
        f"execution cancelled during {wave['waveName']}",
        status="cancelled",
    )
    state["all_waves_completed"] = True
    return state


def _save(state, index, wave, table) -> None:
    if state.get("execution_id"):
        save_wave(state["execution_id"], index, wave, table=table)


@router.action("poll_wave_status")
def poll_wave_status_action(event: Dict[str, Any]) -> Dict[str, Any]:
    """``{"action": "poll_wave_status", "state"}`` -> the state."""
    return poll_wave_status(dict(event.get("state") or {}))
