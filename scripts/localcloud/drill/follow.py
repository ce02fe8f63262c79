"""Follow running executions together: poll, show progress, resume pauses.

Each ``Tracker`` is one execution. ``follow_all`` polls them in one loop
(``get_execution_details``, plus the job log for live phases), so plans of
several accounts run side by side as they would in AWS. A pause never
blocks the loop: it resumes (``resume_execution``) after a countdown, or on
Enter with ``interactive``, and retries while the execution stays PAUSED.
A wave waiting for approval while other branches run is approved the
same way (issue 17), without waiting for the execution to pause.
Every execution has a deadline, checked in every non-terminal state: the
time a pause is held is added to it, up to ``resume_after`` (or
``pause_limit`` waiting for Enter), so a pause that never ends times out.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .graph import critical_path
from .invoker import ApiError, Invoker, function_name
from .phases import (
    PhaseRecorder,
    current_phases,
    server_elapsed,
    with_phases,
)
from .plan_setup import PlanSetup
from .progress import ProgressView

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"}


@dataclass
class FollowSettings:
    """Timing of the loop (wall seconds)."""

    speed: float
    poll_interval: float = 0.3
    log_interval: float = 1.0
    resume_after: int = 5
    timeout: float = 150.0
    interactive: bool = False
    pause_limit: float = 3600.0
    wait_for_enter: Callable[[], Any] = input


@dataclass
class Tracker:
    """One execution being followed."""

    setup: PlanSetup
    execution_id: str
    view: ProgressView
    recorder: PhaseRecorder
    deadline: float
    sim_zero: float | None = None
    started_at: str = ""
    start: float = field(default_factory=time.monotonic)
    details: dict[str, Any] = field(default_factory=dict)
    phases: dict[str, str] = field(default_factory=dict)
    logs_at: float = float("-inf")
    paused_wall: float = 0.0
    pause_since: float | None = None
    resume_at: float | None = None
    done: bool = False
    ended: float | None = None  # wall seconds when it was seen ending
    resume_hint: str = ""  # a runnable resume command (resume_command)
    # the plan's graph: waveNumber -> the waves it waits for (issue 17)
    depends: dict[int, list[int]] = field(default_factory=dict)

    def elapsed(self) -> float:
        """Wall seconds since the execution started."""
        return time.monotonic() - self.start

    @property
    def status(self) -> str:
        """The execution status last seen."""
        return str(self.details.get("status", "PENDING"))


def job_logs(api: Invoker, execution_id: str) -> Any:
    """``get_execution_job_logs`` (``None`` on a client error)."""
    try:
        return api.execution(
            "get_execution_job_logs", {"executionId": execution_id}
        )
    except ApiError:
        return None


def every_server(api: Invoker, details: dict[str, Any]) -> dict[str, Any]:
    """``details`` with every server row of each wave: a large wave's
    answer holds its first rows and ``serversNextToken``; the rest come
    from ``get_execution_waves`` pages (``waveNumber``, ``nextToken``)."""
    for wave in details.get("waves") or []:
        token = wave.pop("serversNextToken", None)
        while token:
            page = api.execution(
                "get_execution_waves",
                {"executionId": details["executionId"]},
                {
                    "waveNumber": str(wave.get("waveNumber")),
                    "nextToken": token,
                    "limit": "1000",
                },
            )
            rows = page["waves"][0].get("servers") or []
            wave["servers"] = (wave.get("servers") or []) + rows
            token = page.get("nextToken")
    return details


def _poll(api: Invoker, tracker: Tracker, settings: FollowSettings) -> None:
    details = every_server(
        api,
        api.execution(
            "get_execution_details", {"executionId": tracker.execution_id}
        ),
    )
    now = tracker.elapsed()
    running = any(
        w.get("status") == "STARTED" for w in details.get("waves") or []
    )
    if running and now - tracker.logs_at >= settings.log_interval:
        # The record carries the DRS status; the job log tells the phase.
        tracker.logs_at = now
        tracker.phases = current_phases(job_logs(api, tracker.execution_id))
    with_phases(details, tracker.phases)
    tracker.recorder.observe(details, now)
    tracker.details = details
    tracker.view.elapsed = {
        sid: server_elapsed(tracker.recorder, sid, now * settings.speed)
        for sid in tracker.recorder.segments
    }
    tracker.view.critical = set(critical_so_far(tracker, now * settings.speed))


def critical_so_far(tracker: Tracker, now: float) -> list[int]:
    """The critical path so far: the longest chain of the waves' measured
    durations (a running wave counts its time until ``now``)."""
    if not tracker.depends:
        return []
    spans = {
        n: (start, end if end is not None else now)
        for n, (start, end) in tracker.recorder.wave_seen.items()
        if start is not None
    }
    durations = {n: end - start for n, (start, end) in spans.items()}
    return critical_path(tracker.depends, durations)[1]


def next_wave(details: dict[str, Any]) -> Any:
    """The wave a paused execution waits to start (waiting for approval;
    a record written before issue 17: the first PENDING wave)."""
    waves = details.get("waves") or []
    for status in ("WAITING_APPROVAL", "PENDING"):
        found = [
            w.get("waveNumber") for w in waves if w.get("status") == status
        ]
        if found:
            return found[0]
    return details.get("pausedBeforeWave")


_WAVE_IDLE = frozenset(
    {
        "PENDING",
        "WAITING_APPROVAL",
        "COMPLETED",
        "FAILED",
        "CANCELLED",
        "SKIPPED",
    }
)


def others_run(details: dict[str, Any]) -> bool:
    """Some wave is started or queued for DRS capacity."""
    return any(
        w.get("status") not in _WAVE_IDLE for w in details.get("waves") or []
    )


def wants_approval(tracker: Tracker) -> bool:
    """The execution is PAUSED, or a wave waits for approval while other
    branches run (issue 17: approving it then starts it at the next
    poll, without waiting for the others to end)."""
    if tracker.status == "PAUSED":
        return True
    return tracker.status == "RUNNING" and any(
        w.get("status") == "WAITING_APPROVAL"
        for w in tracker.details.get("waves") or []
    )


def resume_command(api: Any, execution_id: str) -> str:
    """A shell command that resumes the execution: ``aws lambda invoke`` of
    ``resume_execution`` in the direct shape (CONTRACTS §2) against the
    cloud ``api`` talks to; short lines.

    The payload goes through a file read with ``fileb://``, which sends
    its bytes unchanged in AWS CLI v1 and v2 alike: v2 reads an inline
    ``--payload`` as base64 unless told ``--cli-binary-format
    raw-in-base64-out``, an option v1 (the one .venv installs) rejects.
    """
    meta = getattr(getattr(api, "client", None), "meta", None)
    endpoint = getattr(meta, "endpoint_url", None) or ""
    region = getattr(meta, "region_name", None)
    invoke = "aws lambda invoke"
    if endpoint and "amazonaws.com" not in endpoint:
        invoke += f" --endpoint-url {endpoint}"
    options = [f"--region {region}"] if region else []
    options.append('--payload "fileb://$f"')
    payload = json.dumps(
        {
            "operation": "resume_execution",
            "body": {"executionId": execution_id},
        },
        separators=(",", ":"),
    )
    head, body = payload.split(',"body":', 1)
    name = function_name("execution-handler", getattr(api, "names", None))
    # The JSON goes on over the newline inside the quotes; the shell goes
    # on after "&&" and after a trailing backslash.
    return "\n    ".join(
        [
            f"f=$(mktemp) && echo '{head},",
            f'"body":{body}\' >"$f" &&',
            f"{invoke} \\",
            " ".join(options) + " \\",
            f"--function-name {name} /dev/stdout",
        ]
    )


def pause_text(tracker: Tracker, settings: FollowSettings) -> str:
    """How a pause is resumed, and when."""
    # A linear plan's execution is still RUNNING for the moment between its
    # wave becoming WAITING_APPROVAL and the state machine pausing.
    paused = tracker.status == "PAUSED" or not others_run(tracker.details)
    if settings.interactive:
        limit = int(settings.pause_limit // 60)
        when = f"press Enter to resume (waits up to {limit} min)"
    else:
        left = max(0, int(round((tracker.resume_at or 0) - time.monotonic())))
        verb = "resuming" if paused else "approving"
        when = f"{verb} automatically in {left}s"
    wave = next_wave(tracker.details)
    if paused:
        text = f"  PAUSED before wave {wave}: {when}"
    else:
        text = f"  wave {wave} waits for approval, other waves run: {when}"
    if tracker.resume_hint:
        text += f"\n  resume it yourself with:\n    {tracker.resume_hint}"
    return text


class _EnterKey:
    """Enter presses read by a daemon thread (interactive mode)."""

    def __init__(self, read: Callable[[], Any]) -> None:
        self.read = read
        self.pressed = threading.Event()
        self._thread: threading.Thread | None = None

    def arm(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self.pressed.clear()

        def wait() -> None:
            try:
                self.read()
            except EOFError:  # no terminal: resume as if Enter was pressed
                pass
            self.pressed.set()

        self._thread = threading.Thread(target=wait, daemon=True)
        self._thread.start()


def _handle_pause(
    api: Invoker,
    tracker: Tracker,
    settings: FollowSettings,
    enter: _EnterKey,
    say: Callable[[str], None],
) -> None:
    now = time.monotonic()
    if tracker.pause_since is None:
        tracker.pause_since = now
        tracker.resume_at = (
            None if settings.interactive else now + settings.resume_after
        )
        for line in pause_text(tracker, settings).split("\n"):
            say(line.rstrip())
        if settings.interactive:
            enter.arm()
    if tracker.resume_at is None and enter.pressed.is_set():
        tracker.resume_at = now
    if tracker.resume_at is None or now < tracker.resume_at:
        return
    # Retried after another ``resume_after`` if it stays PAUSED.
    tracker.resume_at = now + settings.resume_after
    try:
        api.execution(
            "resume_execution", {"executionId": tracker.execution_id}
        )
        verb = "Resumed" if tracker.status == "PAUSED" else "Approved"
        say(f"{verb}: wave {next_wave(tracker.details)} starts.")
    except ApiError as error:
        if error.code != "INVALID_STATE":  # resumed by someone else
            raise


def pause_allowance(settings: FollowSettings) -> float:
    """Wall seconds of one pause that do not count against the deadline."""
    return (
        settings.pause_limit if settings.interactive else settings.resume_after
    )


def _end_pause(tracker: Tracker, settings: FollowSettings) -> None:
    """The execution left PAUSED: its deadline moves by the pause."""
    held = time.monotonic() - (tracker.pause_since or time.monotonic())
    tracker.paused_wall += held
    tracker.deadline += min(held, pause_allowance(settings))
    tracker.pause_since = None
    tracker.resume_at = None


def deadline_of(tracker: Tracker, settings: FollowSettings) -> float:
    """The tracker's deadline, a pause being held included."""
    if tracker.pause_since is None:
        return tracker.deadline
    held = time.monotonic() - tracker.pause_since
    return tracker.deadline + min(held, pause_allowance(settings))


def _timed_out(api: Invoker, tracker: Tracker, timeout: float) -> None:
    api.execution("cancel_execution", {"executionId": tracker.execution_id})
    reason = f"the execution did not finish within {timeout:.0f}s wall"
    if tracker.status == "PAUSED":
        reason += (
            f" (still PAUSED before wave {next_wave(tracker.details)}: "
            "resume did not take effect)"
        )
    tracker.details["status"] = "TIMEOUT"
    tracker.details["statusReason"] = reason
    tracker.done = True
    tracker.ended = tracker.elapsed()


def follow_all(
    api: Invoker,
    trackers: list[Tracker],
    settings: FollowSettings,
    screen: ProgressView,
    quiet: bool = False,
) -> None:
    """Poll every tracker until each execution ended (or timed out)."""
    enter = _EnterKey(settings.wait_for_enter)
    say = (lambda text: None) if quiet or screen.tty else screen.message
    for tracker in trackers:
        tracker.resume_hint = resume_command(api, tracker.execution_id)
    while not all(t.done for t in trackers):
        for tracker in (t for t in trackers if not t.done):
            _poll(api, tracker, settings)
            held = wants_approval(tracker)
            if not held and tracker.pause_since is not None:
                _end_pause(tracker, settings)
            if tracker.status in TERMINAL:
                tracker.done = True
                tracker.ended = tracker.elapsed()
                continue
            if held:
                _handle_pause(api, tracker, settings, enter, say)
            if time.monotonic() > deadline_of(tracker, settings):
                _timed_out(api, tracker, settings.timeout)
        if not quiet:
            _render(trackers, screen, settings)
        if not all(t.done for t in trackers):
            time.sleep(settings.poll_interval)


def _render(
    trackers: list[Tracker], screen: ProgressView, settings: FollowSettings
) -> None:
    if not screen.tty:
        for tracker in trackers:
            tracker.view.update(tracker.details, tracker.elapsed())
        return
    lines: list[str] = []
    for tracker in trackers:
        lines += tracker.view.block(tracker.details, tracker.elapsed())
        if wants_approval(tracker) and tracker.pause_since is not None:
            lines += pause_text(tracker, settings).split("\n")
    screen.redraw(lines)
