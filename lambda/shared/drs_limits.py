"""DRS service limits and the validators that enforce them."""

from typing import Dict, Iterable

from shared.errors import DrsLimitExceededError, WaveSizeLimitError

MAX_SERVERS_PER_JOB = 100
MAX_CONCURRENT_JOBS = 20
MAX_SERVERS_IN_ALL_JOBS = 500
MAX_RECOVERY_INSTANCES = 4000

DRS_LIMITS = {
    "MAX_SERVERS_PER_JOB": MAX_SERVERS_PER_JOB,
    "MAX_CONCURRENT_JOBS": MAX_CONCURRENT_JOBS,
    "MAX_SERVERS_IN_ALL_JOBS": MAX_SERVERS_IN_ALL_JOBS,
    "MAX_RECOVERY_INSTANCES": MAX_RECOVERY_INSTANCES,
}


def validate_wave_sizes(server_counts: Dict[int, int]) -> None:
    """Refuse waves over the per-job limit.

    ``server_counts`` maps wave number to its resolved server count.
    """
    errors = [
        {"waveNumber": wave, "serverCount": count}
        for wave, count in sorted(server_counts.items())
        if count > MAX_SERVERS_PER_JOB
    ]
    if errors:
        first = errors[0]
        raise WaveSizeLimitError(
            f"Wave {first['waveNumber']} has {first['serverCount']} "
            f"servers, max is {MAX_SERVERS_PER_JOB}",
            limit=MAX_SERVERS_PER_JOB,
            errors=errors,
        )


def validate_concurrent_jobs(active_jobs: int) -> None:
    """Refuse a new job when the region already runs the maximum."""
    if active_jobs >= MAX_CONCURRENT_JOBS:
        raise DrsLimitExceededError(
            f"{active_jobs} DRS jobs are active, max is "
            f"{MAX_CONCURRENT_JOBS}",
            limit=MAX_CONCURRENT_JOBS,
            current=active_jobs,
        )


def validate_servers_in_all_jobs(servers_in_jobs: int, new: int) -> None:
    """Refuse a job that would push servers in active jobs over 500."""
    if servers_in_jobs + new > MAX_SERVERS_IN_ALL_JOBS:
        raise DrsLimitExceededError(
            f"{servers_in_jobs} servers are in active DRS jobs; adding {new} "
            f"exceeds the limit of {MAX_SERVERS_IN_ALL_JOBS}",
            limit=MAX_SERVERS_IN_ALL_JOBS,
            current=servers_in_jobs,
            requested=new,
        )


def count_servers(jobs: Iterable[dict]) -> int:
    """Servers participating in the given DRS jobs."""
    return sum(len(job.get("participatingServers") or []) for job in jobs)
