"""DRS service limits and the planning of waves into DRS jobs.

The quotas in force are deployment settings (``shared.config``); the
engine packs jobs into them (``shared.wave_schedule``), so nothing here
refuses a start because DRS is busy: the readiness capacity check
reports that (``shared.readiness_checks``)."""

from typing import Any, Dict, Iterable, Optional

from shared.errors import WaveSizeLimitError

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


def validate_wave_sizes(
    server_counts: Dict[int, int], quotas: Optional[Any] = None
) -> Dict[int, int]:
    """Each wave's planned DRS job count; refuse a plan that can never run.

    ``server_counts`` maps wave number to its resolved server count. A
    wave of any size runs as ``ceil(n / max_servers_per_job)`` jobs
    (issue 16); what is refused (WAVE_SIZE_LIMIT_EXCEEDED) is a DRS limit
    of 0 or a wave whose job would exceed ``max_servers_in_all_jobs``
    (``shared.wave_schedule.unschedulable``). ``quotas``: the
    deployment's (``shared.config`` settings) unless given.
    """
    # Imported here: wave_schedule and config import this module.
    from shared import wave_schedule
    from shared.config import get_settings

    quotas = quotas or wave_schedule.quotas_from(get_settings())
    specs = {
        wave: wave_schedule.WaveSpec(wave, ("",) * count)
        for wave, count in sorted(server_counts.items())
    }
    errors = []
    for wave, spec in specs.items():
        for problem in wave_schedule.unschedulable([spec], quotas):
            errors.append(
                {
                    "waveNumber": wave,
                    "serverCount": len(spec.servers),
                    "message": problem,
                }
            )
    if errors:
        raise WaveSizeLimitError(
            f"the plan can never run: {errors[0]['message']}",
            limit=quotas.max_servers_in_all_jobs,
            maxServersPerJob=quotas.max_servers_per_job,
            errors=errors,
        )
    return {
        wave: wave_schedule.job_count(len(spec.servers), quotas)
        for wave, spec in specs.items()
    }


def count_servers(jobs: Iterable[dict]) -> int:
    """Servers participating in the given DRS jobs."""
    return sum(len(job.get("participatingServers") or []) for job in jobs)
