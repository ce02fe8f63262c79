"""Benchmarks 1 and 2 on the local cloud: orchestration overhead per wave
(poll interval 30 s and 5 s simulated) and generic vs legacy.

Time mapping: the local cloud's Step Functions ``Wait`` lasts
``poll_interval`` wall seconds and the DRS simulator runs ``speed``
simulated seconds per wall second, so the simulated poll interval is
``poll_interval * speed``: 1 wall s at speed 30 = 30 simulated s, 1 wall
s at speed 5 = 5 simulated s. Lambda and Step Functions latency of the
local cloud (wall) is scaled by the same factor, so each wall second of
local overhead counts as ``speed`` simulated seconds.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List

from .cloud_run import BenchCloud, PlanRun, run_plan
from .results import wave_gaps
from .scenarios import plan_definition, scenario_dict

WAVES = 3
SERVERS_PER_WAVE = 2
POLL_WALL_SECONDS = 1
# simulated poll interval -> simulation speed (with 1 wall s per poll)
SPEEDS = {30: 30.0, 5: 5.0}
Getter = Callable[[str, float], Dict[str, Any]]


def three_wave_summary(orchestration: str, speed: float) -> Dict[str, Any]:
    """Run the 3-wave plan once on a fresh local cloud; its figures."""
    scenario = scenario_dict([SERVERS_PER_WAVE] * WAVES)
    with BenchCloud(
        scenario, speed, POLL_WALL_SECONDS, orchestration
    ) as bench:
        run = run_plan(bench, plan_definition("bench-3-waves", WAVES))
    return _summary(run)


def _summary(run: PlanRun) -> Dict[str, Any]:
    first = run.waves[0]["startRecovery"] if run.waves else None
    end_to_end = None
    if first is not None and run.end_sim is not None:
        end_to_end = round(run.end_sim - first, 1)
    return {
        "status": run.status,
        "wallSeconds": run.wall_seconds,
        "simulatedSeconds": end_to_end,
        "gaps": wave_gaps(run.waves, run.end_sim),
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
    """Benchmark 1 (generic orchestration); ``get(orchestration, speed)``
    answers :func:`three_wave_summary` (cached by the caller)."""
    result = {
        "timeMapping": __doc__.strip().split("\n\n")[1].replace("\n", " "),
        "plan": f"{WAVES} waves x {SERVERS_PER_WAVE} servers",
    }
    for poll, speed in SPEEDS.items():
        result[f"poll{poll}s"] = {
            "simulatedPollSeconds": POLL_WALL_SECONDS * speed,
            "speed": speed,
            "pollWallSeconds": POLL_WALL_SECONDS,
            **get("generic", speed),
        }
    return result


def generic_vs_legacy(get: Getter, speed: float = 30.0) -> Dict[str, Any]:
    """Benchmark 2: the same plan through both orchestration functions."""
    result: Dict[str, Any] = {
        "plan": f"{WAVES} waves x {SERVERS_PER_WAVE} servers",
        "simulatedPollSeconds": POLL_WALL_SECONDS * speed,
    }
    for orchestration in ("generic", "legacy"):
        result[orchestration] = get(orchestration, speed)
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
    for poll in SPEEDS:
        entry = result[f"poll{poll}s"]
        gaps = entry["gaps"]
        out.append(
            (
                "overhead/wave",
                f"poll {poll} s sim ({entry['status']})",
                f"between waves {gaps['betweenWaves']} s, "
                f"last launch->end {gaps['toEnd']} s",
            )
        )
    return out


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
