"""Where a wave of several DRS jobs stands after a poll (pure).

The poll merges what DRS says of each started job into the wave's
``servers`` and each chunk's ``jobStatus``; :func:`assess` then says
what that means: which servers failed or launched, which jobs are still
active, which chunks wait for capacity. The wave is decided only when
none of its jobs is active (issue 16): the record then holds every
server's final status, so the record, the drill cleanup and DRS agree.
"""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from shared.drs_constants import (
    DRS_JOB_SERVERS_COMPLETE_FAILURE_STATES,
    DRS_JOB_SERVERS_COMPLETE_SUCCESS_STATES,
    DRS_JOB_STATUS_WAIT_STATES,
)
from shared.job_servers import merge_job_servers
from shared.wave_jobs import (
    FAILED,
    QUEUED,
    STARTED,
    STARTING,
    startable,
    with_status,
)


@dataclass
class WaveAssessment:
    """What one poll found for a wave."""

    failed: List[Dict[str, Any]] = field(default_factory=list)
    launched: List[Dict[str, Any]] = field(default_factory=list)
    active_jobs: List[str] = field(default_factory=list)
    ended_jobs: List[str] = field(default_factory=list)
    refused: List[Dict[str, Any]] = field(default_factory=list)
    in_flight: List[int] = field(default_factory=list)
    queued: List[int] = field(default_factory=list)
    startable: List[int] = field(default_factory=list)
    total: int = 0

    @property
    def running(self) -> bool:
        """A job of the wave may still change something in DRS."""
        return bool(self.active_jobs or self.in_flight)

    @property
    def broken(self) -> bool:
        """A server failed or DRS refused a chunk."""
        return bool(self.failed or self.refused)

    @property
    def complete(self) -> bool:
        """Every server of the wave LAUNCHED (every chunk started)."""
        return bool(self.total) and len(self.launched) == self.total


def assess(
    servers: List[Dict[str, Any]],
    jobs: List[Dict[str, Any]],
    job_status: Dict[str, str],
    now: float,
    total: Optional[int] = None,
) -> WaveAssessment:
    """Assess the wave: ``servers`` as merged from DRS, ``jobs`` its
    chunk entries, ``job_status`` DRS's status of each started job;
    ``total``: the wave's server count when ``servers`` are not all of
    them (default: as many as ``servers``)."""
    result = WaveAssessment(total=len(servers) if total is None else total)
    for server in servers:
        status = server.get("status")
        if status in DRS_JOB_SERVERS_COMPLETE_FAILURE_STATES:
            result.failed.append(server)
        elif status in DRS_JOB_SERVERS_COMPLETE_SUCCESS_STATES:
            result.launched.append(server)
    for job in with_status(jobs, STARTED):
        status = job_status.get(job.get("jobId"), "PENDING")
        if status in DRS_JOB_STATUS_WAIT_STATES:
            result.active_jobs.append(job["jobId"])
        else:
            result.ended_jobs.append(job["jobId"])
    result.refused = with_status(jobs, FAILED)
    result.in_flight = [int(j["chunk"]) for j in with_status(jobs, STARTING)]
    result.queued = [int(j["chunk"]) for j in with_status(jobs, QUEUED)]
    result.startable = startable(jobs, now)
    return result


def name_servers(servers: List[Dict[str, Any]], limit: int = 10) -> str:
    """``host (id: STATUS)`` of the first ``limit`` servers, + N more."""
    named = ", ".join(
        f"{s.get('hostname') or s['sourceServerId']} "
        f"({s['sourceServerId']}: {s.get('status')})"
        for s in servers[:limit]
    )
    more = len(servers) - limit
    return named + (f" and {more} more" if more > 0 else "")


def assess_from_drs(
    jobs: List[Dict[str, Any]],
    described: Dict[str, Dict[str, Any]],
    now: float,
) -> WaveAssessment:
    """The wave as ``DescribeJobs`` alone shows it (every started job's
    participating servers; no record read): what ends the wave or starts
    its queued chunks before the records are read. Its ``total`` is the
    chunks' planned servers, so a wave with chunks not yet started, or
    recorded before job packing (no counts), is never complete here."""
    rows: List[Dict[str, Any]] = []
    for job in described.values():  # the one merge rule, from no rows
        rows = list(merge_job_servers(rows, job).values())
    status = {k: v.get("status", "") for k, v in described.items()}
    planned = sum(int(j.get("count") or 0) for j in jobs)
    return assess(rows, jobs, status, now, total=planned)
