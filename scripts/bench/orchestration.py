"""Benchmarks 1 and 2 on the local cloud: orchestration overhead per wave
(poll interval 30 s and 5 s simulated) and generic vs legacy.

Time mapping: the local cloud's Step Functions ``Wait`` lasts
``poll_interval`` wall seconds (the template's WavePollIntervalSeconds)
and the DRS simulator runs ``speed`` simulated seconds per wall second,
so the simulated poll interval is ``poll_interval * speed``. Every run
here uses the same speed (5): 6 wall s = 30 simulated s, 1 wall s = 5
simulated s. Lambda and Step Functions latency of the local cloud (wall)
is scaled by the same factor in both runs, so each wall second of local
overhead counts as 5 simulated seconds; the gaps are also given in wall
seconds (gapsWallSeconds) to separate that latency from the poll
interval.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List

from .cloud_run import BenchCloud, PlanRun, run_plan
from .results import wall_gaps, wave_gaps
from .scenarios import plan_definition, scenario_dict

WAVES = 3
SERVERS_PER_WAVE = 2
# One simulation speed for every run, so emulator latency scales alike.
SPEED = 5.0
# simulated poll interval (s) -> state machine Wait (wall s) at SPEED
POLL_WALL_SECONDS = {30: 6, 5: 1}
# generic vs legacy runs at the 30 s simulated poll interval
COMPARISON_POLL = 30
Getter = Callable[[str, float, int], Dict[str, Any]]


def three_wave_summary(
    orchestration: str, speed: float, poll_wall: int
) -> Dict[str, Any]:
    """Run the 3-wave plan once on a fresh local cloud; its figures."""
    scenario = scenario_dict([SERVERS_PER_WAVE] * WAVES)
    with BenchCloud(scenario, speed, poll_wall, orchestration) as bench:
        run = run_plan(bench, plan_definition("bench-3-waves", WAVES))
    return _summary(run, speed)


def _summary(run: PlanRun, speed: float) -> Dict[str, Any]:
    first = run.waves[0]["startRecovery"] if run.waves else None
    end_to_end = None
    if first is not None and run.end_sim is not None:
        end_to_end = round(run.end_sim - first, 1)
    gaps = wave_gaps(run.waves, run.end_sim)
    return {
        "status": run.status,
        "wallSeconds": run.wall_seconds,
        "simulatedSeconds": end_to_end,
        "gaps": gaps,
        "gapsWallSeconds": wall_gaps(gaps, speed),
        "waves": [
            {
                "servers": w["servers"],
                "startRecovery": round(w["startRecovery"] - first, 1),
                "lastLaunched": (
                    None
                    if w["lastLaunched"] is None
                    else round(w["lastLaunched"] - first, 1)
                ),
            }
            for w in run.waves
        ],
        "lambdaInvocations": run.invocations,
        "drsCallsSetup": run.drs_calls_setup,
        "drsCallsPerWave": run.drs_calls_per_wave,
    }


def overhead(get: Getter) -> Dict[str, Any]:
    """Benchmark 1 (generic orchestration);
    ``get(orchestration, speed, poll_wall)`` answers
    :func:`three_wave_summary` (cached by the caller)."""
    result = {
        "timeMapping": __doc__.strip().split("\n\n")[1].replace("\n", " "),
        "plan": f"{WAVES} waves x {SERVERS_PER_WAVE} servers",
    }
    for poll, poll_wall in POLL_WALL_SECONDS.items():
        result[f"poll{poll}s"] = {
            "simulatedPollSeconds": poll_wall * SPEED,
            "speed": SPEED,
            "pollWallSeconds": poll_wall,
            **get("generic", SPEED, poll_wall),
        }
    return result


def generic_vs_legacy(get: Getter) -> Dict[str, Any]:
    """Benchmark 2: the same plan through both orchestration functions,
    at the speed and poll interval of benchmark 1's 30 s run (whose
    generic unit it reuses)."""
    poll_wall = POLL_WALL_SECONDS[COMPARISON_POLL]
    result: Dict[str, Any] = {
        "plan": f"{WAVES} waves x {SERVERS_PER_WAVE} servers",
        "simulatedPollSeconds": poll_wall * SPEED,
        "speed": SPEED,
        "pollWallSeconds": poll_wall,
    }
    for orchestration in ("generic", "legacy"):
        result[orchestration] = get(orchestration, SPEED, poll_wall)
    generic = result["generic"]["simulatedSeconds"]
    legacy = result["legacy"]["simulatedSeconds"]
    result["endToEndRatioLegacyOverGeneric"] = (
        round(legacy / generic, 3) if generic and legacy else None
    )
    return result


def _total(counts: Dict[str, int]) -> int:
    return sum(counts.values())


def overhead_rows(result: Dict[str, Any]) -> List[tuple]:
    """Table rows of benchmark 1."""
    out = []
    for poll in POLL_WALL_SECONDS:
        entry = result[f"poll{poll}s"]
        gaps, wall = entry["gaps"], entry["gapsWallSeconds"]
        label = (
            f"poll {poll} s sim = {entry['pollWallSeconds']} s wall "
            f"at speed {entry['speed']:g} ({entry['status']})"
        )
        out.append(
            (
                "overhead/wave",
                label,
                f"between waves {_cell_list(gaps['betweenWaves'])} s sim "
                f"({_cell_list(wall['betweenWaves'])} s wall), "
                f"last launch->end {gaps['toEnd']} s sim "
                f"({wall['toEnd']} s wall)",
            )
        )
    return out


def _cell_list(values: List[Any]) -> str:
    return (
        "[" + ", ".join("-" if v is None else f"{v:g}" for v in values) + "]"
    )


def comparison_rows(result: Dict[str, Any]) -> List[tuple]:
    """Table rows of benchmark 2."""
    out = []
    for name in ("generic", "legacy"):
        entry = result[name]
        waves = [_total(w) for w in entry["drsCallsPerWave"]]
        out.append(
            (
                "generic vs legacy",
                f"{name} ({entry['status']})",
                f"{entry['simulatedSeconds']} s sim, lambda "
                f"{_total(entry['lambdaInvocations'])} invocations, "
                f"DRS calls/wave {waves} (+{_total(entry['drsCallsSetup'])} "
                "setup)",
            )
        )
    out.append(
        (
            "generic vs legacy",
            "end-to-end ratio legacy/generic",
            result["endToEndRatioLegacyOverGeneric"],
        )
    )
    return out
