"""Benchmarks 1 and 2 on the local cloud: orchestration overhead per wave
with event-driven progress, with the sleeping poll, and with every DRS
event dropped (issue 18); generic vs legacy.

Time mapping: the local cloud's state machine waits at most
``poll_interval`` wall seconds between polls (the template's
WavePollIntervalSeconds: the ``Wait`` in WaveProgressMode poll, the
progress wait's timeout in events) and the DRS simulator runs ``speed``
simulated seconds per wall second, so the simulated poll interval is
``poll_interval * speed``. Every run here uses the same speed (5) and
the same interval: 6 wall s = 30 simulated s. Lambda and Step Functions
latency of the local cloud (wall) is scaled by the same factor in every
run, so each wall second of local overhead counts as 5 simulated seconds;
the gaps are also given in wall seconds to separate that latency from
the poll interval.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .cloud_run import BenchCloud, PlanRun, run_plan
from .results import wall_gaps, wave_gaps
from .scenarios import plan_definition, scenario_dict

# generic vs legacy: 3 waves; the overhead runs 6 (5 gaps between waves
# per run, for its p95)
WAVES = 3
OVERHEAD_WAVES = 6
SERVERS_PER_WAVE = 2
# One simulation speed for every run, so emulator latency scales alike.
SPEED = 5.0
# The poll interval of every run: 30 s simulated = 6 s wall at SPEED.
SIMULATED_POLL = 30
POLL_WALL = 6
# overhead entry -> (WaveProgressMode, simulator faults on every event)
VARIANTS: Dict[str, Tuple[str, Tuple[str, ...]]] = {
    "events": ("events", ()),
    "poll": ("poll", ()),
    "eventsDropped": ("events", ("drop_events",)),
}
# generic vs legacy: the default mode (events), the overhead's settings
COMPARISON_VARIANT = "events"
# Goal (issue 18): with events, p95 between waves <= 1.0 s wall here.
EVENTS_GOAL_WALL_SECONDS = 1.0
Getter = Callable[[str, float, int, str, int], Dict[str, Any]]


def wave_run_summary(
    orchestration: str,
    speed: float,
    poll_wall: int,
    variant: str = "events",
    waves: int = WAVES,
) -> Dict[str, Any]:
    """Run a plan of ``waves`` waves once on a fresh local cloud (the
    progress mode and faults of ``variant``); its figures."""
    mode, faults = VARIANTS[variant]
    scenario = scenario_dict([SERVERS_PER_WAVE] * waves)
    scenario["faults"] = [{"type": fault} for fault in faults]
    with BenchCloud(
        scenario, speed, poll_wall, orchestration, progress_mode=mode
    ) as bench:
        run = run_plan(bench, plan_definition(f"bench-{waves}-waves", waves))
    return {
        "progressMode": mode,
        "faults": list(faults),
        **_summary(run, speed),
    }


def p95(values: Sequence[Optional[float]]) -> Optional[float]:
    """Nearest-rank 95th percentile of the known values (None if none):
    with fewer than 20 values it is the largest."""
    known = sorted(v for v in values if v is not None)
    if not known:
        return None
    return known[max(0, math.ceil(0.95 * len(known)) - 1)]


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


def _entry(summary: Dict[str, Any], poll_wall: int) -> Dict[str, Any]:
    """One overhead entry: the run's figures and the gap lists by name."""
    gaps, wall = summary["gaps"], summary["gapsWallSeconds"]
    return {
        "simulatedPollSeconds": poll_wall * SPEED,
        "speed": SPEED,
        "pollWallSeconds": poll_wall,
        "betweenWavesWallSeconds": wall["betweenWaves"],
        "toEndWallSeconds": wall["toEnd"],
        "betweenWavesSimulatedSeconds": gaps["betweenWaves"],
        "toEndSimulatedSeconds": gaps["toEnd"],
        "p95BetweenWavesWallSeconds": p95(wall["betweenWaves"]),
        **summary,
    }


def overhead(get: Getter) -> Dict[str, Any]:
    """Benchmark 1 (generic orchestration), one run per
    :data:`VARIANTS` at one speed and poll interval;
    ``get(orchestration, speed, poll_wall, variant, waves)`` answers
    :func:`wave_run_summary` (cached by the caller)."""
    result: Dict[str, Any] = {
        "timeMapping": __doc__.strip().split("\n\n")[1].replace("\n", " "),
        "plan": f"{OVERHEAD_WAVES} waves x {SERVERS_PER_WAVE} servers",
    }
    for variant in VARIANTS:
        result[variant] = _entry(
            get("generic", SPEED, POLL_WALL, variant, OVERHEAD_WAVES),
            POLL_WALL,
        )
    events = result["events"]["p95BetweenWavesWallSeconds"]
    dropped = result["eventsDropped"]["p95BetweenWavesWallSeconds"]
    chain = EVENTS_GOAL_WALL_SECONDS
    result["goals"] = {
        "eventsP95BetweenWavesWallSeconds": events,
        "eventsGoalWallSeconds": chain,
        "eventsMet": events is not None and events <= chain,
        "eventsDroppedP95BetweenWavesWallSeconds": dropped,
        "eventsDroppedGoalWallSeconds": POLL_WALL + chain,
        "eventsDroppedMet": dropped is not None
        and dropped <= POLL_WALL + chain,
    }
    return result


def generic_vs_legacy(get: Getter) -> Dict[str, Any]:
    """Benchmark 2: the same plan through both orchestration functions,
    at the speed, poll interval and progress mode of benchmark 1's
    events run (3 waves: not the overhead's run)."""
    result: Dict[str, Any] = {
        "plan": f"{WAVES} waves x {SERVERS_PER_WAVE} servers",
        "simulatedPollSeconds": POLL_WALL * SPEED,
        "speed": SPEED,
        "pollWallSeconds": POLL_WALL,
        "progressMode": VARIANTS[COMPARISON_VARIANT][0],
    }
    for orchestration in ("generic", "legacy"):
        result[orchestration] = get(
            orchestration, SPEED, POLL_WALL, COMPARISON_VARIANT, WAVES
        )
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
    for variant in VARIANTS:
        entry = result[variant]
        label = (
            f"{variant}: poll {entry['simulatedPollSeconds']:g} s sim = "
            f"{entry['pollWallSeconds']} s wall at speed "
            f"{entry['speed']:g} ({entry['status']})"
        )
        out.append(
            (
                "overhead/wave",
                label,
                "between waves "
                f"{_cell_list(entry['betweenWavesSimulatedSeconds'])} s sim "
                f"({_cell_list(entry['betweenWavesWallSeconds'])} s wall, "
                f"p95 {_cell(entry['p95BetweenWavesWallSeconds'])}), "
                f"last launch->end {_cell(entry['toEndSimulatedSeconds'])} "
                f"s sim ({_cell(entry['toEndWallSeconds'])} s wall)",
            )
        )
    return out


def _cell(value: Any) -> str:
    return "-" if value is None else f"{value:g}"


def _cell_list(values: List[Any]) -> str:
    return "[" + ", ".join(_cell(v) for v in values) + "]"


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
