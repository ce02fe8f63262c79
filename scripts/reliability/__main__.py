"""``python -m reliability`` (from ``scripts/``): the reliability run.

Starts one local cloud (``localcloud.stack.LocalCloud``) with the local
REST API in front of it, then runs the fault matrix, the API fuzzing and
the RBAC matrix, and writes ``build/reliability/summary.json`` and
``report.md``. ``./scripts/reliability.sh`` is the entry point.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parents[2]
for _path in (ROOT / "lambda", ROOT / "scripts"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from reliability import summary  # noqa: E402

OUT_DIR = ROOT / "build" / "reliability"
PARTS = ("faults", "fuzz", "rbac")


def _parse(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="reliability.sh")
    parser.add_argument(
        "--only",
        action="append",
        choices=PARTS,
        help="run only this part (repeatable)",
    )
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument(
        "--fuzz-examples",
        type=int,
        default=40,
        help="schemathesis examples per operation and phase",
    )
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument(
        "--case",
        action="append",
        help="run only the fault case(s) of this name (repeatable)",
    )
    return parser.parse_args(argv)


def _start_cloud(out: Path) -> Any:
    from localcloud.stack import LocalCloud

    # Fast simulated DRS (as the integration tests) and a 1 s poll wait.
    cloud = LocalCloud(speed=600.0, poll_interval=1, build_dir=out / "cloud")
    return cloud.start()


def main(argv: Optional[List[str]] = None) -> int:
    """Run the parts asked for; exit 0 only when every figure is met."""
    args = _parse(argv)
    parts = args.only or list(PARTS)
    logging.basicConfig(level=logging.WARNING)
    # moto logs each failed state machine (an expected end of some
    # cases) as an ERROR with the whole state: noise in the report.
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    seconds: Dict[str, float] = {}
    rbac_cases: List[Dict[str, Any]] = []
    fuzz_result: Optional[Dict[str, Any]] = None
    fault_cases: List[Dict[str, Any]] = []
    started = time.monotonic()
    print("starting the local cloud...", flush=True)
    cloud = _start_cloud(args.out)
    seconds["start"] = time.monotonic() - started
    try:
        if "faults" in parts:
            from reliability import fault_matrix

            began = time.monotonic()
            fault_cases = fault_matrix.run_all(cloud, args.case)
            seconds["faults"] = time.monotonic() - began
        if "fuzz" in parts:
            from reliability import fuzz

            began = time.monotonic()
            fuzz_result = fuzz.run_fuzz(
                cloud, args.out, args.fuzz_examples, args.seed
            )
            seconds["fuzz"] = time.monotonic() - began
        if "rbac" in parts:
            from reliability import rbac_matrix
            from localcloud.rest_api import serve_for

            began = time.monotonic()
            cloud.reset()
            api = serve_for(cloud)
            try:
                rbac_cases = [
                    c.to_dict() for c in rbac_matrix.run_matrix(api.url)
                ]
            finally:
                api.stop()
            seconds["rbac"] = time.monotonic() - began
    finally:
        cloud.stop()
    seconds["total"] = time.monotonic() - started
    figures = summary.write_outputs(
        args.out, rbac_cases, fuzz_result, fault_cases, seconds
    )
    print(
        summary.render_report(
            figures, rbac_cases, fuzz_result, fault_cases, seconds
        )
    )
    print(f"wrote {args.out / 'summary.json'} and report.md", flush=True)
    from shared import rbac

    met = summary.all_met(figures, parts, len(rbac.ENDPOINTS))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
