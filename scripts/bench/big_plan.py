"""Benchmark big_plan: one wave of 1,000 servers on the local cloud.

The wave runs as ``ceil(1000 / DrsMaxServersPerJob)`` DRS jobs started as
DRS's quotas allow (the deployed functions' ``DRS_MAX_*``, the template
defaults 100 / 20 / 500: ten jobs of 100, five at a time). Measured
(simulated seconds unless named wall):

- ``makespanSeconds``: first LAUNCH job created -> last LAUNCH job ended
  (the simulator's job history);
- ``lowerBoundSeconds``: the shortest time DRS's quotas allow for the
  jobs the run made, each lasting what the simulator's per-server
  durations made it last (created -> ended; a job's timeline does not
  depend on when it starts): the largest of the longest job, sum(job
  servers x job duration) / DrsMaxServersInAllJobs and sum(job
  durations) / DrsMaxConcurrentJobs (no schedule can do better: the
  quotas bound the servers and jobs active at any moment);
- ``maxStatePayloadBytes``: the largest Step Functions state input or
  output of the run (execution history); ``maxItemBytes``: the execution
  record's DynamoDB item at the end (the largest: servers only add
  detail as they progress);
- ``drsCallsPerPollCycle``: the DRS calls made after the wave's first
  StartRecovery divided by the PollWaveStatus states entered;
- ``wallSeconds``: execute_recovery_plan -> terminal record.

The 4,000-server 10-wave plan (``plan4000x10``: ten tag-selected waves
of 400 servers, one after the other) runs too, now that each server is a
record of its own (``shared.server_records``) and the execution item
keeps per-wave counts: its ``maxItemBytes``, ``maxStatePayloadBytes``,
makespan against the sum of its waves' lower bounds, and wall time.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Tuple

from .big_waves import _history
from .cloud_run import EXECUTION_HANDLER, BenchCloud, run_plan
from .counting import START_RECOVERY, per_cycle
from .results import item_size, payload_sizes
from .scenarios import HUB, REGION, plan_definition, scenario_dict

SERVERS = 1000
SPEED = 30.0
POLL_WALL_SECONDS = 1
# The simulator's default per-server durations (the sample scenario's).
DURATIONS = {
    "start": [5, 15],
    "snapshot": [60, 120],
    "conversion": [180, 360],
    "launch": [120, 240],
    "terminate": [30, 90],
}
DYNAMODB_ITEM_LIMIT = 400 * 1024
BIG_PLAN = (4000, 10)  # servers, waves
GOAL_RATIO = 1.05
# How often the bench reads the record's status (wall s): its reads share
# the local cloud's one-at-a-time DynamoDB with the run it measures.
FOLLOW_POLL_SECONDS = 1.0
QUOTA_VARIABLES = {
    "maxServersPerJob": "DRS_MAX_SERVERS_PER_JOB",
    "maxConcurrentJobs": "DRS_MAX_CONCURRENT_JOBS",
    "maxServersInAllJobs": "DRS_MAX_SERVERS_IN_ALL_JOBS",
}


def lower_bound(
    jobs: Iterable[Tuple[int, float]], quotas: Dict[str, int]
) -> float:
    """Shortest makespan DRS's quotas allow for ``jobs`` ((servers,
    seconds) each): max(longest job, server-seconds / servers in all
    jobs, job-seconds / concurrent jobs)."""
    jobs = list(jobs)
    if not jobs:
        return 0.0
    longest = max(seconds for _, seconds in jobs)
    server_seconds = sum(n * seconds for n, seconds in jobs)
    job_seconds = sum(seconds for _, seconds in jobs)
    return max(
        longest,
        server_seconds / quotas["maxServersInAllJobs"],
        job_seconds / quotas["maxConcurrentJobs"],
    )


def deployed_quotas(bench: BenchCloud) -> Dict[str, int]:
    """The DRS limits the execution-handler runs with (its environment,
    set by the template parameters)."""
    config = bench.cloud.client("lambda").get_function_configuration(
        FunctionName=EXECUTION_HANDLER
    )
    env = (config.get("Environment") or {}).get("Variables", {})
    return {key: int(env[name]) for key, name in QUOTA_VARIABLES.items()}


def _launch_jobs(bench: BenchCloud, since: float) -> List[Any]:
    return sorted(
        (
            j
            for j in bench.cloud.simulator.jobs(HUB, REGION)
            if j.type == "LAUNCH" and j.created.timestamp() >= since
        ),
        key=lambda j: j.created,
    )


def _schedule(jobs: List[Any], quotas: Dict[str, int]) -> Dict[str, Any]:
    ended = [j for j in jobs if j.ended is not None]
    if not jobs or len(ended) < len(jobs):
        return {"jobs": len(jobs), "jobsEnded": len(ended)}
    first = min(j.created for j in jobs)
    makespan = (max(j.ended for j in jobs) - first).total_seconds()
    bound = lower_bound(
        (
            (len(j.servers), (j.ended - j.created).total_seconds())
            for j in jobs
        ),
        quotas,
    )
    return {
        "jobs": len(jobs),
        "jobsEnded": len(ended),
        "makespanSeconds": round(makespan, 1),
        "lowerBoundSeconds": round(bound, 1),
        "ratio": round(makespan / bound, 3) if bound else None,
        "jobStartsSeconds": [
            round((j.created - first).total_seconds(), 1) for j in jobs
        ],
        "jobEndsSeconds": [
            round((j.ended - first).total_seconds(), 1) for j in jobs
        ],
    }


def _poll_calls(operations: List[str], cycles: int) -> Dict[str, float]:
    if START_RECOVERY not in operations:
        return {}
    after = operations[operations.index(START_RECOVERY) :]
    counts: Dict[str, int] = {}
    for operation in after:
        counts[operation] = counts.get(operation, 0) + 1
    return per_cycle(counts, cycles)


def one_wave(bench: BenchCloud) -> Dict[str, Any]:
    """Run the 1,000-server wave; every figure of the module docstring."""
    bench.load(scenario_dict([SERVERS], durations=DURATIONS))
    quotas = deployed_quotas(bench)
    since = bench.cloud.simulator.clock.now().timestamp()
    mark = bench.drs_calls.mark()
    run = run_plan(
        bench,
        plan_definition("bench-big-plan", 1),
        timeout=900,
        poll=FOLLOW_POLL_SECONDS,
    )
    events = _history(bench, run.execution_arn) if run.execution_arn else []
    cycles = sum(
        1
        for e in events
        if e.get("type") == "TaskStateEntered"
        and e.get("stateEnteredEventDetails", {}).get("name")
        == "PollWaveStatus"
    )
    payload = payload_sizes(events)
    waves = run.record.get("waves") or [{}]
    entry: Dict[str, Any] = {
        "servers": SERVERS,
        "status": run.status,
        "executionError": run.record.get("error"),
        "errorCode": run.record.get("errorCode"),
        "waveStatus": waves[0].get("status"),
        "quotas": quotas,
        **_schedule(_launch_jobs(bench, since), quotas),
        "maxStatePayloadBytes": payload["bytes"],
        "maxStatePayloadState": payload["state"],
        "maxItemBytes": item_size(run.raw_record),
        "pollCycles": cycles,
        "drsCallsPerPollCycle": _poll_calls(
            bench.drs_calls.operations(mark), cycles
        ),
        "wallSeconds": run.wall_seconds,
    }
    entry["goalMet"] = (entry.get("ratio") or 99) <= GOAL_RATIO
    return entry


def big_plan_estimate(measured: Dict[str, Any]) -> Dict[str, Any]:
    """The 4,000-server plan's item estimated from the 1,000-server
    wave's item bytes per server (a cross-check of the measured run)."""
    servers, waves = BIG_PLAN
    entry: Dict[str, Any] = {
        "servers": servers,
        "waves": waves,
        "measured": False,
        "reason": "estimated from the 1,000-server wave's item",
        "dynamodbItemLimitBytes": DYNAMODB_ITEM_LIMIT,
    }
    if measured["status"] != "COMPLETED":
        return entry  # an item of servers that never ran says nothing
    per_server = measured["maxItemBytes"] / SERVERS
    estimate = round(per_server * servers)
    return {
        **entry,
        "itemBytesPerServer": round(per_server, 1),
        "estimatedItemBytes": estimate,
        "wouldFit": estimate < DYNAMODB_ITEM_LIMIT,
    }


def _waves_bound(jobs: List[Any], quotas: Dict[str, int]) -> float:
    """Lower bound of a linear plan: each wave's bound, one after the
    other (a wave starts once the one before completed)."""
    by_wave: Dict[str, List[Tuple[int, float]]] = {}
    for job in jobs:
        if job.ended is None:
            continue
        by_wave.setdefault(job.tags.get("DRSOrchWave", ""), []).append(
            (len(job.servers), (job.ended - job.created).total_seconds())
        )
    return sum(lower_bound(w, quotas) for w in by_wave.values())


def plan_4000(bench: BenchCloud) -> Dict[str, Any]:
    """Run the 4,000-server 10-wave plan; its figures."""
    servers, waves = BIG_PLAN
    bench.load(scenario_dict([servers // waves] * waves, durations=DURATIONS))
    quotas = deployed_quotas(bench)
    since = bench.cloud.simulator.clock.now().timestamp()
    run = run_plan(
        bench,
        plan_definition("bench-big-plan-4000", waves),
        timeout=3600,
        poll=FOLLOW_POLL_SECONDS,
    )
    events = _history(bench, run.execution_arn) if run.execution_arn else []
    payload = payload_sizes(events)
    jobs = _launch_jobs(bench, since)
    schedule = _schedule(jobs, quotas)
    entry: Dict[str, Any] = {
        "servers": servers,
        "waves": waves,
        "measured": True,
        "status": run.status,
        "executionError": run.record.get("error"),
        "waveStatuses": [w.get("status") for w in run.record.get("waves")],
        "launched": sum(
            int((w.get("serverCounts") or {}).get("LAUNCHED") or 0)
            for w in run.record.get("waves") or []
        ),
        "jobs": schedule.get("jobs"),
        "makespanSeconds": schedule.get("makespanSeconds"),
        "lowerBoundSeconds": round(_waves_bound(jobs, quotas), 1),
        "maxStatePayloadBytes": payload["bytes"],
        "maxStatePayloadState": payload["state"],
        "maxItemBytes": item_size(run.raw_record),
        "dynamodbItemLimitBytes": DYNAMODB_ITEM_LIMIT,
        "wallSeconds": run.wall_seconds,
    }
    bound = entry["lowerBoundSeconds"]
    if entry["makespanSeconds"] and bound:
        entry["ratio"] = round(entry["makespanSeconds"] / bound, 3)
    return entry


def measure() -> Dict[str, Any]:
    """The unit: one bench cloud (speed 30, poll 1 s wall = 30 s sim)."""
    with BenchCloud(scenario_dict([1]), SPEED, POLL_WALL_SECONDS) as bench:
        measured = one_wave(bench)
        big = plan_4000(bench)
    return {
        **measured,
        "plan4000x10": {
            **big,
            "estimateFromOneWave": big_plan_estimate(measured),
        },
        "speed": SPEED,
        "simulatedPollSeconds": SPEED * POLL_WALL_SECONDS,
        "goalRatio": GOAL_RATIO,
        "method": __doc__.strip(),
    }


def rows(result: Dict[str, Any]) -> List[tuple]:
    """Table rows of benchmark big_plan."""
    big = result["plan4000x10"]
    return [
        (
            "big_plan",
            f"1 wave x {result['servers']} servers ({result['status']})",
            f"makespan {result.get('makespanSeconds')} s sim, bound "
            f"{result.get('lowerBoundSeconds')} s, ratio "
            f"{result.get('ratio')} (goal <= {result['goalRatio']}); "
            f"{result.get('jobs')} jobs; wall {result['wallSeconds']} s",
        ),
        (
            "big_plan",
            "sizes",
            f"max SFN state {result['maxStatePayloadBytes']} B, item "
            f"{result['maxItemBytes']} B; DRS calls/poll "
            f"{result['drsCallsPerPollCycle'].get('total')}",
        ),
        (
            "big_plan",
            f"{big['servers']} servers x {big['waves']} waves "
            f"({big.get('status')})",
            f"item {big.get('maxItemBytes')} B (limit "
            f"{big['dynamodbItemLimitBytes']}), max SFN state "
            f"{big.get('maxStatePayloadBytes')} B, makespan "
            f"{big.get('makespanSeconds')} s sim (bound "
            f"{big.get('lowerBoundSeconds')} s); wall "
            f"{big.get('wallSeconds')} s",
        ),
    ]
