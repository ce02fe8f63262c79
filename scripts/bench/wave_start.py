"""Benchmark: DRS calls to start a 100-server wave (issue 16 item 6).

One plan of one wave of 100 tag-selected servers whose group sets a
launch configuration (the bench subnet, a security group of its VPC, an
instance type, ``copyPrivateIp`` off) runs as a DRILL twice on one local
cloud: ``first`` (nothing applied yet) and ``second`` (nothing changed
since). ``waveStartDrsCalls``: the DRS calls the simulator received
while the execution-handler ran ``start_wave_recovery`` (its
invocations are bracketed; nothing else calls DRS meanwhile: the state
machine waits for it). Goal: at most 3 + jobs (``jobs`` = its
``StartRecovery`` calls). ``execution``: every DRS call from
``execute_recovery_plan`` up to the wave's last ``StartRecovery``
(inclusive), i.e. with the execution's own checks. The first drill's
recovery instances are terminated before the second.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from typing import Any, Dict, List, Sequence, Tuple

from localcloud.drill.invoker import ApiError, FunctionFailed
from localcloud.drill.plan_setup import setup_plans

from .cloud_run import BenchCloud, wait_for_end
from .counting import START_RECOVERY
from .readiness import _launch_config
from .scenarios import HUB, REGION, plan_definition, scenario_dict

SERVERS = 100
SPEED = 30.0
POLL_WALL_SECONDS = 1
RUN_TIMEOUT = 600.0
FOLLOW_POLL = 0.2
SETTLE_TIMEOUT = 120.0
WAVE_START = "start_wave_recovery"
LAUNCH_CONFIG_OPERATIONS = (
    "GetLaunchConfiguration",
    "UpdateLaunchConfiguration",
)


def start_calls(operations: Sequence[str]) -> Dict[str, Any]:
    """The start's share of ``operations`` (DRS calls in order): the
    calls up to the last ``StartRecovery``, per operation, and the goal."""
    ends = [i for i, op in enumerate(operations) if op == START_RECOVERY]
    if not ends:
        return {"drsCalls": None, "error": "no StartRecovery"}
    segment = list(operations[: ends[-1] + 1])
    jobs = len(ends)
    launch = sum(1 for op in segment if op in LAUNCH_CONFIG_OPERATIONS)
    return {
        "drsCalls": len(segment),
        "jobs": jobs,
        "launchConfigCalls": launch,
        "byOperation": dict(sorted(Counter(segment).items())),
        "goal": 3 + jobs,
        "withinGoal": len(segment) <= 3 + jobs,
    }


class StartSpans:
    """Positions in a ``DrsCallLog`` around each ``start_wave_recovery``
    invocation: wraps ``invoke`` of one ``LambdaRuntime`` instance."""

    def __init__(self, calls: Any) -> None:
        self.calls = calls
        self.spans: List[Tuple[int, int]] = []

    def install(self, runtime: Any) -> None:
        """Wrap ``runtime.invoke`` (synchronous invocations)."""
        original = runtime.invoke

        def invoke(spec: Any, payload: bytes) -> Any:
            if not _is_wave_start(payload):
                return original(spec, payload)
            begin = self.calls.mark()
            try:
                return original(spec, payload)
            finally:
                self.spans.append((begin, self.calls.mark()))

        runtime.invoke = invoke

    def operations(self, since: int) -> List[str]:
        """The operations inside the spans that began at ``since`` on."""
        every = self.calls.operations()
        return [
            op
            for begin, end in self.spans
            if begin >= since
            for op in every[begin:end]
        ]


def _is_wave_start(payload: bytes) -> bool:
    try:
        event = json.loads(payload or b"{}")
    except ValueError:
        return False
    return isinstance(event, dict) and event.get("action") == WAVE_START


def _terminate(bench: BenchCloud, execution_id: str) -> str:
    """Terminate a finished drill's instances (outside the counts) and
    wait until DRS's terminate job ended (its servers are busy until)."""
    try:
        bench.api().execution(
            "terminate_recovery_instances", {"executionId": execution_id}
        )
    except (ApiError, FunctionFailed) as error:
        return f"not terminated: {str(error)[:200]}"
    deadline = time.monotonic() + SETTLE_TIMEOUT
    while time.monotonic() < deadline:
        jobs = bench.cloud.simulator.jobs(HUB, REGION)
        if not any(j.active for j in jobs):
            return "terminated"
        time.sleep(FOLLOW_POLL)
    return "terminate job still running"


def _run(bench: BenchCloud, spans: StartSpans, plan_id: str) -> Dict[str, Any]:
    mark = bench.drs_calls.mark()
    began = time.monotonic()
    started = bench.api().execution(
        "execute_recovery_plan", {"planId": plan_id, "executionType": "DRILL"}
    )
    execution_id = started["executionId"]
    details, _ = wait_for_end(
        bench, execution_id, began + RUN_TIMEOUT, FOLLOW_POLL
    )
    entry = start_calls(spans.operations(mark))
    entry.update(
        execution=start_calls(bench.drs_calls.operations(mark)),
        executionId=execution_id,
        status=str(details.get("status") or "UNKNOWN"),
        wallSeconds=round(time.monotonic() - began, 2),
    )
    return entry


def measure() -> Dict[str, Any]:
    """Both starts of the 100-server wave on one bench cloud."""
    scenario = scenario_dict([SERVERS])
    with BenchCloud(scenario, SPEED, POLL_WALL_SECONDS) as bench:
        spans = StartSpans(bench.drs_calls)
        spans.install(bench.cloud.runtime)
        definition = plan_definition("bench-wave-start", 1)
        config = dict(_launch_config(bench.cloud), copyPrivateIp=False)
        definition["protectionGroups"][0]["launchConfig"] = config
        suffix = "-" + uuid.uuid4().hex[:6]
        setup = setup_plans(
            bench.api(), definition, bench.cloud.scenario, suffix
        )[0]
        first = _run(bench, spans, setup.plan_id)
        first["cleanup"] = _terminate(bench, first["executionId"])
        second = _run(bench, spans, setup.plan_id)
    return {
        "servers": SERVERS,
        "launchConfig": sorted(config),
        "waveStartDrsCalls": {
            "first": first["drsCalls"],
            "second": second["drsCalls"],
        },
        "executionStartDrsCalls": {
            "first": first["execution"]["drsCalls"],
            "second": second["execution"]["drsCalls"],
        },
        "runs": {"first": first, "second": second},
        "method": __doc__.strip(),
    }


def rows(result: Dict[str, Any]) -> List[tuple]:
    """Table rows: one per start."""
    out = []
    for name, run in result["runs"].items():
        if run.get("drsCalls") is None:
            value = f"{run.get('status')}: {run.get('error')}"
        else:
            value = (
                f"{run['drsCalls']} DRS calls ({run['launchConfigCalls']} "
                f"launch config, {run['jobs']} job(s); goal <= "
                f"{run['goal']}), drill {run['status']}"
            )
            execution = (run.get("execution") or {}).get("drsCalls")
            if execution is not None:
                value += f"; with execute_recovery_plan: {execution}"
        out.append(
            ("wave start", f"{result['servers']} servers, {name}", value)
        )
    return out
