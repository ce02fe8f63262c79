"""A wave's DRS jobs ("chunks") on the execution record.

A wave of N servers runs as ``ceil(N / max_servers_per_job)`` DRS jobs
(``shared.wave_schedule.chunks``). When the wave starts its plan is
recorded as ``waves[i].jobs``, one entry per chunk::

    {"chunk": k, "offset": o, "count": n, "status": S,
     "jobId"?, "startTime"?, "claimedAt"?, "notBefore"?, "attempts"?,
     "error"?, "errorCode"?, "jobStatus"?}

The chunk's servers are ``waves[i].serverIds[o:o + n]`` (offsets, so the
plan stays small whatever the quotas). ``S`` moves:

* QUEUED -> STARTING: claimed (conditional: the record is RUNNING), just
  before its ``StartRecovery``; a retried or concurrent start of the same
  chunk finds it claimed and starts nothing;
* STARTING -> STARTED: the job is recorded (``jobId``);
* STARTING -> QUEUED: deferred (throttled, DRS 5xx, quota taken since the
  listing) with ``notBefore``; the next poll starts it again;
* STARTING -> FAILED: DRS refused it (the wave fails once its jobs end);
* QUEUED -> SKIPPED: the wave failed or the execution was cancelled: a
  queued chunk of a failed or cancelled execution never starts.

No DRS code here: the execution-handler starts chunks, the poll follows
them; both read and write the record through these helpers.
"""

from typing import Any, Dict, Iterable, List, Optional

from botocore.exceptions import ClientError

from shared import clock, statuses
from shared.ddb_updates import SetExpression, condition_failed
from shared.tables import execution_history_table
from shared.wave_schedule import chunks

QUEUED = "QUEUED"
STARTING = "STARTING"
STARTED = "STARTED"
FAILED = "FAILED"
SKIPPED = "SKIPPED"
OPEN = (QUEUED, STARTING)

# A claim older than this with no recorded job: its start died (a Lambda
# timeout between StartRecovery and the write). The job is then found by
# its tags or the chunk is queued again (``stale_claims``).
CLAIM_STALE_SECONDS = 300


def plan_jobs(server_count: int, max_per_job: int) -> List[Dict[str, Any]]:
    """The chunk entries of a wave of ``server_count`` servers, QUEUED."""
    plan = []
    offset = 0
    sizes = [len(c) for c in chunks(range(server_count), max_per_job)]
    for number, size in enumerate(sizes):
        plan.append(
            {
                "chunk": number,
                "offset": offset,
                "count": size,
                "status": QUEUED,
            }
        )
        offset += size
    return plan


def without_queued(jobs: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The chunk entries of a wave that ends now (cancelled): a QUEUED
    chunk is SKIPPED, so an ended record shows nothing waiting to
    start."""
    return [
        {**job, "status": SKIPPED} if job.get("status") == QUEUED else job
        for job in jobs
    ]


def wave_jobs(wave: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The wave's chunk entries; a wave recorded before job packing (one
    ``jobId``) reads as one STARTED chunk of all its servers."""
    if wave.get("jobs"):
        return [dict(j) for j in wave["jobs"]]
    if wave.get("jobId"):
        count = len(wave.get("serverIds") or wave.get("servers") or [])
        return [
            {
                "chunk": 0,
                "offset": 0,
                "count": count,
                "status": STARTED,
                "jobId": wave["jobId"],
            }
        ]
    return []


def chunk_server_ids(wave: Dict[str, Any], job: Dict[str, Any]) -> List[str]:
    """The servers of one chunk (``serverIds[offset:offset + count]``)."""
    ids = [str(i) for i in wave.get("serverIds") or []]
    if not ids:
        ids = [s["sourceServerId"] for s in wave.get("servers") or []]
    start = int(job.get("offset") or 0)
    return ids[start : start + int(job.get("count") or 0)]  # noqa: E203


def wave_job_ids(wave: Dict[str, Any]) -> List[str]:
    """Every DRS job id recorded for the wave, in chunk order."""
    ids = [j["jobId"] for j in wave_jobs(wave) if j.get("jobId")]
    return list(dict.fromkeys(ids))


def with_status(
    jobs: Iterable[Dict[str, Any]], *wanted: str
) -> List[Dict[str, Any]]:
    """The chunk entries in one of the ``wanted`` statuses."""
    return [j for j in jobs if j.get("status") in wanted]


def startable(jobs: Iterable[Dict[str, Any]], now: float) -> List[int]:
    """QUEUED chunks whose deferral (``notBefore``) has passed."""
    return [
        int(j["chunk"])
        for j in jobs
        if j.get("status") == QUEUED and float(j.get("notBefore") or 0) <= now
    ]


def deferred(jobs: Iterable[Dict[str, Any]], now: float) -> bool:
    """True when a chunk waits out a throttle (``retryAfterSeconds``)."""
    return any(
        j.get("status") == QUEUED and float(j.get("notBefore") or 0) > now
        for j in jobs
    )


def stale_claims(jobs: Iterable[Dict[str, Any]], now: float) -> List[int]:
    """STARTING chunks whose start has run longer than a start can."""
    return [
        int(j["chunk"])
        for j in jobs
        if j.get("status") == STARTING
        and not j.get("jobId")
        and now - float(j.get("claimedAt") or 0) >= CLAIM_STALE_SECONDS
    ]


def _chunk_path(index: int, chunk: int) -> str:
    return f"#waves[{int(index)}].#jobs[{int(chunk)}]"


def claim_chunk(
    execution_id: str,
    index: int,
    chunk: int,
    table: Optional[Any] = None,
    stale: bool = False,
) -> bool:
    """QUEUED -> STARTING (``stale``: a STARTING claim past
    ``CLAIM_STALE_SECONDS`` is taken over) while the record is RUNNING.
    False when another start has it, the record is not RUNNING or the
    chunk waits out a deferral."""
    table = table or execution_history_table()
    path = _chunk_path(index, chunk)
    now = clock.epoch()
    if stale:
        condition = (
            f"{path}.#cs = :starting AND {path}.#claimed <= :stale "
            f"AND attribute_not_exists({path}.#job)"
        )
    else:
        condition = (
            f"{path}.#cs = :queued AND (attribute_not_exists({path}.#nb) "
            f"OR {path}.#nb <= :now)"
        )
    try:
        table.update_item(
            Key={"executionId": execution_id},
            UpdateExpression=f"SET {path}.#cs = :starting, "
            f"{path}.#claimed = :now, {path}.#attempts = "
            f"if_not_exists({path}.#attempts, :zero) + :one, "
            "updatedTime = :now",
            ConditionExpression=f"#status = :running AND {condition}",
            ExpressionAttributeNames={
                "#waves": "waves",
                "#jobs": "jobs",
                "#status": "status",
                "#cs": "status",
                "#claimed": "claimedAt",
                "#attempts": "attempts",
                **({"#job": "jobId"} if stale else {"#nb": "notBefore"}),
            },
            ExpressionAttributeValues={
                ":running": statuses.RUNNING,
                ":starting": STARTING,
                ":now": now,
                ":zero": 0,
                ":one": 1,
                **(
                    {":stale": now - CLAIM_STALE_SECONDS}
                    if stale
                    else {":queued": QUEUED}
                ),
            },
        )
    except ClientError as error:
        if condition_failed(error):
            return False
        raise
    return True


def set_chunk(
    execution_id: str,
    index: int,
    chunk: int,
    attributes: Dict[str, Any],
    table: Optional[Any] = None,
    wave: Optional[Dict[str, Any]] = None,
    first_job_id: Optional[str] = None,
) -> None:
    """Write attributes of ``waves[index].jobs[chunk]`` (and of
    ``waves[index]``: ``wave``; ``first_job_id`` becomes the wave's
    ``jobId`` unless it has one, the seeds' one-job field). Written
    whatever the record's status: a started job is recorded even on a
    CANCELLING or ended record, so the cancel and the drill cleanup see
    it."""
    table = table or execution_history_table()
    update = SetExpression({"#waves": "waves", "#jobs": "jobs"})
    update.add(f"{_chunk_path(index, chunk)}.", "c", attributes)
    update.add(f"#waves[{int(index)}].", "w", wave or {})
    if first_job_id:
        update.names["#first"] = "jobId"
        update.values[":first"] = first_job_id
        first = f"#waves[{int(index)}].#first"
        update.sets.append(f"{first} = if_not_exists({first}, :first)")
    table.update_item(
        Key={"executionId": execution_id},
        UpdateExpression=update.expression,
        ConditionExpression="attribute_exists(executionId)",
        ExpressionAttributeNames=update.names,
        ExpressionAttributeValues=update.values,
    )
