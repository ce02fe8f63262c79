"""One poll of one running wave (several may run: ``shared.wave_graph``).

Reads DRS once for all the wave's started jobs, merges what it says into
the wave's server records (``job_progress``; ``shared.server_records``,
outside the execution item, which keeps the wave's counts) and each
chunk's ``jobStatus``,
then decides the wave (``wave_progress.assess``): COMPLETED when all its
servers are LAUNCHED; FAILED (a failed server, a refused chunk, access
denied, the wave timeout) only once none of its jobs is active, its
queued chunks skipped; otherwise it asks for its queued chunks that fit
the quotas (``start_wave``: the execution-handler). A wave's ending is
the wave's: what it means for the execution is the graph's decision.
"""

from dataclasses import dataclass
from time import perf_counter
from typing import Any, Callable, Dict, List, Optional

from botocore.exceptions import BotoCoreError, ClientError

from job_progress import record_job_servers
from shared import clock, metrics, statuses
from shared.account_context import get_account_context
from shared.aws_clients import create_drs_client, create_ec2_client
from shared.aws_errors import translate_client_error
from shared.aws_pagination import all_items
from shared.engine_state import EngineState
from shared.errors import ForbiddenError
from shared.job_servers import merge_job_servers
from shared.logging_setup import get_logger
from shared.server_records import (
    merged_rows,
    summarize,
    wave_servers,
    write_servers,
)
from shared.wave_graph import absorb_wave_failure, record_wave_failure
from shared.wave_jobs import SKIPPED as CHUNK_SKIPPED
from shared.wave_jobs import set_chunk, wave_job_ids, wave_jobs
from shared.wave_state import is_terminal, save_wave, wave_name, wave_result
from wave_progress import WaveAssessment, assess, name_servers

logger = get_logger("query-handler")

# A wave whose DRS jobs cannot be read because access is refused.
ACCESS_DENIED = "ACCOUNT_ACCESS_DENIED"

# start(state, index) -> the state after the start (wave_status).
WaveStarter = Callable[[EngineState, int], EngineState]


@dataclass
class PollContext:
    """What one poll shares between its waves."""

    record: Optional[Dict[str, Any]]
    cancelling: bool
    start_wave: WaveStarter
    table: Optional[Any] = None
    drs_client: Optional[Any] = None
    ec2_client: Optional[Any] = None
    servers_table: Optional[Any] = None


def wave_record(
    record: Optional[Dict[str, Any]], state: EngineState, index: int
) -> Dict[str, Any]:
    """The record's ``waves[index]`` with the names the poll needs."""
    waves = (record or {}).get("waves") or []
    wave = dict(waves[index]) if index < len(waves) else {}
    entry = wave_result(state, index)
    wave.setdefault("waveNumber", entry.get("waveNumber", index))
    wave.setdefault("waveName", wave_name(state, index))
    wave.setdefault("region", state.region)
    wave.setdefault("status", statuses.WAVE_STARTED)
    wave.setdefault("startTime", entry.get("startTime"))
    wave["servers"] = list(wave.get("servers") or [])
    return wave


def _context(
    state: EngineState, record: Optional[Dict], wave: Dict
) -> Optional[Dict[str, Any]]:
    """The wave's account (with the execution's session name)."""
    recorded = wave.get("accountContext") or (record or {}).get(
        "accountContext"
    )
    if not recorded:
        return get_account_context(state)
    return get_account_context(
        EngineState(
            input_account_context=recorded, execution_id=state.execution_id
        )
    )


class _Lazy:
    """An EC2 client made on first use (most polls need none)."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._client: Optional[Any] = None

    def __call__(self) -> Any:
        if self._client is None:
            self._client = self._factory()
        return self._client


def poll_wave(
    state: EngineState, index: int, ctx: PollContext
) -> Optional[WaveAssessment]:
    """Poll wave ``index``: record progress, decide the wave, start its
    queued chunks. Returns the assessment (None when DRS could not be
    read or the wave ended before it could be assessed)."""
    started = perf_counter()
    timings: Dict[str, float] = {}
    wave = wave_record(ctx.record, state, index)
    before = _load_servers(state, index, wave, ctx)
    timings["readRecords"] = perf_counter() - started
    jobs = wave_jobs(wave)
    job_ids = wave_job_ids(wave)
    if job_ids and not state.job_id:
        state.job_id = job_ids[0]  # the seeds' field: the first job
    described: Dict[str, Dict[str, Any]] = {}
    region = wave.get("region")
    if job_ids:
        context = _context(state, ctx.record, wave)
        try:
            since = perf_counter()
            drs = ctx.drs_client or create_drs_client(region, context)
            described = {
                j["jobID"]: j
                for j in all_items(
                    drs, "describe_jobs", filters={"jobIDs": job_ids}
                )
            }
        except (ClientError, BotoCoreError) as error:
            _unreadable(state, index, wave, context, error, ctx)
            return None
        timings["describeJobs"] = perf_counter() - since
        missing = [j for j in job_ids if j not in described]
        if missing and not ctx.cancelling:
            fail_wave(
                state,
                index,
                wave,
                ctx,
                "DRS_JOB_NOT_FOUND",
                f"{wave['waveName']}: DRS job(s) {', '.join(missing)} "
                "not found",
            )
            return None
        # Statuses first (no call): what the scheduling rule needs. A
        # chunk that fits starts before the slower part of the poll (job
        # logs, EC2, the server records): at scale that part takes
        # seconds, and capacity DRS freed must not wait for it.
        polled = [
            (job, described[job["jobId"]])
            for job in jobs
            if job.get("jobId") in described
            and job.get("jobStatus") != "COMPLETED"
        ]
        for _job, described_job in polled:
            merged = merge_job_servers(wave["servers"], described_job)
            wave["servers"] = list(merged.values())
    status = {k: v.get("status", "") for k, v in described.items()}
    found = assess(wave["servers"], jobs, status, clock.epoch())
    _count(state, index, found, jobs, job_ids)
    started_now = None
    if not ctx.cancelling and _starts_now(found):
        started_now = _start_queued(state, index, wave, ctx)
    if job_ids:
        ec2 = _Lazy(
            lambda: ctx.ec2_client or create_ec2_client(region, context)
        )
        for job, described_job in polled:
            # A job whose end a poll recorded has nothing new to say.
            wave["servers"] = record_job_servers(
                drs, described_job, wave, ec2, timings
            )
        since = perf_counter()
        if state.execution_id:
            timings["recordsWritten"] = write_servers(
                state.execution_id,
                index,
                wave["servers"],
                before,
                table=ctx.servers_table,
            )
        timings["writeRecords"] = perf_counter() - since
        # Only once its servers' records are written: a job noted ended
        # is not merged again, so a poll that stops between the two (a
        # timeout, a failed write) must leave the job to the next poll.
        for job in jobs:
            if job.get("jobId") in described:
                _note_job_status(
                    state, index, job, described[job["jobId"]], ctx.table
                )
    since = perf_counter()
    if ctx.cancelling:
        _save(state, index, wave, ctx.table)
    elif started_now is not False:
        _decide(state, index, found, wave, ctx)
    timings["decide"] = perf_counter() - since
    _log_timings(state, index, len(wave["servers"]), started, timings)
    return found


def _count(state, index, found, jobs, job_ids) -> None:
    """The wave's counts on its state entry."""
    wave_result(state, index).update(
        serverCount=found.total,
        launchedCount=len(found.launched),
        failedCount=len(found.failed),
        jobCount=len(jobs),
        startedJobs=len(job_ids),
    )


def _starts_now(found: WaveAssessment) -> bool:
    """Queued chunks may start: nothing failed, the wave goes on."""
    return bool(found.startable) and not (found.broken or found.complete)


def _start_queued(state, index, wave, ctx) -> bool:
    """Start what of the wave's queued chunks fits the quotas (the
    scheduling rule runs in the execution-handler: one place). False
    when the start ended the wave or the execution."""
    _save(state, index, wave, ctx.table)
    # The start answers a new state object; the callers hold this one.
    state.take(absorb_wave_failure(ctx.start_wave(state, index), index))
    return not (
        is_terminal(state)
        or wave_result(state, index)["status"] == statuses.WAVE_FAILED
    )


def _log_timings(state, index, servers, started, timings) -> None:
    """Where the poll of a wave spent its wall time (seconds)."""
    logger.info(
        "wave poll timing",
        extra={
            "executionId": state.execution_id,
            "waveIndex": index,
            "servers": servers,
            "totalSeconds": round(perf_counter() - started, 3),
            **{k: round(v, 3) for k, v in timings.items()},
        },
    )


def _load_servers(state, index, wave, ctx) -> List[Dict[str, Any]]:
    """The wave's server records (over rows an older record held
    inline) as ``wave["servers"]``; returns what was read."""
    if not state.execution_id:
        return []
    stored = wave_servers(state.execution_id, index, ctx.servers_table)
    rows = merged_rows(wave, stored)
    wave["servers"] = [dict(s) for s in rows]
    return rows


def _note_job_status(state, index, job, found, table) -> None:
    """Record a chunk's DRS job status when it changed (its own
    attribute: a concurrent chunk start is never overwritten)."""
    status = found.get("status") or "PENDING"
    if status == job.get("jobStatus") or not state.execution_id:
        return
    job["jobStatus"] = status
    set_chunk(
        state.execution_id,
        index,
        int(job["chunk"]),
        {"jobStatus": status},
        table=table,
    )


def _decide(
    state: EngineState,
    index: int,
    found: WaveAssessment,
    wave: Dict[str, Any],
    ctx: PollContext,
) -> None:
    """Complete or fail the wave, or keep following it (its queued chunks
    that fit were started before: ``_starts_now``)."""
    name = wave["waveName"]
    entry = wave_result(state, index)
    if found.broken and found.running:
        # Decided once every job ended (issue 16): the record then says
        # what DRS did with every server of the wave.
        what = (
            f"server(s) {name_servers(found.failed)} failed"
            if found.failed
            else "DRS refused a job"
        )
        state.status_reason = (
            f"{name}: {what}; waiting for {len(found.active_jobs)} DRS "
            "job(s) to end"
        )
        _advance_clock(state, index, wave, ctx)
        return
    if found.broken:
        skip_queued(state, index, found, ctx.table)
        if found.failed:
            code = "SERVER_LAUNCH_FAILED"
            message = f"{name} failed: server(s) {name_servers(found.failed)}"
        else:
            first = found.refused[0]
            code = first.get("errorCode") or "DRS_START_RECOVERY_FAILED"
            message = f"{name}: {first.get('error')}"
        fail_wave(state, index, wave, ctx, code, message)
        return
    if found.complete:
        now = clock.iso_now()
        wave.update(
            status=statuses.WAVE_COMPLETED,
            endTime=now,
            # The last progress note would stay otherwise.
            statusReason=f"{found.total} server(s) launched",
        )
        metrics.wave_ended(wave)
        entry.update(status=statuses.WAVE_COMPLETED, endTime=now)
        state.completed_waves = int(state.completed_waves or 0) + 1
        state.wave_completed = True  # the seeds' flag: a wave ended
        _save(state, index, wave, ctx.table)
        return
    if not (found.running or found.queued):
        fail_wave(
            state,
            index,
            wave,
            ctx,
            "DRS_JOB_ENDED_INCOMPLETE",
            f"{name}: DRS job(s) ended with server(s) not launched: "
            f"{name_servers(wave['servers'])}",
        )
        return
    state.status_reason = _progress_reason(name, found, wave_jobs(wave))
    wave["statusReason"] = state.status_reason
    _advance_clock(state, index, wave, ctx)


def _progress_reason(name: str, found: WaveAssessment, jobs: list) -> str:
    """What the wave does now, and why chunks wait (quota, or DRS
    throttled/refused a start: the chunk's error, in our words)."""
    reason = f"{name} in progress"
    if not found.queued:
        return reason
    reason += f"; {len(found.queued)} DRS job(s) waiting for capacity"
    deferred = [j.get("error") for j in jobs if j.get("status") == "QUEUED"]
    why = next((e for e in deferred if e), None)
    return reason + (f" ({why})" if why else "")


def skip_queued(state, index, found, table) -> None:
    """The wave failed or was cancelled: its queued chunks never start."""
    if not state.execution_id:
        return
    for chunk in found.queued:
        set_chunk(
            state.execution_id,
            index,
            chunk,
            {"status": CHUNK_SKIPPED},
            table=table,
        )


def _unreadable(state, index, wave, context, error, ctx) -> None:
    """The wave's jobs could not be read. Refused access (the spoke role
    cannot be assumed, DRS denies) fails the wave: polling cannot end
    it. Anything else (throttling past the client's retries, 5xx, the
    network) is transient: keep polling; the wave timeout bounds it."""
    account = (context or {}).get("accountId")
    region = wave.get("region")
    mapped = (
        translate_client_error(error, "DRS", account, region)
        if isinstance(error, ClientError)
        else None
    )
    logger.warning("reading DRS jobs of wave %s failed: %s", index, error)
    if isinstance(mapped, ForbiddenError) and not ctx.cancelling:
        fail_wave(
            state,
            index,
            wave,
            ctx,
            ACCESS_DENIED,
            f"{wave['waveName']}: {mapped.message}",
        )
        return
    state.status_reason = (
        f"{wave['waveName']}: its DRS jobs could not be read; polling again"
    )
    _advance_clock(state, index, wave, ctx)


def _advance_clock(state, index, wave, ctx) -> None:
    """Count the poll interval for the wave; time it out at the maximum
    (``current_wave_total_wait_time``: the current wave's, as seeded)."""
    entry = wave_result(state, index)
    waited = int(entry.get("waitedSeconds") or 0)
    waited += int(state.current_wave_update_time or 0)
    entry["waitedSeconds"] = waited
    if index == state.current_wave_number:
        state.current_wave_total_wait_time = waited
    limit = int(state.current_wave_max_wait_time or 0)
    if limit and waited >= limit and not ctx.cancelling:
        fail_wave(
            state,
            index,
            wave,
            ctx,
            "WAVE_TIMEOUT",
            f"{wave['waveName']} timed out after {waited}s (max {limit}s)",
            kind="timeout",
        )
        return
    _save(state, index, wave, ctx.table)


def fail_wave(state, index, wave, ctx, code, message, kind="failed"):
    """The wave ended FAILED (or timed out) on the record and the state;
    the graph decides what follows (dependents skipped)."""
    now = clock.iso_now()
    entry = wave_result(state, index)
    entry.update(status=statuses.WAVE_FAILED, endTime=now, error=message)
    entry["errorCode"] = code
    state.failed_waves = int(state.failed_waves or 0) + 1
    record_wave_failure(state, index, code, message, kind)
    wave.update(
        status=statuses.WAVE_FAILED,
        endTime=now,
        error=message,
        errorCode=code,
        statusReason=message,
    )
    metrics.wave_ended(wave)
    _save(state, index, wave, ctx.table)


def _save(state, index, wave, table) -> None:
    # ``jobs`` is written per chunk (claims, job statuses), never whole:
    # a chunk started since this poll read the record must stay. The
    # servers are records of their own: the item keeps their counts.
    if state.execution_id:
        attributes = summary_attributes(wave)
        save_wave(state.execution_id, index, attributes, table=table)


def summary_attributes(wave: Dict[str, Any]) -> Dict[str, Any]:
    """What of a polled wave the execution item keeps: its summary
    (``shared.server_records.summarize``) without its chunks."""
    return {k: v for k, v in summarize(wave).items() if k != "jobs"}
