"""``python -m bench`` (what ``scripts/bench.sh`` runs).

Runs the selected benchmarks (default: all), writes
``build/bench/<UTC timestamp>.json`` and ``build/bench/latest.json``, and
prints a short table. Measurements run as *units*, each in a fresh
interpreter (``--unit NAME``): moto keeps its backends per process, so one
local cloud per process, and cold-start timing must not inherit imports.
A unit that fails is recorded as ``{"error": ...}``, the other benchmarks
still run, and the exit code is 1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess  # nosec B404
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

from . import (
    big_plan,
    big_waves,
    cold_start,
    dag,
    orchestration,
    readiness,
    tag_discovery,
    wave_start,
)
from .results import render_table, write_results

UNIT_TIMEOUT = 1800


def _wave_run_name(
    orch: str, speed: float, poll_wall: int, variant: str, waves: int
) -> str:
    return f"waves{waves}:{orch}:{speed:g}:{poll_wall}:{variant}"


def _wave_run_units() -> Dict[str, Callable[[], Dict[str, Any]]]:
    """The plan runs benchmarks 1 and 2 ask for (same speed and poll
    interval): one per overhead variant, and both orchestration
    functions in the comparison's."""
    speed, poll = orchestration.SPEED, orchestration.POLL_WALL
    runs = [
        ("generic", v, orchestration.OVERHEAD_WAVES)
        for v in orchestration.VARIANTS
    ]
    runs += [
        (orch, orchestration.COMPARISON_VARIANT, orchestration.WAVES)
        for orch in ("generic", "legacy")
    ]
    return {
        _wave_run_name(orch, speed, poll, variant, waves): (
            lambda o=orch, v=variant, w=waves: (
                orchestration.wave_run_summary(o, speed, poll, v, w)
            )
        )
        for orch, variant, waves in runs
    }


UNITS: Dict[str, Callable[[], Dict[str, Any]]] = {
    **_wave_run_units(),
    "big_waves": big_waves.measure,
    "big_plan": big_plan.measure,
    "dag": dag.measure,
    "tag_discovery": tag_discovery.measure,
    "cold_start": cold_start.measure,
    "readiness": readiness.measure,
    "wave_start": wave_start.measure,
}


class UnitFailed(Exception):
    """A unit's interpreter exited non-zero."""


class Units:
    """Runs each unit once, in its own interpreter, and caches it."""

    def __init__(self) -> None:
        self.results: Dict[str, Dict[str, Any]] = {}

    def get(self, name: str) -> Dict[str, Any]:
        """The unit's figures (run on first use)."""
        if name not in self.results:
            self.results[name] = _run_unit(name)
        result = self.results[name]
        if "error" in result:
            raise UnitFailed(f"{name}: {result['error']}")
        return result

    def wave_run(
        self, orch: str, speed: float, poll_wall: int, variant: str, waves: int
    ) -> Dict[str, Any]:
        """Figures of a plan run (:func:`orchestration.wave_run_summary`)."""
        return self.get(_wave_run_name(orch, speed, poll_wall, variant, waves))


def _run_unit(name: str) -> Dict[str, Any]:
    print(f"    unit {name}", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-unit-") as tmp:
        out = Path(tmp) / "unit.json"
        argv = [sys.executable, "-m", "bench", "--unit", name]
        argv += ["--unit-out", str(out)]
        started = time.monotonic()
        try:
            done = subprocess.run(  # nosec B603
                argv,
                timeout=UNIT_TIMEOUT,
                capture_output=True,
                text=True,
                env=os.environ.copy(),
                check=False,
            )
        except subprocess.TimeoutExpired:
            return {"error": f"unit {name} timed out ({UNIT_TIMEOUT} s)"}
        if done.returncode != 0 or not out.exists():
            return {
                "error": f"unit {name} exited {done.returncode}",
                "stderr": done.stderr[-3000:],
            }
        result = json.loads(out.read_text())
    result["unitWallSeconds"] = round(time.monotonic() - started, 1)
    return result


Bench = Tuple[Callable[[Units], Dict[str, Any]], Callable[[Dict], List[tuple]]]
BENCHMARKS: Dict[str, Bench] = {
    "overhead": (
        lambda u: orchestration.overhead(u.wave_run),
        orchestration.overhead_rows,
    ),
    "generic_vs_legacy": (
        lambda u: orchestration.generic_vs_legacy(u.wave_run),
        orchestration.comparison_rows,
    ),
    "drs_calls_per_poll": (
        lambda u: {
            **u.get("big_waves")["pollCalls"],
            "simulatedPollSeconds": u.get("big_waves")["simulatedPollSeconds"],
        },
        big_waves.poll_rows,
    ),
    "tag_discovery": (lambda u: u.get("tag_discovery"), tag_discovery.rows),
    "readiness": (lambda u: u.get("readiness"), readiness.rows),
    "wave_start": (lambda u: u.get("wave_start"), wave_start.rows),
    "cold_start": (lambda u: u.get("cold_start"), cold_start.rows),
    "big_plan": (lambda u: u.get("big_plan"), big_plan.rows),
    "dag": (lambda u: u.get("dag"), dag.rows),
    "state_size": (
        lambda u: u.get("big_waves")["stateSize"],
        big_waves.size_rows,
    ),
}


def _unit_main(name: str, out: Path) -> int:
    result = UNITS[name]()
    out.write_text(json.dumps(result, default=str))
    return 0


def main(argv: List[str] | None = None) -> int:
    """Run, write, print; 0 unless a benchmark failed."""
    parser = argparse.ArgumentParser(prog="bench.sh")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(BENCHMARKS),
        help="run only this benchmark (repeatable)",
    )
    parser.add_argument("--out", type=Path, default=Path("build/bench"))
    parser.add_argument("--unit", choices=sorted(UNITS), help="internal")
    parser.add_argument("--unit-out", type=Path, help="internal")
    args = parser.parse_args(argv)
    if args.unit:
        return _unit_main(args.unit, args.unit_out)
    selected = args.only or list(BENCHMARKS)
    started = datetime.now(timezone.utc)
    result: Dict[str, Any] = {
        "startedAt": started.isoformat(timespec="seconds"),
        "host": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "loadAverage": list(os.getloadavg()),
        },
        "benchmarks": {},
    }
    units = Units()
    rows: List[tuple] = []
    failed = False
    for name in selected:
        measure, to_rows = BENCHMARKS[name]
        print(f"==> {name}", file=sys.stderr, flush=True)
        try:
            figures = measure(units)
            rows.extend(to_rows(figures))
        except (UnitFailed, KeyError, TypeError, ValueError) as error:
            failed = True
            figures = {"error": f"{type(error).__name__}: {error}"}
            rows.append((name, "ERROR", figures["error"][:100]))
        result["benchmarks"][name] = figures
    result["units"] = {k: v for k, v in units.results.items() if "error" in v}
    paths = write_results(result, args.out, started.strftime("%Y%m%dT%H%M%SZ"))
    print(render_table(rows))
    print(f"\nResults: {paths['run']} (and {paths['latest']})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
