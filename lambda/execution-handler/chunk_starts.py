"""Start the DRS jobs of a wave that the scheduling rule says fit now.

A started wave has its chunk plan on the record (``shared.wave_jobs``).
One call here: list the location's DRS jobs once (``DescribeJobs``: the
quotas count jobs this execution did not start), adopt any job a
previous start of a chunk launched but did not record (found by its
tags), ask ``shared.wave_schedule.decide`` which queued chunks fit the
quotas, then claim and start each of them (``StartRecovery``).

A throttled start, a DRS 5xx or a quota taken since the listing defers
the chunk (``notBefore`` from ``retryAfterSeconds``); the next poll
starts it. Any other refusal fails the chunk (the wave is decided once
its jobs have ended). Claims are conditional on a RUNNING record, so a
cancelled execution never starts a queued chunk.
"""

import math
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from botocore.exceptions import BotoCoreError, ClientError

from execution_drs import describe_jobs, servers_in_active_jobs
from shared import clock, statuses
from shared.aws_errors import THROTTLING_CODES, recovery_start_error
from shared.config import get_settings
from shared.engine_state import EngineState
from shared.execution_records import get_execution
from shared.logging_setup import get_logger
from shared.progress_wake import register_job
from shared.wave_jobs import (
    FAILED,
    OPEN,
    QUEUED,
    SKIPPED,
    STARTED,
    STARTING,
    chunk_server_ids,
    claim_chunk,
    deferred,
    set_chunk,
    stale_claims,
    startable,
    wave_job_ids,
    wave_jobs,
    with_status,
)
from shared.wave_schedule import (
    Quotas,
    WaveProgress,
    WaveSpec,
    decide,
    quotas_from,
    usage_of,
)
from shared.wave_state import mark_failed, save_wave, wave_name, wave_result
from shared.wave_schedule import QUEUED as WAVE_QUEUED
from shared.wave_schedule import STARTED as WAVE_STARTED

logger = get_logger("execution-handler")

TAG_EXECUTION = "DRSOrchExecutionId"
TAG_WAVE = "DRSOrchWave"
TAG_PLAN = "DRSOrchPlanId"
TAG_CHUNK = "DRSOrchJobChunk"

# Refusals that free up by themselves: the chunk waits for a later poll.
DEFERRABLE_CODES = THROTTLING_CODES | {"ServiceQuotaExceededException"}


@dataclass(frozen=True)
class ChunkTarget:
    """Where and for whom a wave's chunks start."""

    execution_id: str
    plan_id: str
    index: int
    is_drill: bool
    drs: Any
    account_id: Optional[str]
    region: Optional[str]
    quotas: Quotas
    table: Optional[Any] = None


def _tags(target: ChunkTarget, chunk: int) -> Dict[str, str]:
    tags = {
        TAG_EXECUTION: target.execution_id,
        TAG_WAVE: str(target.index),
        TAG_PLAN: target.plan_id,
        TAG_CHUNK: str(chunk),
    }
    return {k: v for k, v in tags.items() if v}


def _tagged_jobs(target: ChunkTarget, listing: List[Dict]) -> Dict[int, Dict]:
    """chunk -> the DRS job this wave's chunk started (by tags)."""
    found: Dict[int, Dict] = {}
    for job in listing:
        tags = job.get("tags") or {}
        if (
            tags.get(TAG_EXECUTION) == target.execution_id
            and tags.get(TAG_WAVE) == str(target.index)
            and str(tags.get(TAG_CHUNK, "")).isdigit()
        ):
            found.setdefault(int(tags[TAG_CHUNK]), job)
    return found


def _record_started(
    target: ChunkTarget, chunk: int, job: Dict[str, Any], started: str
) -> None:
    job_id = job["jobID"]
    try:
        set_chunk(
            target.execution_id,
            target.index,
            chunk,
            {
                "status": STARTED,
                "jobId": job_id,
                "startTime": started,
                "jobStatus": "PENDING",
            },
            table=target.table,
            wave={"status": WAVE_STARTED},
            first_job_id=job_id,
        )
    except (ClientError, BotoCoreError):
        # The job carries our tags: the next start adopts it.
        logger.exception("started job not recorded", extra={"jobId": job_id})
    # Its DRS events wake this execution's progress wait (issue 18); the
    # last of its servers' results is the one that wakes.
    register_job(
        target.execution_id,
        job_id,
        target.region,
        target.table,
        servers=len(job.get("participatingServers") or ()),
    )


def _adopt(
    target: ChunkTarget, jobs: List[Dict], tagged: Dict[int, str], now: float
) -> None:
    """Record jobs started by an earlier start of a chunk but lost."""
    stale = set(stale_claims(jobs, now))
    for job in jobs:
        chunk = int(job["chunk"])
        if job.get("status") not in OPEN or chunk not in tagged:
            continue
        if job["status"] == QUEUED or chunk in stale:
            if claim_chunk(
                target.execution_id,
                target.index,
                chunk,
                target.table,
                stale=chunk in stale,
            ):
                found = tagged[chunk]
                _record_started(target, chunk, found, clock.iso_now())
                job.update(status=STARTED, jobId=found["jobID"])


def _retry_after(error: ClientError) -> float:
    response = error.response or {}
    raw = response.get("retryAfterSeconds") or (
        response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    ).get("retry-after")
    try:
        return max(float(raw or 0), 0.0)
    except (TypeError, ValueError):
        return 0.0


def _deferrable(error: Exception) -> bool:
    if isinstance(error, BotoCoreError):
        return True  # DRS not reached: the tags find a job it did start
    response = getattr(error, "response", {}) or {}
    code = response.get("Error", {}).get("Code")
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    return code in DEFERRABLE_CODES or int(status) >= 500


def _start_one(
    target: ChunkTarget, chunk: int, servers: List[str]
) -> Optional[str]:
    """StartRecovery of one claimed chunk; the job id, or None when the
    chunk was deferred or failed (recorded)."""
    try:
        job = target.drs.start_recovery(
            sourceServers=[{"sourceServerID": sid} for sid in servers],
            isDrill=target.is_drill,
            tags=_tags(target, chunk),
        )["job"]
    except (ClientError, BotoCoreError) as error:
        # The AWS text goes to the log only; the record gets our words.
        logger.warning(
            "start_recovery refused",
            extra={"chunk": chunk, "error": str(error)},
        )
        busy = servers_in_active_jobs(target.drs, servers)
        code, message = recovery_start_error(
            error, busy, target.account_id, target.region
        )
        attributes: Dict[str, Any] = {"error": message, "errorCode": code}
        if _deferrable(error):
            wait = _retry_after(error) if isinstance(error, ClientError) else 0
            attributes.update(
                status=QUEUED, notBefore=clock.epoch() + math.ceil(wait)
            )
        else:
            attributes.update(status=FAILED, endTime=clock.iso_now())
        set_chunk(
            target.execution_id,
            target.index,
            chunk,
            attributes,
            table=target.table,
        )
        return None
    _record_started(target, chunk, job, clock.iso_now())
    return job["jobID"]


def start_ready_chunks(
    target: ChunkTarget, wave: Dict[str, Any], only: Optional[int] = None
) -> List[str]:
    """Start the wave's queued chunks that fit the quotas now (``only``:
    that chunk, if it fits). Returns the ids of the jobs started."""
    jobs = wave_jobs(wave)
    now = clock.epoch()
    if not [j for j in jobs if j.get("status") in OPEN]:
        return []
    try:
        listing = describe_jobs(target.drs)
    except (ClientError, BotoCoreError) as error:
        # Nothing starts blind: the next poll lists again.
        logger.warning("DRS jobs not listed", extra={"error": str(error)})
        return []
    _adopt(target, jobs, _tagged_jobs(target, listing), now)
    if deferred(jobs, now) or any(j.get("status") == FAILED for j in jobs):
        return []  # throttled: honour retryAfterSeconds; failed: no more
    stale = set(stale_claims(jobs, now))
    ready = set(startable(jobs, now)) | stale
    servers = chunk_servers(wave, jobs)
    spec = WaveSpec(target.index, tuple(servers), location="here")
    progress = WaveProgress(
        status=WAVE_STARTED,
        started_chunks=frozenset(
            int(j["chunk"]) for j in jobs if int(j["chunk"]) not in ready
        ),
    )
    decision = decide(
        [spec],
        {target.index: progress},
        {"here": usage_of(listing)},
        _recorded_quotas(target.quotas, wave),
    )
    started: List[str] = []
    for item in decision.start:
        if only is not None and item.chunk != only:
            continue
        entry = next(j for j in jobs if int(j["chunk"]) == item.chunk)
        if not claim_chunk(
            target.execution_id,
            target.index,
            item.chunk,
            target.table,
            stale=item.chunk in stale,
        ):
            continue  # another start has it, or the execution stopped
        job_id = _start_one(target, item.chunk, chunk_server_ids(wave, entry))
        if job_id is None:
            break  # deferred or refused: later chunks wait too
        started.append(job_id)
    return started


def chunk_servers(wave: Dict[str, Any], jobs: List[Dict]) -> List[str]:
    """The wave's servers in chunk order (what ``decide`` cuts)."""
    ordered: List[str] = []
    for job in sorted(jobs, key=lambda j: int(j["chunk"])):
        ordered += chunk_server_ids(wave, job)
    return ordered


def _recorded_quotas(quotas: Quotas, wave: Dict[str, Any]) -> Quotas:
    """The deployment's quotas, with the job size the wave was planned
    with (its chunks must not change under a redeploy)."""
    size = int(wave.get("maxServersPerJob") or quotas.max_servers_per_job)
    return Quotas(
        max_servers_per_job=size,
        max_concurrent_jobs=quotas.max_concurrent_jobs,
        max_servers_in_all_jobs=quotas.max_servers_in_all_jobs,
    )


def start_wave_chunks(
    state: EngineState,
    index: int,
    wave: Dict[str, Any],
    drs: Any,
    chunk: Optional[int],
    history_table: Optional[Any],
) -> EngineState:
    """Start what fits of the wave's chunks; the state then says what
    runs (the first job's id is the seeds' ``job_id``)."""
    context = state.job_account_context or {}
    target = ChunkTarget(
        execution_id=state.execution_id,
        plan_id=str(state.plan_id or ""),
        index=index,
        # A state without the flag is a drill (the safe side).
        is_drill=bool(state.is_drill) if state.has("is_drill") else True,
        drs=drs,
        account_id=context.get("accountId"),
        region=state.region,
        quotas=quotas_from(get_settings()),
        table=history_table,
    )
    started = start_ready_chunks(target, wave, only=chunk)
    record = get_execution(state.execution_id, history_table)
    recorded = (record.get("waves") or [])[index]
    jobs = wave_jobs(recorded)
    entry = wave_result(state, index)
    entry.update(
        status=recorded.get("status") or WAVE_QUEUED,
        jobCount=len(jobs),
        startedJobs=len(wave_job_ids(recorded)),
    )
    if recorded.get("jobId"):
        state.job_id = entry["jobId"] = recorded["jobId"]
    if started:
        logger.info(
            "wave jobs started",
            extra={"wave": index, "jobIds": started, "jobs": len(jobs)},
        )
    return _fail_if_refused(state, index, recorded, jobs, history_table)


def _fail_if_refused(
    state: EngineState,
    index: int,
    wave: Dict[str, Any],
    jobs: List[Dict[str, Any]],
    history_table: Optional[Any],
) -> EngineState:
    """A refused chunk with no job of the wave running: the wave fails
    now (nothing to wait for); its queued chunks never start. With jobs
    running the poll decides once they have ended."""
    refused = with_status(jobs, FAILED)
    if not refused or with_status(jobs, STARTED, STARTING):
        return state
    name = wave_name(state, index)
    first = refused[0]
    mark_failed(state, first.get("errorCode"), f"{name}: {first.get('error')}")
    for job in with_status(jobs, QUEUED):
        set_chunk(
            state.execution_id,
            index,
            int(job["chunk"]),
            {"status": SKIPPED},
            table=history_table,
        )
    entry = wave_result(state, index)
    save_wave(
        state.execution_id,
        index,
        {
            "status": statuses.WAVE_FAILED,
            "endTime": entry["endTime"],
            "error": state.error,
            "errorCode": state.error_code,
        },
        table=history_table,
    )
    return state
