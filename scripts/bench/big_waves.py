"""Benchmarks 3a and 5 on the local cloud (generic orchestration).

3a — DRS API calls per poll cycle: one plan with a wave of 10 servers then
a wave of 100; a wave's poll cycles = its ``DescribeJobs`` calls; the
poll operations (DescribeJobs, DescribeJobLogItems,
DescribeRecoveryInstances) are divided by that; the wave's start calls
(its discovery, launch configuration, StartRecovery) are listed apart.

5 — State size: 100 servers per wave x 5 waves, and 500 servers over 10
waves (50 per wave), are created and run: the largest Step Functions
state input/output (``get_execution_history``) and the execution
record's DynamoDB item size at the end. 500 servers per wave x 10 waves
(5,000 servers) is created through the data-management-handler; the
first refusal's operation, HTTP status and error code are recorded (DRS
allows 100 servers per job).
"""

from __future__ import annotations

import uuid
from typing import Any, Dict, List

from localcloud.drill.invoker import ApiError, FunctionFailed
from localcloud.drill.plan_setup import setup_plans

from .cloud_run import BenchCloud, run_plan
from .counting import POLL_OPERATIONS, per_cycle
from .results import item_size, payload_sizes
from .scenarios import plan_definition, scenario_dict

SPEED = 30.0
POLL_WALL_SECONDS = 1


def _history(bench: BenchCloud, arn: str) -> List[Dict[str, Any]]:
    sfn = bench.cloud.client("stepfunctions")
    events: List[Dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(
        executionArn=arn
    ):
        events.extend(page["events"])
    return events


def poll_calls(bench: BenchCloud) -> Dict[str, Any]:
    """Benchmark 3a on a running bench cloud."""
    bench.load(scenario_dict([10, 100]))
    run = run_plan(bench, plan_definition("bench-poll", 2))
    waves = {}
    for wave, counts in zip(run.waves, run.drs_calls_per_wave):
        cycles = counts.get("DescribeJobs", 0)
        poll = {k: v for k, v in counts.items() if k in POLL_OPERATIONS}
        waves[f"{wave['servers']} servers"] = {
            "pollCycles": cycles,
            "perPollCycle": per_cycle(poll, cycles),
            "startAndDiscovery": {
                k: v for k, v in counts.items() if k not in POLL_OPERATIONS
            },
        }
    return {"status": run.status, "waves": waves}


def _refusal(bench: BenchCloud, servers: int, waves: int) -> Dict[str, Any]:
    bench.load(scenario_dict([servers] * waves))
    definition = plan_definition(f"bench-{servers}x{waves}", waves)
    try:
        setup = setup_plans(
            bench.api(),
            definition,
            bench.cloud.scenario,
            "-" + uuid.uuid4().hex[:6],
        )[0]
    except ApiError as error:
        return {
            "accepted": False,
            "operation": error.operation,
            "status": error.status,
            "errorCode": error.code,
            "message": error.body.get("message"),
        }
    except FunctionFailed as error:  # e.g. the function timed out
        return {"accepted": None, "functionError": str(error)[:500]}
    return {"accepted": True, "planId": setup.plan_id}


def _measured(bench: BenchCloud, servers: int, waves: int) -> Dict[str, Any]:
    """Run ``waves`` waves of ``servers`` servers; sizes at the end."""
    bench.load(scenario_dict([servers] * waves))
    definition = plan_definition(f"bench-{servers}x{waves}", waves)
    run = run_plan(bench, definition, timeout=900)
    entry: Dict[str, Any] = {
        "accepted": True,
        "status": run.status,
        "wallSeconds": run.wall_seconds,
        "executionRecordBytes": item_size(run.raw_record),
    }
    if run.execution_arn:
        events = _history(bench, run.execution_arn)
        entry["largestStepFunctionsPayload"] = payload_sizes(events)
        entry["historyEvents"] = len(events)
    return entry


def state_size(bench: BenchCloud) -> Dict[str, Any]:
    """Benchmark 5 on a running bench cloud; keys are
    ``<servers per wave>x<waves>``."""
    return {
        "100x5": _measured(bench, 100, 5),
        "50x10": _measured(bench, 50, 10),
        "500x10": _refusal(bench, 500, 10),
    }


def measure() -> Dict[str, Any]:
    """Both benchmarks on one bench cloud (speed 30, poll 30 s sim)."""
    with BenchCloud(scenario_dict([1]), SPEED, POLL_WALL_SECONDS) as bench:
        return {
            "pollCalls": poll_calls(bench),
            "stateSize": state_size(bench),
            "simulatedPollSeconds": SPEED * POLL_WALL_SECONDS,
            "method": __doc__.strip(),
        }


def poll_rows(result: Dict[str, Any]) -> List[tuple]:
    """Table rows of benchmark 3a."""
    return [
        (
            "DRS calls/poll",
            f"wave of {name} ({result['status']})",
            f"{entry['perPollCycle'].get('total')} per cycle "
            f"({entry['pollCycles']} cycles); start: "
            f"{sum(entry['startAndDiscovery'].values())} calls",
        )
        for name, entry in result["waves"].items()
    ]


def size_rows(result: Dict[str, Any]) -> List[tuple]:
    """Table rows of benchmark 5."""
    out = []
    for plan, entry in result.items():
        if entry.get("functionError"):
            value = f"not measured: {entry['functionError'][:80]}"
        elif not entry.get("accepted"):
            value = (
                f"refused by {entry['operation']}: {entry['status']} "
                f"{entry['errorCode']}"
            )
        else:
            payload = entry.get("largestStepFunctionsPayload") or {}
            value = (
                f"{entry.get('status')}: largest SFN payload "
                f"{payload.get('bytes')} B, record "
                f"{entry.get('executionRecordBytes')} B"
            )
        out.append(("state size", size_label(plan), value))
    return out


def size_label(plan: str) -> str:
    """``"50x10"`` -> ``"50 srv/wave x 10 waves (500 srv)"``."""
    per_wave, waves = (int(n) for n in plan.split("x"))
    return f"{per_wave} srv/wave x {waves} waves ({per_wave * waves} srv)"
