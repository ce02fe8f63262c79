"""Benchmark dag: a branching plan run as a graph and forced linear.

The plan is the ERP plan of ``scripts/plans/three-tier-graph-plan.yaml``
(db -> application | batch -> web: one fork, one join) on the shipped
``scripts/scenarios/three-tier.yaml`` hub, run as a DRILL on the local
cloud twice, each time from a freshly loaded scenario (the same seeded
durations): as written, and with every ``dependsOnWaves`` dropped (the
engine then runs the waves one after the other). From the simulator's
LAUNCH jobs (simulated seconds):

- a wave's duration: its first job created -> its last job ended;
- ``makespanSeconds``: the graph run's first job created -> last job
  ended; ``linearMakespanSeconds``: the same for the linear run;
- ``criticalPathSeconds``: the longest chain of the graph run's wave
  durations through the dependency graph (no schedule of these waves can
  be shorter); ``ratio`` = makespan / critical path (goal <= 1.05): the
  time lost between a wave's end and its dependents' start;
- ``sumOfWavesSeconds``: the graph run's wave durations added up;
- ``order``: the chunk order when the DRS quotas bind
  (``bench.dag_order``: the same graph laid out two ways).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable, Dict, List

import yaml
from localcloud.drill.graph import dependencies, graph_summary
from localcloud.drill.plan_setup import load_plan, plans_of

from .cloud_run import BenchCloud, run_plan
from .scenarios import HUB, REGION

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scripts/scenarios/three-tier.yaml"
PLAN = ROOT / "scripts/plans/three-tier-graph-plan.yaml"
SPEED = 30.0
POLL_WALL_SECONDS = 1
GOAL_RATIO = 1.05


def hub_definition(linear: bool = False) -> Dict[str, Any]:
    """The plan file's first (hub) plan with its groups; ``linear``:
    without any ``dependsOnWaves``."""
    definition = load_plan(PLAN)
    plan = copy.deepcopy(plans_of(definition)[0])
    keys = {w["protectionGroup"] for w in plan["waves"]}
    if linear:
        for wave in plan["waves"]:
            wave.pop("dependsOnWaves", None)
    return {
        "protectionGroups": [
            g for g in definition["protectionGroups"] if g["key"] in keys
        ],
        "planName": plan["planName"] + ("-linear" if linear else ""),
        "waves": plan["waves"],
    }


def graph_of(definition: Dict[str, Any]) -> Dict[int, List[int]]:
    """waveNumber -> the waves it waits for, by the engine's rule (the
    plan file numbers its waves 1..n)."""
    return dependencies(
        [
            {"waveNumber": number, **wave}
            for number, wave in enumerate(definition["waves"], start=1)
        ]
    )


def wave_spans(jobs: List[Any]) -> Dict[int, List[float]]:
    """waveNumber -> [first job created, last job ended] (epoch s); the
    engine tags each job with its wave's index (``DRSOrchWave``)."""
    spans: Dict[int, List[float]] = {}
    for job in jobs:
        number = int(job.tags.get("DRSOrchWave", -1)) + 1
        span = spans.setdefault(number, [float("inf"), float("-inf")])
        span[0] = min(span[0], job.created.timestamp())
        ended = job.ended.timestamp() if job.ended else float("inf")
        span[1] = max(span[1], ended)
    return spans


def drill_spans(bench: BenchCloud, definition: Dict[str, Any], timeout: int):
    """One DRILL of ``definition`` from a freshly loaded scenario: the run,
    its LAUNCH jobs and each wave's span."""
    bench.load(yaml.safe_load(SCENARIO.read_text()))
    since = bench.cloud.simulator.clock.now().timestamp()
    run = run_plan(bench, definition, timeout=timeout)
    jobs = [
        j
        for j in bench.cloud.simulator.jobs(HUB, REGION)
        if j.type == "LAUNCH" and j.created.timestamp() >= since
    ]
    return run, jobs, wave_spans(jobs)


def drill_schedule(
    bench: BenchCloud,
    definition: Dict[str, Any],
    timeout: int,
    label: Callable[[int], Any] = lambda number: number,
) -> Dict[str, Any]:
    """One DRILL of ``definition`` from a fresh scenario; its schedule
    (the drill report's ``graph_summary`` of the plan's graph over the
    measured spans), each wave named ``label(waveNumber)``."""
    run, jobs, spans = drill_spans(bench, definition, timeout)
    summary = graph_summary(graph_of(definition), spans)
    first = min((s[0] for s in spans.values()), default=0.0)
    return {
        "status": run.status,
        "error": run.record.get("error"),
        "jobs": len(jobs),
        # No job at all: 0 (graph_summary says None), as the benches show.
        "makespanSeconds": summary["makespanSeconds"] or 0.0,
        "criticalPathSeconds": summary["criticalPathSeconds"],
        "criticalPath": [label(n) for n in summary["criticalPath"]],
        "sumOfWavesSeconds": summary["sumOfWavesSeconds"],
        "waves": {
            str(label(n)): {
                "waveNumber": n,
                "startSeconds": round(start - first, 1),
                "endSeconds": round(end - first, 1),
            }
            for n, (start, end) in sorted(spans.items())
        },
        "wallSeconds": run.wall_seconds,
    }


def measure() -> Dict[str, Any]:
    """The unit: the graph run then the linear run on one bench cloud."""
    scenario = yaml.safe_load(SCENARIO.read_text())
    with BenchCloud(scenario, SPEED, POLL_WALL_SECONDS) as bench:
        mode = bench.cloud.progress_mode
        graph = drill_schedule(bench, hub_definition(), 600)
        linear = drill_schedule(bench, hub_definition(linear=True), 600)
    from . import dag_order  # it reads this module's helpers

    order = dag_order.measure()
    ratio = (
        graph["makespanSeconds"] / graph["criticalPathSeconds"]
        if graph["criticalPathSeconds"]
        else None
    )
    return {
        "plan": str(PLAN.relative_to(ROOT)),
        "makespanSeconds": graph["makespanSeconds"],
        "criticalPathSeconds": graph["criticalPathSeconds"],
        "linearMakespanSeconds": linear["makespanSeconds"],
        "ratio": None if ratio is None else round(ratio, 3),
        "goalRatio": GOAL_RATIO,
        "goalMet": ratio is not None and ratio <= GOAL_RATIO,
        "graph": graph,
        "linear": linear,
        "order": order,
        "speed": SPEED,
        "simulatedPollSeconds": SPEED * POLL_WALL_SECONDS,
        "progressMode": mode,
        "method": __doc__.strip(),
    }


def rows(result: Dict[str, Any]) -> List[tuple]:
    """Table rows of benchmark dag."""
    graph, linear = result["graph"], result["linear"]
    path = "->".join(f"W{n}" for n in graph["criticalPath"])
    return [
        (
            "dag",
            f"graph ({graph['status']})",
            f"makespan {result['makespanSeconds']} s sim, critical path "
            f"{result['criticalPathSeconds']} s ({path}), ratio "
            f"{result['ratio']} (goal <= {result['goalRatio']}); wall "
            f"{graph['wallSeconds']} s",
        ),
        (
            "dag",
            f"forced linear ({linear['status']})",
            f"makespan {result['linearMakespanSeconds']} s sim; sum of "
            f"waves {linear['sumOfWavesSeconds']} s; wall "
            f"{linear['wallSeconds']} s",
        ),
    ] + _order_rows(result)


def _order_rows(result: Dict[str, Any]) -> List[tuple]:
    from . import dag_order  # it reads this module's helpers

    return dag_order.rows(result["order"]) if result.get("order") else []
