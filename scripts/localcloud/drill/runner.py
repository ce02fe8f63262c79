"""Run a drill through the public interfaces and report it.

``run_drill`` sets the definition's plans up, prints each plan's readiness
(and stops there when one is NOT_READY), starts one execution per
plan (side by side: a hub plan and a spoke plan run together, as in AWS),
follows them (``follow.follow_all``), then per execution writes the report
and the timeline and — for a DRILL — terminates the recovery instances
and confirms none is left. Every wait has a deadline.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, TextIO

from .graph import dependencies
from .follow import FollowSettings, Tracker, follow_all, job_logs
from .invoker import ApiError, FunctionFailed, Invoker
from .phases import (
    PhaseRecorder,
    failure_reasons,
    job_ends,
    refine_with_job_logs,
    with_reasons,
)
from .plan_setup import PlanSetup, setup_plans
from .progress import ProgressView
from .readiness import NOT_READY, blocked_report, check_plans
from .report import build_report, summary_text
from .timeline import render_timeline

GONE = {"TERMINATED", "TERMINATING", "SHUTTING-DOWN", "STOPPED", "DELETED"}


@dataclass
class DrillOptions:
    """How to run a drill (wall seconds unless named otherwise)."""

    plan: dict[str, Any]
    scenario: Any = None
    speed: float = 60.0
    recovery: bool = False
    interactive: bool = False
    # wall seconds a pause may wait for Enter before the deadline runs on
    pause_limit: float = 3600.0
    poll_interval: float = 0.3
    log_interval: float = 1.0
    resume_after: int = 5
    timeout: float = 150.0
    cleanup_timeout: float = 60.0
    out_dir: Path = Path("build/drill")
    stream: TextIO = field(default_factory=lambda: sys.stdout)
    tty: bool | None = None
    quiet: bool = False
    wait_for_enter: Callable[[], Any] = input


@dataclass
class DrillResult:
    """What one execution of a drill produced."""

    report: dict[str, Any]
    exit_code: int
    report_path: Path | None = None
    timeline_path: Path | None = None


@dataclass
class DrillRun:
    """Every plan's result; ``exit_code`` 0 only if all completed."""

    results: list[DrillResult]

    @property
    def exit_code(self) -> int:
        return max((r.exit_code for r in self.results), default=1)


def _instances(answer: Any) -> list[dict[str, Any]]:
    if isinstance(answer, list):
        return [i for i in answer if isinstance(i, dict)]
    if not isinstance(answer, dict):
        return []
    for key in ("recoveryInstances", "instances", "items"):
        if isinstance(answer.get(key), list):
            return _instances(answer[key])
    return []


def instances_left(answer: Any) -> list[dict[str, Any]]:
    """Recovery instances of an answer that are not terminated."""
    left = []
    for item in _instances(answer):
        state = str(
            item.get("state")
            or item.get("status")
            or item.get("ec2InstanceState")
            or ""
        ).upper()
        if state not in GONE:
            left.append(item)
    return left


def _terminate(
    api: Invoker, body: dict[str, Any], deadline: float, interval: float
) -> tuple[Any, Exception | None]:
    """Ask for termination; retry while DRS still runs a job of these
    servers (a failed wave's job settles a little after the wave)."""
    while True:
        try:
            return api.execution("terminate_recovery_instances", body), None
        except (ApiError, FunctionFailed) as error:
            busy = "Conflict" in str(error) or "CONFLICT" in str(error)
            if not busy or time.monotonic() > deadline:
                return None, error
        time.sleep(interval)


def _instance_id(item: dict[str, Any]) -> str:
    for key in ("recoveryInstanceId", "recoveryInstanceID", "instanceId"):
        if item.get(key):
            return str(item[key])
    return json.dumps(item, sort_keys=True, default=str)


def _now_terminating(answer: Any, asked: set[str]) -> set[str]:
    """The instances a terminate answer put in a TERMINATE job. When some
    wait for DRS capacity (TERMINATE jobs count against the job quotas)
    only the answer's rows are taken, so the next round asks again."""
    if not isinstance(answer, dict):
        return asked
    if not (
        answer.get("pendingInstances") or answer.get("alreadyTerminating")
    ):
        return asked
    return {
        str(row["recoveryInstanceId"])
        for row in answer.get("instances") or []
        if row.get("recoveryInstanceId")
    }


def terminate_and_confirm(
    api: Invoker,
    execution_id: str,
    say: Callable[[str], None],
    options: DrillOptions,
) -> dict[str, Any]:
    """Terminate the drill's recovery instances; wait until none is left.

    Instances that appear later (a failed wave's job still launching the
    other servers) are terminated as they show up, and instances waiting
    for DRS capacity are asked for again, until nothing has gone for
    ``cleanup_timeout`` seconds.
    Instances the engine's own drill cleanup (a failed, timed-out or
    cancelled drill) is already terminating are only waited for.
    """
    body = {"executionId": execution_id}
    deadline = time.monotonic() + options.cleanup_timeout
    details = api.execution("get_execution_details", body)
    engine = (details or {}).get("terminations") or []
    requested: set[str] = {
        str(rid) for item in engine for rid in item["recoveryInstanceIds"]
    }
    jobs: list[Any] = [
        {"jobId": item["jobId"], "region": item.get("region")}
        for item in engine
    ]
    left = instances_left(api.execution("get_recovery_instances", body))
    while left:
        new = {_instance_id(i) for i in left} - requested
        if new:
            say(f"Terminating {len(new)} recovery instance(s)...")
            answer, error = _terminate(
                api, body, deadline, options.poll_interval
            )
            if error is not None:
                say(f"Terminating failed: {error}")
                return {
                    "requested": len(requested | new),
                    "left": len(left),
                    "confirmed": False,
                    "error": str(error),
                }
            requested |= _now_terminating(answer, new)
            if isinstance(answer, dict):
                jobs += answer.get("terminateJobs") or []
                if answer.get("pendingInstances"):
                    say(
                        f"  {answer['pendingInstances']} wait for DRS "
                        "capacity (TERMINATE jobs count against the quotas)"
                    )
        if time.monotonic() > deadline:
            break
        time.sleep(options.poll_interval)
        before = len(left)
        left = instances_left(api.execution("get_recovery_instances", body))
        if len(left) < before:
            # The deadline bounds a stall, not a large estate's cleanup.
            deadline = time.monotonic() + options.cleanup_timeout
    if requested:
        say(
            "Recovery instances terminated: none left."
            if not left
            else f"{len(left)} recovery instance(s) still present"
        )
    return {
        "requested": len(requested),
        "left": len(left),
        "confirmed": not left,
        "jobs": jobs,
    }


def write_outputs(report: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """``report.json`` and ``timeline.png`` under ``out_dir/<id>/``."""
    folder = out_dir / str(report["executionId"])
    folder.mkdir(parents=True, exist_ok=True)
    report_path = folder / "report.json"
    timeline_path = render_timeline(report, folder / "timeline.png")
    report_path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return report_path, timeline_path


def plan_graph(api: Invoker, plan_id: str) -> dict[int, list[int]]:
    """The stored plan's graph (waveNumber -> waves it waits for), as
    the engine reads it; empty when the plan cannot be read."""
    try:
        plan = api.data("get_recovery_plan", {"planId": plan_id})
    except (ApiError, FunctionFailed):
        return {}
    return dependencies((plan or {}).get("waves") or [])


def start_execution(
    api: Invoker,
    setup: PlanSetup,
    options: DrillOptions,
    sim_epoch: Callable[[], float] | None,
    label: str = "",
) -> Tracker:
    """Start one plan's execution and the tracker following it."""
    kind = "RECOVERY" if options.recovery else "DRILL"
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    sim_zero = sim_epoch() if sim_epoch else None
    start = time.monotonic()
    started = api.execution(
        "execute_recovery_plan",
        {
            "planId": setup.plan_id,
            "executionType": kind,
        },
    )
    depends = plan_graph(api, setup.plan_id)
    view = ProgressView(
        options.stream, options.tty, setup.servers, options.speed, label
    )
    view.depends = depends
    return Tracker(
        setup=setup,
        execution_id=started["executionId"],
        view=view,
        depends=depends,
        recorder=PhaseRecorder(options.speed),
        deadline=start + options.timeout,
        sim_zero=sim_zero,
        started_at=started_at,
        start=start,
    )


def finish(
    api: Invoker, tracker: Tracker, options: DrillOptions
) -> DrillResult:
    """Report one ended execution, write its files, clean a drill up."""
    say = (lambda text: None) if options.quiet else tracker.view.message
    wall = tracker.ended if tracker.ended is not None else tracker.elapsed()
    tracker.recorder.close(wall)
    details = tracker.details
    logs = job_logs(api, tracker.execution_id)
    with_reasons(details, failure_reasons(logs))
    if tracker.sim_zero is not None and logs:
        refine_with_job_logs(tracker.recorder, logs, tracker.sim_zero)
    report = build_report(
        details,
        tracker.recorder,
        speed=options.speed,
        wall_seconds=wall,
        paused_wall_seconds=tracker.paused_wall,
        hostnames=tracker.setup.servers,
        started_at=tracker.started_at,
        depends=tracker.depends,
        job_ends=(
            job_ends(logs, tracker.sim_zero)
            if tracker.sim_zero is not None and logs
            else None
        ),
    )
    report["planSetup"] = {
        "planId": tracker.setup.plan_id,
        "groups": tracker.setup.group_ids,
        "targetAccounts": tracker.setup.accounts,
    }
    if not options.recovery:
        report["cleanup"] = terminate_and_confirm(
            api, tracker.execution_id, say, options
        )
    report_path, timeline_path = write_outputs(report, options.out_dir)
    completed = report["status"] == "COMPLETED"
    cleaned = options.recovery or report["cleanup"]["confirmed"]
    say("")
    say(summary_text(report))
    say(f"Report:   {report_path}")
    say(f"Timeline: {timeline_path}")
    return DrillResult(
        report, 0 if completed and cleaned else 1, report_path, timeline_path
    )


def run_drill(
    api: Invoker,
    options: DrillOptions,
    sim_epoch: Callable[[], float] | None = None,
) -> DrillRun:
    """Set up the definition's plans, run them side by side, report."""
    screen = ProgressView(options.stream, options.tty)
    say = (lambda text: None) if options.quiet else screen.message
    say(
        "==> registering target accounts, creating protection groups and "
        "plans"
    )
    suffix = "-" + uuid.uuid4().hex[:6]
    setups = setup_plans(api, options.plan, options.scenario, suffix)
    kind = "RECOVERY" if options.recovery else "DRILL"
    # Nothing starts when a plan would not recover: its report says why.
    readiness = check_plans(api, setups, say)
    blocked = [
        DrillResult(blocked_report(report, setup.plan_name, kind), 1)
        for setup, report in zip(setups, readiness)
        if report["status"] == NOT_READY
    ]
    if blocked:
        say("==> not started: a plan is NOT_READY")
        return DrillRun(blocked)
    trackers = []
    for setup in setups:
        say(f"==> {kind} of plan {setup.plan_name} ({setup.plan_id})")
        label = setup.plan_name if len(setups) > 1 else ""
        trackers.append(start_execution(api, setup, options, sim_epoch, label))
    # FollowSettings is the timing subset of the options, same names.
    settings = FollowSettings(
        **{f.name: getattr(options, f.name) for f in fields(FollowSettings)}
    )
    follow_all(api, trackers, settings, screen, options.quiet)
    return DrillRun([finish(api, t, options) for t in trackers])
