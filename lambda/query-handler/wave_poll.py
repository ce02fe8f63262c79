"""One poll of one running wave (several may run: ``shared.wave_graph``).

Reads DRS for all the wave's started jobs in one call. What DRS alone
says comes first (``wave_progress.assess_from_drs``): a wave whose
servers all LAUNCHED completes, and queued chunks that fit the quotas
start (``start_wave``: the execution-handler), before the wave's records
are read. Then each pass (``wave_observation``) merges DRS into the
records and each chunk's ``jobStatus``; a pass that outlived the poll
interval while a job ended is followed by another. The wave is then
decided (``wave_outcome``).
"""

from time import perf_counter
from typing import Any, Dict, Optional

from botocore.exceptions import BotoCoreError, ClientError

from shared import clock, statuses
from shared.engine_state import EngineState
from shared.wave_graph import absorb_wave_failure
from shared.errors import NotFoundError
from shared.execution_records import get_execution
from shared.wave_jobs import QUEUED, wave_job_ids, wave_jobs
from shared.wave_state import is_terminal, wave_name, wave_result
from wave_observation import (
    MAX_PASSES,
    add_time,
    describe_jobs,
    drs_client,
    ec2_client,
    fresher_view,
    load_servers,
    merge_statuses,
    record_pass,
    wave_context,
)
from wave_outcome import (
    PollContext,
    decide,
    fail_wave,
    log_timings,
    save_summary,
    unreadable,
)
from wave_progress import WaveAssessment, assess, assess_from_drs


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


def poll_wave(
    state: EngineState, index: int, ctx: PollContext
) -> Optional[WaveAssessment]:
    """Poll wave ``index``: record progress, decide the wave, start its
    queued chunks. Returns the assessment (None when DRS could not be
    read or the wave ended before it could be assessed)."""
    started = perf_counter()
    timings: Dict[str, float] = {}
    wave = wave_record(ctx.record, state, index)
    jobs = wave_jobs(wave)
    seen = _describe(state, index, wave, ctx, timings)
    if seen is None:
        return None
    described, clients = seen
    viewed_at = clock.epoch_float()
    # DRS alone first: an ended wave or freed capacity must not wait for
    # the wave's records (at scale a read of seconds).
    early = assess_from_drs(jobs, described, clock.epoch())
    started_now = None
    if early.complete and not ctx.cancelling and clients is not None:
        _count(state, index, early, jobs, wave_job_ids(wave))

        def pending() -> None:
            before = load_servers(state, index, wave, ctx.servers_table)
            polled = merge_statuses(wave, jobs, described)
            record_pass(
                state, index, wave, polled, before, clients, ctx, timings
            )

        decide(state, index, early, wave, ctx, pending)
        log_timings(state, index, early.total, started, timings)
        return early
    if not ctx.cancelling and _starts_now(early):
        started_now = _start_chunks(state, index, wave, ctx)
    since = perf_counter()
    before = load_servers(state, index, wave, ctx.servers_table)
    timings["readRecords"] = perf_counter() - since
    # Chunks started before the records were read (or a start that
    # ended the wave): the first pass records without starting more.
    tried = started_now is not None or _starts_now(early)
    fresh_start = bool(started_now)
    passes = 0
    while True:
        passes += 1
        found, now_started, pending = _pass(
            state,
            index,
            wave,
            (jobs, described, before, viewed_at),
            clients,
            ctx,
            timings,
            may_start=passes > 1 or not tried,
        )
        if now_started is False or (now_started and started_now is None):
            started_now = now_started
        fresh_start = fresh_start or bool(now_started)
        if ctx.cancelling or clients is None or pending is not None:
            break
        if started_now is False or passes >= MAX_PASSES:
            break
        active, known = found.active_jobs, described
        if fresh_start:
            # Chunks started: look on only while others still wait.
            after = _after_start(state, index, wave, ctx, described)
            if after is None:
                break
            jobs, known, new_jobs = after
            active = active + new_jobs
            fresh_start = False
        # The records now hold what this pass saw.
        before = [dict(s) for s in wave["servers"]]
        since = perf_counter()
        fresh = fresher_view(
            state, clients[0], active, known, viewed_at, wave_job_ids(wave)
        )
        add_time(timings, "describeJobs", perf_counter() - since)
        if fresh is None:
            break
        described, viewed_at = fresh, clock.epoch_float()
    timings["passes"] = passes
    since = perf_counter()
    if ctx.cancelling:
        save_summary(state, index, wave, ctx.table)
    elif started_now is not False:
        decide(state, index, found, wave, ctx, pending)
    timings["decide"] = perf_counter() - since
    log_timings(state, index, len(wave["servers"]), started, timings)
    return found


def _describe(state, index, wave, ctx, timings):
    """``(described, clients)``: DescribeJobs of the wave's started jobs
    (``({}, None)`` when none started); None when the wave could not be
    read (then failed, or left to the next poll: ``unreadable``)."""
    job_ids = wave_job_ids(wave)
    if not job_ids:
        return {}, None
    if not state.job_id:
        state.job_id = job_ids[0]  # the seeds' field: the first job
    context = wave_context(state, ctx.record, wave)
    try:
        since = perf_counter()
        drs = drs_client(ctx, wave, context)
        described = describe_jobs(drs, job_ids)
    except (ClientError, BotoCoreError) as error:
        unreadable(state, index, wave, context, error, ctx)
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
    return described, (drs, ec2_client(ctx, wave, context))


def _pass(state, index, wave, seen, clients, ctx, timings, may_start=True):
    """One look at DRS (``wave_observation``): statuses merged and
    assessed first, then (``may_start``) the queued chunks that fit
    started (capacity DRS freed must not wait for the slower recording),
    then the rest recorded. Returns the assessment, whether chunks were
    started (``_start_chunks``) and, for a wave found complete, its
    recording still to do (else None)."""
    jobs, described, before, viewed_at = seen
    polled = merge_statuses(wave, jobs, described)
    status = {k: v.get("status", "") for k, v in described.items()}
    found = assess(wave["servers"], jobs, status, clock.epoch())
    _count(state, index, found, jobs, wave_job_ids(wave))
    started_now = None
    if may_start and not ctx.cancelling and _starts_now(found):
        started_now = _start_chunks(state, index, wave, ctx)
    if clients is None:
        return found, started_now, None
    if started_now is None and found.queued and not ctx.cancelling:
        # Chunks wait for capacity, and reading the records took a
        # while: a job that ended since this view frees it now, not
        # after the slower recording.
        fresh = fresher_view(
            state, clients[0], found.active_jobs, described, viewed_at
        )
        if fresh is not None:
            described.update(fresh)
            again = (jobs, described, before, clock.epoch_float())
            return _pass(state, index, wave, again, clients, ctx, timings)

    def record() -> None:
        record_pass(state, index, wave, polled, before, clients, ctx, timings)

    if found.complete and not ctx.cancelling:
        # Every server LAUNCHED: what follows the wave need not wait for
        # its last phases and instance details (``decide``).
        return found, started_now, record
    record()
    return found, started_now, None


def _start_chunks(state, index, wave, ctx) -> Optional[bool]:
    """Start what fits of the wave's queued chunks (``_start_queued``):
    True when jobs started (the next poll follows them), None when none
    fitted (the wave's jobs are as seen), False when the start ended
    the wave or the execution."""
    known = len(wave_job_ids(wave))
    going = _start_queued(state, index, wave, ctx)
    started = int(wave_result(state, index).get("startedJobs") or 0)
    if going and started <= known:
        return None
    return going


def _after_start(state, index, wave, ctx, described):
    """After chunks started, while others still wait for capacity: the
    wave's chunk entries as the start recorded them (the poll's copy
    lacks the new jobs), the jobs as last known (a new job as recorded
    at its start) and the new job ids, so a job ending later in this
    poll starts the next chunk now, not at the next poll. None when
    nothing waits (or the record is gone)."""
    try:
        record = get_execution(state.execution_id, ctx.table)
    except NotFoundError:
        return None
    waves = record.get("waves") or []
    if index >= len(waves):
        return None
    wave["jobs"] = list(waves[index].get("jobs") or [])
    jobs = wave_jobs(wave)
    if not any(job.get("status") == QUEUED for job in jobs):
        return None
    new = {
        job["jobId"]: {"status": job.get("jobStatus")}
        for job in jobs
        if job.get("jobId") and job["jobId"] not in described
    }
    return jobs, {**described, **new}, list(new)


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
    save_summary(state, index, wave, ctx.table)
    # The start answers a new state object; the callers hold this one.
    state.take(absorb_wave_failure(ctx.start_wave(state, index), index))
    return not (
        is_terminal(state)
        or wave_result(state, index)["status"] == statuses.WAVE_FAILED
    )
