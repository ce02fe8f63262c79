"""``python -m bench`` (what ``scripts/bench.sh`` runs).

Runs the selected benchmarks (default: all), writes
``build/bench/<UTC timestamp>.json`` and ``build/bench/latest.json``, and
prints a short table. A benchmark that raises is recorded as
``{"error": ...}`` and the others still run; the exit code is 1 then.
"""

from __future__ import annotations

import argparse
import logging
import platform
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

from . import big_waves, cold_start, orchestration, tag_discovery
from .results import render_table, write_results

Bench = Tuple[Callable[[], Dict[str, Any]], Callable[[Dict], List[tuple]]]
_BIG: Dict[str, Any] = {}


def _big(part: str) -> Callable[[], Dict[str, Any]]:
    def run() -> Dict[str, Any]:
        if not _BIG:
            _BIG.update(big_waves.measure())
        return {**_BIG[part], "method": _BIG["method"]}

    return run


BENCHMARKS: Dict[str, Bench] = {
    "overhead": (orchestration.overhead, orchestration.overhead_rows),
    "generic_vs_legacy": (
        orchestration.generic_vs_legacy,
        orchestration.comparison_rows,
    ),
    "drs_calls_per_poll": (_big("pollCalls"), big_waves.poll_rows),
    "tag_discovery": (tag_discovery.measure, tag_discovery.rows),
    "cold_start": (cold_start.measure, cold_start.rows),
    "state_size": (_big("stateSize"), big_waves.size_rows),
}


def main(argv: List[str] | None = None) -> int:
    """Run, write, print; 0 unless a benchmark raised."""
    parser = argparse.ArgumentParser(prog="bench.sh")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(BENCHMARKS),
        help="run only this benchmark (repeatable)",
    )
    parser.add_argument("--out", type=Path, default=Path("build/bench"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    selected = args.only or list(BENCHMARKS)
    started = datetime.now(timezone.utc)
    result: Dict[str, Any] = {
        "startedAt": started.isoformat(timespec="seconds"),
        "host": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": __import__("os").cpu_count(),
        },
        "benchmarks": {},
    }
    rows: List[tuple] = []
    failed = False
    for name in selected:
        measure, to_rows = BENCHMARKS[name]
        print(f"==> {name}", file=sys.stderr, flush=True)
        wall = time.monotonic()
        try:
            figures = measure()
            rows.extend(to_rows(figures))
        except Exception as error:  # noqa: BLE001 - reported, not hidden
            failed = True
            figures = {
                "error": f"{type(error).__name__}: {error}",
                "traceback": traceback.format_exc()[-2000:],
            }
            rows.append((name, "ERROR", figures["error"][:120]))
        figures["benchWallSeconds"] = round(time.monotonic() - wall, 1)
        result["benchmarks"][name] = figures
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    paths = write_results(result, args.out, stamp)
    print(render_table(rows))
    print(f"\nResults: {paths['run']} (and {paths['latest']})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
