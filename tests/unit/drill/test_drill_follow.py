"""Following executions: deadlines in every state, the pause hint."""

import io
import json
import subprocess  # nosec B404
import threading
import time

import pytest

from localcloud.drill.follow import (
    FollowSettings,
    Tracker,
    follow_all,
    pause_text,
    resume_command,
)
from localcloud.drill.invoker import ApiError
from localcloud.drill.phases import PhaseRecorder
from localcloud.drill.plan_setup import PlanSetup
from localcloud.drill.progress import ProgressView


class StuckPaused:
    """An execution-handler whose execution stays PAUSED: resume answers
    ``resume_error`` (or succeeds without effect)."""

    def __init__(self, resume_error=None):
        self.resume_error = resume_error
        self.calls = []

    def execution(self, operation, body=None, query=None):
        self.calls.append(operation)
        if operation == "get_execution_details":
            return {
                "executionId": "ex-1",
                "status": "PAUSED",
                "pausedBeforeWave": 2,
                "waves": [],
            }
        if operation == "resume_execution" and self.resume_error:
            raise ApiError(operation, self.resume_error)
        return {}


def _tracker(timeout):
    view = ProgressView(io.StringIO(), tty=False)
    return Tracker(
        setup=PlanSetup(plan_id="p-1", plan_name="plan"),
        execution_id="ex-1",
        view=view,
        recorder=PhaseRecorder(60),
        deadline=time.monotonic() + timeout,
    )


def _follow_in_thread(api, tracker, settings, limit=10.0):
    """follow_all in a daemon thread; whether it returned within limit."""
    screen = ProgressView(io.StringIO(), tty=False)
    thread = threading.Thread(
        target=follow_all,
        args=(api, [tracker], settings, screen, True),
        daemon=True,
    )
    thread.start()
    thread.join(limit)
    return not thread.is_alive()


@pytest.mark.parametrize(
    "resume_error",
    [None, {"error": "INVALID_STATE", "statusCode": 409}],
    ids=["resume-without-effect", "resume-refused-invalid-state"],
)
def test_a_pause_whose_resume_never_takes_effect_times_out(resume_error):
    # Given an execution that stays PAUSED whatever resume answers
    api = StuckPaused(resume_error)
    tracker = _tracker(timeout=0.3)
    settings = FollowSettings(
        speed=60, poll_interval=0.01, resume_after=0, timeout=0.3
    )
    # When it is followed
    returned = _follow_in_thread(api, tracker, settings)
    # Then the deadline ends it: cancelled, TIMEOUT, the pause named
    assert returned
    assert tracker.status == "TIMEOUT"
    assert "still PAUSED before wave 2" in tracker.details["statusReason"]
    assert api.calls.count("resume_execution") >= 1
    assert api.calls[-1] == "cancel_execution"


def test_waiting_for_enter_has_a_finite_limit():
    # Given an interactive pause nobody resumes (Enter never pressed)
    api = StuckPaused()
    tracker = _tracker(timeout=0.2)
    never = threading.Event()
    settings = FollowSettings(
        speed=60,
        poll_interval=0.01,
        timeout=0.2,
        interactive=True,
        pause_limit=0.3,
        wait_for_enter=never.wait,
    )
    # When it is followed
    started = time.monotonic()
    returned = _follow_in_thread(api, tracker, settings)
    # Then it times out after the deadline plus the pause limit, unresumed
    assert returned
    assert tracker.status == "TIMEOUT"
    assert time.monotonic() - started >= 0.5
    assert "resume_execution" not in api.calls


def test_pause_within_its_allowance_does_not_eat_the_deadline():
    # Given an execution paused for a while, then completed
    class PausedThenDone(StuckPaused):
        def __init__(self):
            super().__init__()
            self.resumed_at = None

        def execution(self, operation, body=None, query=None):
            if operation == "resume_execution":
                self.resumed_at = time.monotonic()
            answer = super().execution(operation, body, query)
            if operation == "get_execution_details" and self.resumed_at:
                answer["status"] = "COMPLETED"
            return answer

    api = PausedThenDone()
    tracker = _tracker(timeout=0.4)
    settings = FollowSettings(
        speed=60, poll_interval=0.01, resume_after=1, timeout=0.4
    )
    # When followed (the 1 s countdown is longer than the 0.4 s deadline)
    returned = _follow_in_thread(api, tracker, settings)
    # Then the pause was credited: it completed and its pause is recorded
    assert returned
    assert tracker.status == "COMPLETED"
    assert tracker.paused_wall >= 1


def _local_api():
    import boto3

    from localcloud.drill.invoker import Invoker

    client = boto3.client(
        "lambda",
        endpoint_url="http://127.0.0.1:5123",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    return Invoker(client)


def test_pause_hint_is_a_runnable_resume_command():
    # Given a paused execution followed through the local cloud
    tracker = _tracker(timeout=60)
    tracker.details = {"status": "PAUSED", "pausedBeforeWave": 3}
    tracker.resume_hint = resume_command(_local_api(), "ex-1")
    settings = FollowSettings(speed=60)
    tracker.resume_at = time.monotonic() + 5
    # When the hint is printed
    text = pause_text(tracker, settings)
    # Then it is an aws lambda invoke of resume_execution, lines short,
    # and a shell runs it as one command with the direct-shape payload
    assert "PAUSED before wave 3: resuming automatically in 5s" in text
    assert "POST /executions" not in text
    assert max(len(line) for line in text.splitlines()) <= 79
    command = text.split("resume it yourself with:\n", 1)[1]
    # (a stub aws prints its arguments, then the payload file's bytes)
    stub = (
        "aws() { printf '%s\\n' \"$@\" ---; "
        'for a; do case $a in fileb://*) cat "${a#fileb://}";; esac; done; }'
    )
    out = subprocess.run(  # nosec B603 B607
        ["bash", "-c", stub + "\n" + command],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    listed, sent = out.split("---\n", 1)
    args = listed.splitlines()
    assert args[:4] == [
        "lambda",
        "invoke",
        "--endpoint-url",
        "http://127.0.0.1:5123",
    ]
    assert args[args.index("--region") + 1] == "us-east-1"
    name = args[args.index("--function-name") + 1]
    assert name == "hrp-drs-tech-adapter-execution-handler-dev"
    assert args[-1] == "/dev/stdout"
    # And the payload is read as raw bytes from a file (AWS CLI v1 and v2),
    # never with --cli-binary-format, which CLI v1 rejects
    assert args[args.index("--payload") + 1].startswith("fileb:///")
    assert not [a for a in args if a.startswith("--cli-binary-format")]
    assert json.loads(sent) == {
        "operation": "resume_execution",
        "body": {"executionId": "ex-1"},
    }


def test_interactive_pause_hint_names_its_limit():
    # Given an interactive drill that waits up to 30 minutes for Enter
    tracker = _tracker(timeout=60)
    tracker.details = {"status": "PAUSED", "pausedBeforeWave": 2}
    settings = FollowSettings(speed=60, interactive=True, pause_limit=1800)
    # When the hint is printed / Then it says so
    assert pause_text(tracker, settings) == (
        "  PAUSED before wave 2: press Enter to resume (waits up to 30 min)"
    )


class WaitingBranch:
    """An execution-handler whose wave 2 waits for approval while wave 1
    runs; resume starts wave 2, the next poll ends the execution."""

    def __init__(self):
        self.calls = []
        self.resumed_while = None
        self.polls_after_resume = 0

    def execution(self, operation, body=None, query=None):
        self.calls.append(operation)
        if operation == "resume_execution":
            self.resumed_while = "RUNNING"
            return {}
        if operation != "get_execution_details":
            return {}
        if self.resumed_while is None:
            waves = [("STARTED", 1), ("WAITING_APPROVAL", 2)]
            status = "RUNNING"
        else:
            self.polls_after_resume += 1
            status = "COMPLETED" if self.polls_after_resume > 1 else "RUNNING"
            waves = [("COMPLETED", 1), ("STARTED", 2)]
        return {
            "executionId": "ex-1",
            "status": status,
            "waves": [{"waveNumber": n, "status": s} for s, n in waves],
        }


def test_a_wave_waiting_while_others_run_is_approved_without_a_pause():
    # Given wave 2 waits for approval while wave 1 still runs
    api = WaitingBranch()
    tracker = _tracker(timeout=5)
    settings = FollowSettings(
        speed=60, poll_interval=0.01, resume_after=0, timeout=5
    )
    # When the drill follows it
    assert _follow_in_thread(api, tracker, settings)
    # Then it approved the wave while the execution was RUNNING
    assert api.resumed_while == "RUNNING"
    assert api.calls.count("resume_execution") == 1
    # And the execution ran to its end, the hold over
    assert tracker.status == "COMPLETED" and tracker.pause_since is None
    assert "waits for approval, other waves run" in pause_text(
        _waiting_tracker(), settings
    )


def _waiting_tracker():
    tracker = _tracker(timeout=5)
    tracker.details = {
        "status": "RUNNING",
        "waves": [
            {"waveNumber": 1, "status": "STARTED"},
            {"waveNumber": 2, "status": "WAITING_APPROVAL"},
        ],
    }
    return tracker


def test_a_linear_plan_about_to_pause_reads_as_a_pause():
    # Given a linear plan whose wave 2 waits for approval, nothing running,
    # and the state machine not yet paused (the execution still RUNNING)
    tracker = _waiting_tracker()
    tracker.details["waves"][0]["status"] = "COMPLETED"
    tracker.resume_at = time.monotonic() + 5
    # When the drill prints the hold
    text = pause_text(tracker, FollowSettings(speed=60))
    # Then it reads as the pause it is, not as other waves running
    assert "PAUSED before wave 2: resuming automatically in 5s" in text
    assert "other waves run" not in text
