"""``python -m localcloud.drill``: what ``scripts/drill.sh`` runs.

Starts the local cloud with a scenario, runs the drill of a plan through
the public interfaces (direct invocation of the deployed functions) and
exits 0 only when the execution completed (and, for a drill, its recovery
instances were terminated).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from ..scenario import DEFAULT_SCENARIO, ScenarioError, load_scenario
from .invoker import ApiError, FunctionFailed, Invoker
from .plan_setup import DEFAULT_PLAN, PlanError, load_plan
from .runner import DrillOptions, run_drill

REPO_ROOT = Path(__file__).resolve().parents[3]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options of the drill."""
    parser = argparse.ArgumentParser(
        prog="drill.sh",
        description="Run a multi-wave DR drill on the local cloud.",
    )
    parser.add_argument(
        "--scenario",
        type=Path,
        default=DEFAULT_SCENARIO,
        help="local cloud scenario, YAML/JSON (default: the 3-tier sample)",
    )
    parser.add_argument(
        "--plan",
        type=Path,
        default=DEFAULT_PLAN,
        help="plan definition, YAML/JSON (default: "
        "scripts/plans/three-tier-plan.yaml)",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=60.0,
        help="simulated seconds per wall second (default 60)",
    )
    parser.add_argument(
        "--recovery",
        action="store_true",
        help="run a RECOVERY (not a DRILL); instances are kept",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the reports as JSON (a list: one per plan) on stdout",
    )
    parser.add_argument(
        "--interactive",
        action="store_true",
        help="wait for Enter at a pause instead of resuming automatically",
    )
    parser.add_argument(
        "--resume-after",
        type=int,
        default=5,
        help="wall seconds before an automatic resume (default 5)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=150.0,
        help="wall seconds the execution may take (default 150)",
    )
    parser.add_argument(
        "--out-dir", type=Path, default=REPO_ROOT / "build" / "drill"
    )
    args = parser.parse_args(argv)
    if args.speed <= 0:
        parser.error("--speed must be > 0")
    return args


def _reason(report: dict) -> str:
    if report["failures"]:
        return "; ".join(
            f"wave {f['waveNumber']} ({f['waveName']})"
            + (
                f" server {f['hostname']} ({f['sourceServerId']})"
                if f.get("sourceServerId")
                else ""
            )
            + f": {f['reason']}"
            for f in report["failures"]
        )
    cleanup = report.get("cleanup") or {}
    if report["status"] == "COMPLETED" and not cleanup.get("confirmed"):
        return f"{cleanup.get('left')} recovery instance(s) left"
    return str(report.get("statusReason") or report["status"])


def main(argv: list[str] | None = None) -> int:
    """Run the drill; the exit code says whether it completed."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    # moto logs a state machine's Fail state as an ERROR with its whole
    # AST; the drill reports the failure itself.
    logging.getLogger("moto").setLevel(logging.CRITICAL)
    out = sys.stderr if args.json else sys.stdout
    try:
        scenario = load_scenario(args.scenario)
        plan = load_plan(args.plan)
    except (ScenarioError, PlanError) as error:
        print(f"drill: {error}", file=sys.stderr)
        return 2
    from ..stack import LocalCloud

    began = time.monotonic()
    print(
        f"==> starting the local cloud ({args.scenario.name}, speed "
        f"{args.speed:g})",
        file=out,
        flush=True,
    )
    with LocalCloud(scenario_path=args.scenario, speed=args.speed) as cloud:
        print(
            f"==> ready in {time.monotonic() - began:.1f}s: "
            f"{cloud.endpoint}",
            file=out,
            flush=True,
        )
        options = DrillOptions(
            plan=plan,
            scenario=scenario,
            speed=args.speed,
            recovery=args.recovery,
            interactive=args.interactive,
            resume_after=args.resume_after,
            timeout=args.timeout,
            out_dir=args.out_dir,
            stream=out,
            quiet=False,
        )
        clock = cloud.simulator.clock
        try:
            run = run_drill(
                Invoker(cloud.client("lambda"), caller="drill.sh"),
                options,
                sim_epoch=lambda: clock.now().timestamp(),
            )
        except (ApiError, FunctionFailed, PlanError) as error:
            print(f"drill: FAILED: {error}", file=sys.stderr)
            return 1
    total = round(time.monotonic() - began, 1)
    reports = [r.report for r in run.results]
    if args.json:
        print(json.dumps(reports, indent=2, default=str))
    print(f"==> total wall time {total}s", file=out)
    for result in run.results:
        report = result.report
        if result.exit_code:
            print(
                f"drill: {report['planName']}: {report['executionType']} "
                f"{report['status']}: {_reason(report)}",
                file=sys.stderr,
            )
    return run.exit_code


if __name__ == "__main__":
    sys.exit(main())
