"""What one look at DRS adds to a running wave (``wave_poll``).

A poll reads the wave's server records once, then makes one or more
*passes*: each merges what ``DescribeJobs`` says of the wave's started
jobs into the wave's ``servers`` (statuses first: the scheduling rule
needs nothing else), then records the rest (job log phases, recovery
instances, EC2 facts), writes the records that changed and notes each
chunk's ``jobStatus``. A pass whose view of DRS is older than one poll
interval by the time it is written, while a job it saw running has
ended since (:func:`fresher_view`), is followed by another pass: the
poll then decides on what DRS says now instead of leaving a freed
quota slot or a finished wave to the next poll.
"""

from time import perf_counter
from typing import Any, Callable, Dict, List, Optional, Tuple

from botocore.exceptions import BotoCoreError, ClientError

from job_progress import record_job_servers
from shared import clock
from shared.account_context import get_account_context
from shared.aws_clients import create_drs_client, create_ec2_client
from shared.aws_pagination import all_items
from shared.engine_state import EngineState
from shared.job_servers import merge_job_servers
from shared.logging_setup import get_logger
from shared.server_records import merged_rows, wave_servers, write_servers
from shared.wave_jobs import set_chunk

logger = get_logger("query-handler")

# Passes of one poll at most: a poll stays bounded whatever DRS does.
MAX_PASSES = 3
# A job DRS reports so has ended: its servers' end was merged once.
ENDED = "COMPLETED"

# (chunk entry, DescribeJobs item) of each job a pass follows.
Polled = List[Tuple[Dict[str, Any], Dict[str, Any]]]


def add_time(timings: Dict[str, float], name: str, seconds: float) -> None:
    """Add ``seconds`` to ``timings[name]`` (several passes add up)."""
    timings[name] = timings.get(name, 0.0) + seconds


class Lazy:
    """A client made on first use (most passes need no EC2)."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._client: Optional[Any] = None

    def __call__(self) -> Any:
        if self._client is None:
            self._client = self._factory()
        return self._client


def wave_context(
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


def drs_client(ctx: Any, wave: Dict, context: Optional[Dict]) -> Any:
    """The poll's DRS client (injected, or for the wave's account)."""
    return ctx.drs_client or create_drs_client(wave.get("region"), context)


def ec2_client(ctx: Any, wave: Dict, context: Optional[Dict]) -> Lazy:
    """The poll's EC2 client, made when a launched server needs it."""
    return Lazy(
        lambda: ctx.ec2_client
        or create_ec2_client(wave.get("region"), context)
    )


def describe_jobs(drs: Any, job_ids: List[str]) -> Dict[str, Dict]:
    """jobID -> DescribeJobs item, for all the jobs in one filtered
    call (paginated)."""
    return {
        j["jobID"]: j
        for j in all_items(drs, "describe_jobs", filters={"jobIDs": job_ids})
    }


def load_servers(
    state: EngineState, index: int, wave: Dict, table: Optional[Any]
) -> List[Dict[str, Any]]:
    """The wave's server records (over rows an older record held
    inline) as ``wave["servers"]``; returns what was read."""
    if not state.execution_id:
        return []
    stored = wave_servers(state.execution_id, index, table)
    rows = merged_rows(wave, stored)
    wave["servers"] = [dict(s) for s in rows]
    return rows


def merge_statuses(
    wave: Dict[str, Any],
    jobs: List[Dict[str, Any]],
    described: Dict[str, Dict],
) -> Polled:
    """Merge each followed job's server statuses into ``wave["servers"]``
    (no call); the jobs followed: a job whose end a pass recorded has
    nothing new to say."""
    polled = [
        (job, described[job["jobId"]])
        for job in jobs
        if job.get("jobId") in described and job.get("jobStatus") != ENDED
    ]
    for _job, found in polled:
        merged = merge_job_servers(wave["servers"], found)
        wave["servers"] = list(merged.values())
    return polled


def record_pass(
    state: EngineState,
    index: int,
    wave: Dict[str, Any],
    polled: Polled,
    before: List[Dict[str, Any]],
    clients: Tuple[Any, Lazy],
    ctx: Any,
    timings: Dict[str, float],
) -> None:
    """Add the followed jobs' phases and instances to the wave's servers,
    write the records that differ from ``before``, then note each job's
    DRS status."""
    drs, ec2 = clients
    for _job, found in polled:
        wave["servers"] = record_job_servers(drs, found, wave, ec2, timings)
    since = perf_counter()
    if state.execution_id:
        written = write_servers(
            state.execution_id,
            index,
            wave["servers"],
            before,
            table=ctx.servers_table,
        )
        add_time(timings, "recordsWritten", written)
    add_time(timings, "writeRecords", perf_counter() - since)
    # Only once its servers' records are written: a job noted ended is
    # not merged again, so a pass that stops between the two (a timeout,
    # a failed write) must leave the job to the next poll.
    for job, found in polled:
        _note_job_status(state, index, job, found, ctx.table)


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


def fresher_view(
    state: EngineState,
    drs: Any,
    active_jobs: List[str],
    described: Dict[str, Dict],
    viewed_at: float,
    job_ids: Optional[List[str]] = None,
) -> Optional[Dict[str, Dict]]:
    """DRS's jobs (``job_ids``, default those ``described``: a start
    adds jobs) again when the pass's view (taken at ``viewed_at``,
    ``shared.clock`` seconds) is older than the poll interval and a job
    it saw active has ended or changed status since; None otherwise (the
    next poll sees it)."""
    interval = int(state.current_wave_update_time or 0)
    job_ids = list(job_ids or described)
    if not (active_jobs and interval and job_ids):
        return None
    if clock.epoch_float() - viewed_at <= interval:
        return None
    try:
        fresh = describe_jobs(drs, job_ids)
    except (ClientError, BotoCoreError) as error:
        logger.warning("reading DRS jobs again failed: %s", error)
        return None
    if set(fresh) != set(job_ids):
        return None  # a job gone: the next poll fails the wave
    changed = [
        j
        for j in active_jobs
        if fresh[j].get("status") != described[j].get("status")
    ]
    return fresh if changed else None
