"""Run one drill through the public interfaces and report it.

``run_drill`` sets the plan up, starts the execution, follows it (progress,
pause with automatic or interactive resume), writes the report and the
timeline, then — for a DRILL — terminates the recovery instances and
confirms none is left. Every wait has a deadline.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, TextIO

from .invoker import ApiError, FunctionFailed, Invoker
from .phases import (
    PhaseRecorder,
    current_phases,
    failure_reasons,
    refine_with_job_logs,
    server_elapsed,
    with_phases,
    with_reasons,
)
from .plan_setup import PlanSetup, setup_plans
from .progress import ProgressView
from .report import build_report, summary_text
from .timeline import render_timeline

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"}
GONE = {"TERMINATED", "TERMINATING", "SHUTTING-DOWN", "STOPPED", "DELETED"}


@dataclass
class DrillOptions:
    """How to run a drill (wall seconds unless named otherwise)."""

    plan: dict[str, Any]
    scenario: Any = None
    speed: float = 60.0
    recovery: bool = False
    interactive: bool = False
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
    """What a drill produced."""

    report: dict[str, Any]
    exit_code: int
    report_path: Path | None = None
    timeline_path: Path | None = None


class _Clock:
    def __init__(self) -> None:
        self.start = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.start


def _resume(
    api: Invoker,
    execution_id: str,
    details: dict[str, Any],
    view: ProgressView,
    options: DrillOptions,
) -> float:
    """Resume a paused execution; return the wall seconds it was held."""
    held = time.monotonic()
    pending = [
        w.get("waveNumber")
        for w in details.get("waves") or []
        if w.get("status") == "PENDING"
    ]
    wave = pending[0] if pending else details.get("pausedBeforeWave")
    view.message(
        f"PAUSED before wave {wave}. Resume with: resume_execution "
        f'{{"executionId": "{execution_id}"}} '
        f"(POST /executions/{execution_id}/resume)"
    )
    if options.interactive:
        view.message("Press Enter to resume...")
        try:
            options.wait_for_enter()
        except EOFError:  # no terminal to read from: resume now
            view.message("(stdin closed: resuming)")
    else:
        text = "Resuming automatically in"
        for remaining in range(options.resume_after, -1, -1):
            view.countdown(text, remaining)
            if remaining:
                time.sleep(1)
    try:
        api.execution("resume_execution", {"executionId": execution_id})
        view.message(f"Resumed: wave {wave} starts.")
    except ApiError as error:
        # Resumed by someone else meanwhile (a second resume is 409).
        if error.code != "INVALID_STATE":
            raise
        view.message(f"Already resumed ({error.code}).")
    return time.monotonic() - held


def follow(
    api: Invoker,
    execution_id: str,
    recorder: PhaseRecorder,
    view: ProgressView,
    options: DrillOptions,
    clock: _Clock,
) -> tuple[dict[str, Any], float]:
    """Poll until the execution ends; return (details, paused seconds)."""
    paused = 0.0
    deadline = clock.elapsed() + options.timeout
    phases: dict[str, str] = {}
    logs_at = -options.log_interval
    while True:
        details = api.execution(
            "get_execution_details", {"executionId": execution_id}
        )
        now = clock.elapsed()
        running = any(
            w.get("status") == "STARTED" for w in details.get("waves") or []
        )
        if running and now - logs_at >= options.log_interval:
            # The record has status only; the job log tells the phase.
            logs_at = now
            phases = current_phases(_job_logs(api, execution_id))
        with_phases(details, phases)
        recorder.observe(details, now)
        view.elapsed = {
            sid: server_elapsed(recorder, sid, now * options.speed)
            for sid in recorder.segments
        }
        if not options.quiet:
            view.update(details, now)
        status = str(details.get("status"))
        if status in TERMINAL:
            return details, paused
        if status == "PAUSED":
            held = _resume(api, execution_id, details, view, options)
            paused += held
            deadline += held
            continue
        if clock.elapsed() > deadline:
            view.message(
                f"Timed out after {options.timeout:.0f}s: cancelling."
            )
            api.execution("cancel_execution", {"executionId": execution_id})
            details["status"] = "TIMEOUT"
            details["statusReason"] = (
                f"drill did not finish within {options.timeout:.0f}s wall"
            )
            return details, paused
        time.sleep(options.poll_interval)


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


def terminate_and_confirm(
    api: Invoker, execution_id: str, view: ProgressView, options: DrillOptions
) -> dict[str, Any]:
    """Terminate the drill's recovery instances; wait until none is left."""
    body = {"executionId": execution_id}
    before = instances_left(api.execution("get_recovery_instances", body))
    if not before:
        return {"requested": 0, "left": 0, "confirmed": True}
    view.message(f"Terminating {len(before)} recovery instance(s)...")
    deadline = time.monotonic() + options.cleanup_timeout
    answer, error = _terminate(api, body, deadline, options.poll_interval)
    if error is not None:
        view.message(f"Terminating failed: {error}")
        return {
            "requested": len(before),
            "left": len(before),
            "confirmed": False,
            "error": str(error),
        }
    left = before
    while time.monotonic() < deadline:
        left = instances_left(api.execution("get_recovery_instances", body))
        if not left:
            break
        time.sleep(options.poll_interval)
    ok = not left
    view.message(
        "Recovery instances terminated: none left."
        if ok
        else f"{len(left)} recovery instance(s) still present"
    )
    return {
        "requested": len(before),
        "left": len(left),
        "confirmed": ok,
        "jobs": (
            (answer or {}).get("jobs") if isinstance(answer, dict) else None
        ),
    }


def _job_logs(api: Invoker, execution_id: str) -> Any:
    try:
        return api.execution(
            "get_execution_job_logs", {"executionId": execution_id}
        )
    except ApiError:
        return None


def write_outputs(report: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """``report.json`` and ``timeline.png`` under ``out_dir/<id>/``."""
    folder = out_dir / str(report["executionId"])
    folder.mkdir(parents=True, exist_ok=True)
    report_path = folder / "report.json"
    timeline_path = render_timeline(report, folder / "timeline.png")
    report_path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return report_path, timeline_path


@dataclass
class DrillRun:
    """Every plan's result; ``exit_code`` 0 only if all completed."""

    results: list[DrillResult]

    @property
    def exit_code(self) -> int:
        return max((r.exit_code for r in self.results), default=1)


def run_plan(
    api: Invoker,
    setup: PlanSetup,
    options: DrillOptions,
    sim_epoch: Callable[[], float] | None = None,
) -> DrillResult:
    """Run one plan's drill (or recovery); report it; clean up."""
    view = ProgressView(
        options.stream, options.tty, setup.servers, options.speed
    )
    say = (lambda text: None) if options.quiet else view.message
    kind = "RECOVERY" if options.recovery else "DRILL"
    say(f"==> plan {setup.plan_name} ({setup.plan_id}): starting a {kind}")
    clock = _Clock()
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    sim_zero = sim_epoch() if sim_epoch else None
    started = api.execution(
        "execute_recovery_plan",
        {
            "planId": setup.plan_id,
            "executionType": kind,
            "initiatedBy": "drill.sh",
        },
    )
    execution_id = started["executionId"]
    recorder = PhaseRecorder(options.speed)
    details, paused = follow(api, execution_id, recorder, view, options, clock)
    wall = clock.elapsed()
    recorder.close(wall)
    logs = _job_logs(api, execution_id)
    with_reasons(details, failure_reasons(logs))
    if sim_zero is not None and logs:
        refine_with_job_logs(recorder, logs, sim_zero)
    report = build_report(
        details,
        recorder,
        speed=options.speed,
        wall_seconds=wall,
        paused_wall_seconds=paused,
        hostnames=setup.servers,
        started_at=started_at,
    )
    report["planSetup"] = {
        "planId": setup.plan_id,
        "groups": setup.group_ids,
        "targetAccounts": setup.accounts,
    }
    if not options.recovery:
        report["cleanup"] = terminate_and_confirm(
            api, execution_id, view, options
        )
    report_path, timeline_path = write_outputs(report, options.out_dir)
    completed = report["status"] == "COMPLETED"
    cleaned = options.recovery or report["cleanup"]["confirmed"]
    say("")
    say(summary_text(report))
    say(f"Report:   {report_path}")
    say(f"Timeline: {timeline_path}")
    return DrillResult(
        report,
        0 if completed and cleaned else 1,
        report_path,
        timeline_path,
    )


def run_drill(
    api: Invoker,
    options: DrillOptions,
    sim_epoch: Callable[[], float] | None = None,
) -> DrillRun:
    """Set up the definition's plans and run them one after the other."""
    if not options.quiet:
        options.stream.write(
            "==> registering target accounts, creating protection groups "
            "and plans\n"
        )
    suffix = "-" + uuid.uuid4().hex[:6]
    setups = setup_plans(api, options.plan, options.scenario, suffix)
    return DrillRun([run_plan(api, s, options, sim_epoch) for s in setups])
