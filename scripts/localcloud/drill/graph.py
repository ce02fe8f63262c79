"""A plan's waves as a dependency graph (issue 17), for the report, the
live progress and the timeline: which waves each wave waits for, the
critical path and the makespan of a run.

The rule that reads ``dependsOnWaves`` is the engine's own
(``shared.wave_graph.wave_specs``, imported from ``lambda/``), so the
drill shows the graph the engine ran: absent = the wave before, ``[]`` =
at start (in a plan where some wave names a dependency), a list = those
waves.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

LAMBDA_DIR = Path(__file__).resolve().parents[3] / "lambda"


def _wave_specs() -> Any:
    if str(LAMBDA_DIR) not in sys.path:
        sys.path.append(str(LAMBDA_DIR))
    from shared.engine_state import EngineState
    from shared.wave_graph import wave_specs

    # The engine's rule reads the typed state (shared.engine_state).
    return lambda waves: wave_specs(EngineState(waves=waves))


def dependencies(waves: Sequence[Mapping[str, Any]]) -> dict[int, list[int]]:
    """waveNumber -> the wave numbers it waits for (a stored plan's
    waves, any order)."""
    ordered = sorted(waves, key=lambda w: int(w.get("waveNumber") or 0))
    numbers = [int(w.get("waveNumber") or 0) for w in ordered]
    specs = _wave_specs()([dict(w) for w in ordered])
    graph: dict[int, list[int]] = {}
    for index, spec in enumerate(specs):
        if spec.depends_on is None:
            graph[numbers[index]] = [numbers[index - 1]] if index else []
        else:
            graph[numbers[index]] = [numbers[i] for i in spec.depends_on]
    return graph


def after_text(depends: Sequence[int] | None) -> str:
    """What a wave waits for: ``start``, ``W1``, ``W2+W3`` (``-``:
    unknown)."""
    if depends is None:
        return "-"
    return "+".join(f"W{n}" for n in depends) or "start"


def running_text(waves: Sequence[Mapping[str, Any]]) -> str:
    """The waves running together now, side by side: ``W2 App || W3
    Batch`` (empty unless two or more run)."""
    running = [
        f"W{w.get('waveNumber')} {w.get('waveName') or ''}".strip()
        for w in waves
        if str(w.get("status")) in ("QUEUED", "STARTED")
    ]
    return " || ".join(running) if len(running) > 1 else ""


def is_linear(graph: Mapping[int, Sequence[int]]) -> bool:
    """True when every wave waits for exactly the wave before it."""
    numbers = sorted(graph)
    return all(
        list(graph[n]) == ([numbers[i - 1]] if i else [])
        for i, n in enumerate(numbers)
    )


def critical_path(
    graph: Mapping[int, Sequence[int]], durations: Mapping[int, float]
) -> tuple[float, list[int]]:
    """The longest chain of wave durations through the graph: (its
    seconds, its wave numbers in order). A wave without a duration (it
    never ran) counts 0 and is left out of the chain."""
    best: dict[int, tuple[float, list[int]]] = {}

    def longest(number: int, seen: frozenset) -> tuple[float, list[int]]:
        if number in best:
            return best[number]
        before = (0.0, [])
        for dep in graph.get(number, ()):
            if dep in graph and dep not in seen:  # cycles were refused
                found = longest(dep, seen | {number})
                if found[0] > before[0]:
                    before = found
        own = durations.get(number)
        chain = before[1] + ([number] if own is not None else [])
        best[number] = (before[0] + (own or 0.0), chain)
        return best[number]

    paths = [longest(n, frozenset()) for n in sorted(graph)]
    return max(paths, key=lambda p: p[0], default=(0.0, []))


def makespan(spans: Mapping[int, Sequence[float | None]]) -> float | None:
    """First wave start -> last wave end (``None`` before any ended)."""
    starts = [s[0] for s in spans.values() if s[0] is not None]
    ends = [s[1] for s in spans.values() if s[1] is not None]
    if not starts or not ends:
        return None
    return max(ends) - min(starts)


def graph_summary(
    graph: Mapping[int, Sequence[int]],
    spans: Mapping[int, Sequence[float | None]],
) -> dict[str, Any]:
    """The report's ``graph``: dependencies, whether it is linear, the
    makespan, the critical path over the waves' measured durations
    (``spans``: waveNumber -> (start, end), simulated seconds) and their
    ratio (1.0 = no time lost between dependent waves)."""
    durations = {
        n: end - start
        for n, (start, end) in spans.items()
        if start is not None and end is not None
    }
    bound, path = critical_path(graph, durations)
    total = makespan(spans)
    return {
        "dependsOnWaves": {str(n): list(d) for n, d in graph.items()},
        "linear": is_linear(graph),
        "makespanSeconds": None if total is None else round(total, 1),
        "criticalPathSeconds": round(bound, 1),
        "criticalPath": path,
        "sumOfWavesSeconds": round(sum(durations.values()), 1),
        "ratio": round(total / bound, 3) if total and bound else None,
    }


def lanes(spans: Mapping[int, Sequence[float | None]]) -> dict[int, int]:
    """waveNumber -> a lane (row) so that waves running at the same time
    get different lanes and a lane is reused once its wave ended
    (interval colouring by start time)."""
    lane_end: list[float] = []
    placed: dict[int, int] = {}
    timed = sorted(
        (s[0], n) for n, s in spans.items() if s and s[0] is not None
    )
    for start, number in timed:
        end = spans[number][1]
        stop = end if end is not None else float("inf")
        for lane, free_at in enumerate(lane_end):
            if free_at <= start:
                lane_end[lane] = stop
                placed[number] = lane
                break
        else:
            placed[number] = len(lane_end)
            lane_end.append(stop)
    return placed
