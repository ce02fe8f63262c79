"""Poll the current wave (action ``poll_wave_status``).

Moved from the orchestration Lambda's ``update_wave_status``
(``seeds/000_*`` §2). One poll:

1. reads the execution record; CANCELLING wins over everything: no
   queued chunk starts, the state keeps polling (``status_reason`` says
   so) until none of the wave's DRS jobs is PENDING/STARTED, then ends
   ``cancelled`` with both completion flags set (the core records
   CANCELLED);
2. one ``describe_jobs`` for all the wave's started jobs (a wave runs as
   several jobs: ``shared.wave_jobs``) and, per job not recorded as
   ended, every server's ``launchStatus``, its phase from the job log
   and, once launched, its recovery instance (``job_progress``) —
   persisted to ``waves[i].servers``; each chunk's job status on its own
   attribute;
3. decides (``wave_progress.assess``): completes the wave when all its
   servers are LAUNCHED; with a FAILED server or a refused chunk fails it
   only once none of its jobs is active (queued chunks are skipped);
   otherwise asks the execution-handler to start the queued chunks the
   quotas allow now (``start_wave``); times out at
   ``current_wave_max_wait_time``;
4. after a completed wave: pauses (next wave's ``pauseBeforeWave`` or the
   record's ``pauseRequested``), starts the next wave (``start_wave``:
   by default an invocation of the execution-handler; its error
   propagates to the state machine's retry of the poll), or completes.

The execution record's status is finished by the orchestration core, not
here (one place for terminal transitions; it also cleans up a drill that
ended failed, timed out or cancelled).
"""

from typing import Any, Callable, Dict, Optional

from botocore.exceptions import BotoCoreError, ClientError

from job_progress import record_job_servers
from wave_progress import WaveAssessment, assess, name_servers
from query_routes import router
from shared import clock, metrics, statuses
from shared.account_context import get_account_context
from shared.aws_clients import create_drs_client, create_ec2_client
from shared.config import get_settings
from shared.aws_pagination import all_items
from shared.aws_errors import translate_client_error
from shared.errors import ForbiddenError, NotFoundError
from shared.execution_records import get_execution
from shared.lambda_invoke import invoke_function
from shared.logging_setup import get_logger
from shared.responses import to_jsonable
from shared.wave_jobs import SKIPPED as CHUNK_SKIPPED
from shared.wave_jobs import set_chunk, wave_job_ids, wave_jobs
from shared.wave_state import (
    end_for_record,
    is_terminal,
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
    """The state's job id (the wave's first job, the seeds' field), else
    the one recorded by another start of this wave."""
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

    ``start_wave(state, n)`` starts wave ``n`` or its queued chunks: by
    default the execution-handler is invoked; the legacy orchestration
    passes ``wave_recovery.start_wave_recovery``.
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
    _adopt_recorded_job(state, wave)
    jobs = wave_jobs(wave)
    job_ids = wave_job_ids(wave)
    described: Dict[str, Dict[str, Any]] = {}
    if job_ids:
        context = state.get("job_account_context")
        if context is None:
            context = get_account_context(state)
        try:
            drs = drs_client or create_drs_client(state.get("region"), context)
            described = {
                j["jobID"]: j
                for j in all_items(
                    drs, "describe_jobs", filters={"jobIDs": job_ids}
                )
            }
        except (ClientError, BotoCoreError) as error:
            return _drs_unreadable(
                state, context, (entry, wave), error, history_table
            )
        missing = [j for j in job_ids if j not in described]
        if missing and not cancelling:
            return _fail(
                state,
                wave,
                history_table,
                "DRS_JOB_NOT_FOUND",
                f"{wave['waveName']}: DRS job(s) {', '.join(missing)} not "
                "found",
            )
        ec2 = _Lazy(
            lambda: ec2_client
            or create_ec2_client(state.get("region"), context)
        )
        for job in jobs:
            found = described.get(job.get("jobId"))
            if found and job.get("jobStatus") != "COMPLETED":
                # A job whose end a poll recorded has nothing new to say.
                wave["servers"] = record_job_servers(drs, found, wave, ec2)
            if found:
                _note_job_status(state, index, job, found, history_table)
    status = {k: v.get("status", "") for k, v in described.items()}
    found = assess(wave["servers"], jobs, status, clock.epoch())
    entry.update(
        serverCount=found.total,
        launchedCount=len(found.launched),
        failedCount=len(found.failed),
        jobCount=len(jobs),
        startedJobs=len(job_ids),
    )
    if cancelling:
        return _cancel(state, found, wave, history_table)
    return _decide(state, record, found, wave, start_wave, history_table)


class _Lazy:
    """An EC2 client made on first use (most polls need none)."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._client: Optional[Any] = None

    def __call__(self) -> Any:
        if self._client is None:
            self._client = self._factory()
        return self._client


def _note_job_status(state, index, job, found, table) -> None:
    """Record a chunk's DRS job status when it changed (its own
    attribute: a concurrent chunk start is never overwritten)."""
    status = found.get("status") or "PENDING"
    if status == job.get("jobStatus") or not state.get("execution_id"):
        return
    job["jobStatus"] = status
    set_chunk(
        state["execution_id"],
        index,
        int(job["chunk"]),
        {"jobStatus": status},
        table=table,
    )


def _decide(
    state: Dict[str, Any],
    record: Optional[Dict[str, Any]],
    found: WaveAssessment,
    wave: Dict[str, Any],
    start_wave: WaveStarter,
    history_table: Optional[Any],
) -> Dict[str, Any]:
    """Complete, fail, start queued chunks or keep following the wave."""
    index = state["current_wave_number"]
    entry = wave_result(state, index)
    name = wave["waveName"]
    if found.broken and found.running:
        # Decided once every job ended (issue 16): the record then says
        # what DRS did with every server of the wave.
        what = (
            f"server(s) {name_servers(found.failed)} failed"
            if found.failed
            else "DRS refused a job"
        )
        state["status_reason"] = (
            f"{name}: {what}; waiting for {len(found.active_jobs)} DRS "
            "job(s) to end"
        )
        return _advance_clock(state, entry, wave, history_table)
    if found.broken:
        _skip_queued(state, index, found, history_table)
        if found.failed:
            code = "SERVER_LAUNCH_FAILED"
            message = f"{name} failed: server(s) {name_servers(found.failed)}"
        else:
            first = found.refused[0]
            code = first.get("errorCode") or "DRS_START_RECOVERY_FAILED"
            message = f"{name}: {first.get('error')}"
        return _fail(state, wave, history_table, code, message)
    if found.complete:
        now = clock.iso_now()
        wave.update(status=statuses.WAVE_COMPLETED, endTime=now)
        metrics.wave_ended(wave)
        entry.update(status=statuses.WAVE_COMPLETED, endTime=now)
        _save(state, index, wave, history_table)
        return _complete(state, record, start_wave)
    if not (found.running or found.queued):
        return _fail(
            state,
            wave,
            history_table,
            "DRS_JOB_ENDED_INCOMPLETE",
            f"{name}: DRS job(s) ended with server(s) not launched: "
            f"{name_servers(wave['servers'])}",
        )
    if found.startable:
        # The scheduling rule runs in the execution-handler (one place):
        # it starts what of the queued chunks fits the quotas now.
        _save(state, index, wave, history_table)
        state = start_next_wave(state, index, start_wave)
        if is_terminal(state):
            return state
        entry = wave_result(state, index)
    waiting = len(found.queued)
    state["status_reason"] = f"{name} in progress" + (
        f"; {waiting} DRS job(s) waiting for capacity" if waiting else ""
    )
    return _advance_clock(state, entry, wave, history_table)


def _skip_queued(state, index, found, table) -> None:
    """The wave failed: its queued chunks never start."""
    if not state.get("execution_id"):
        return
    for chunk in found.queued:
        set_chunk(
            state["execution_id"],
            index,
            chunk,
            {"status": CHUNK_SKIPPED},
            table=table,
        )


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


def _cancel(state, found, wave, table) -> Dict[str, Any]:
    """CANCELLING: no queued chunk starts; wait for the started jobs to
    settle, then end cancelled."""
    if found.running:
        state["status_reason"] = (
            f"cancellation requested; waiting for {len(found.active_jobs)} "
            "DRS job(s) to settle"
        )
        _save(state, state["current_wave_number"], wave, table)
        return state
    _skip_queued(state, state["current_wave_number"], found, table)
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
    # ``jobs`` is written per chunk (claims, job statuses), never whole:
    # a chunk started since this poll read the record must stay.
    if state.get("execution_id"):
        attributes = {k: v for k, v in wave.items() if k != "jobs"}
        save_wave(state["execution_id"], index, attributes, table=table)


@router.action("poll_wave_status")
def poll_wave_status_action(event: Dict[str, Any]) -> Dict[str, Any]:
    """``{"action": "poll_wave_status", "state"}`` -> the state."""
    return poll_wave_status(dict(event.get("state") or {}))
