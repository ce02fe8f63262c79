"""The ASL definition executed by moto's Step Functions interpreter.

The orchestration function is replaced by a scripted Lambda (moto's
``LambdaSimpleBackend.invoke`` seam, see notes/moto-facts.md) so each test
drives the state machine's routing: begin/poll loop, pause with a task
token, terminal statuses, and the record-failure path.
"""

import json
import time

import boto3
import pytest
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend

from tests.unit.templates.cfn_helpers import ASL_PATH

REGION = "us-east-1"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:123456789012:function:orch"
INPUT = {
    "executionId": "exec-1",
    "plan": {"planId": "plan-1"},
    "isDrill": True,
    "accountContext": {"accountId": "123456789012"},
}


class ScriptedOrchestration:
    """Answers each ``action`` with a function of the event."""

    def __init__(self, script):
        self.script = script
        self.events = []
        self.token = None

    def invoke(self, _backend, _name, _qualifier, body, *_args):
        event = json.loads(body)
        self.events.append(event)
        if event["action"] == "store_task_token":
            self.token = event["taskToken"]
        return json.dumps(self.script(event)).encode()

    def actions(self):
        return [e["action"] for e in self.events]


def _run(monkeypatch, orchestration, resume_with=None, mode="poll"):
    monkeypatch.setattr(
        LambdaSimpleBackend,
        "invoke",
        lambda *args: orchestration.invoke(*args),
    )
    config = {
        "stepfunctions": {"execute_state_machine": True},
        "lambda": {"use_docker": False},
    }
    with mock_aws(config=config):
        sfn = boto3.client("stepfunctions", region_name=REGION)
        # WaveProgressMode poll: the sleeping wait; events: the progress
        # wait (test_state_machine_progress.py).
        definition = (
            ASL_PATH.read_text()
            .replace("${OrchestrationLambdaArn}", FUNCTION_ARN)
            .replace("${WaveProgressMode}", mode)
        )
        machine = sfn.create_state_machine(
            name="orchestration",
            definition=definition,
            roleArn="arn:aws:iam::123456789012:role/sfn",
        )["stateMachineArn"]
        execution = sfn.start_execution(
            stateMachineArn=machine, input=json.dumps(INPUT)
        )["executionArn"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            described = sfn.describe_execution(executionArn=execution)
            if described["status"] != "RUNNING":
                return described
            if resume_with is not None and orchestration.token:
                token, orchestration.token = orchestration.token, None
                sfn.send_task_success(
                    taskToken=token, output=json.dumps(resume_with)
                )
            time.sleep(0.02)
    pytest.fail("state machine did not finish within 20 s")


def _state(status, **extra):
    return {"status": status, "current_wave_update_time": 0, **extra}


def test_polls_until_all_waves_completed(monkeypatch):
    # Given an orchestration that completes after two polls
    def script(event):
        if event["action"] == "begin":
            return _state("running", polls=0)
        state = dict(
            event["application"], polls=event["application"]["polls"] + 1
        )
        if state["polls"] == 2:
            state.update(status="completed", all_waves_completed=True)
        return state

    orchestration = ScriptedOrchestration(script)
    # When the state machine runs
    result = _run(monkeypatch, orchestration)
    # Then it succeeds after begin and two polls with the context's ids
    assert result["status"] == "SUCCEEDED"
    assert orchestration.actions() == [
        "begin",
        "poll_wave_status",
        "poll_wave_status",
    ]
    begin = orchestration.events[0]
    assert begin["execution"].startswith("arn:aws:states:")
    assert (begin["executionId"], begin["plan"]) == ("exec-1", INPUT["plan"])
    assert json.loads(result["output"])["application"]["polls"] == 2


def test_cancelled_execution_fails_never_succeeds(monkeypatch):
    # Given an orchestration whose first poll reports "cancelled"
    # (failed/timeout route the same way: test_templates checks them)
    def script(event):
        if event["action"] == "begin":
            return _state("running")
        return _state("cancelled", all_waves_completed=True)

    # When the state machine runs
    result = _run(monkeypatch, ScriptedOrchestration(script))
    # Then the execution fails with ExecutionCancelled
    assert result["status"] == "FAILED"
    assert result["error"] == "ExecutionCancelled" and result["cause"]


def test_pause_waits_for_task_token_then_resumes(monkeypatch):
    # Given an orchestration that pauses before its first wave
    def script(event):
        if event["action"] == "begin":
            return _state("paused", paused_before_wave=1)
        if event["action"] == "store_task_token":
            return {}
        if event["action"] == "resume_wave":
            return dict(
                event["application"],
                status="completed",
                all_waves_completed=True,
            )
        return event["application"]

    orchestration = ScriptedOrchestration(script)
    # When the task token is answered with the resumed state
    result = _run(
        monkeypatch, orchestration, resume_with=_state("running", resumed=1)
    )
    # Then resume_wave gets the state that paused (kept in $.application)
    # and the execution succeeds
    assert result["status"] == "SUCCEEDED"
    assert orchestration.actions() == [
        "begin",
        "store_task_token",
        "resume_wave",
    ]
    paused = orchestration.events[1]["application"]
    assert orchestration.events[2]["application"] == paused
    assert paused["paused_before_wave"] == 1


def test_unexpected_error_is_recorded_before_failing(monkeypatch):
    # Given an orchestration whose begin raises
    def script(event):
        if event["action"] == "begin":
            raise RuntimeError("plan not found")
        return {}

    orchestration = ScriptedOrchestration(script)
    # When the state machine runs
    result = _run(monkeypatch, orchestration)
    # Then record_failure gets the cause and the execution id, then it fails
    assert orchestration.actions() == ["begin", "record_failure"]
    record = orchestration.events[1]
    assert "plan not found" in record["cause"]
    assert record["application"]["execution_id"] == "exec-1"
    assert result["status"] == "FAILED"
    assert result["error"] == "OrchestrationError"
