"""The progress wait (WaveProgressMode events, issue 18) executed by moto's
Step Functions interpreter with a scripted orchestration function.

A woken wait and a timed-out wait both lead to the same poll; a wait
whose token cannot be stored falls back to the sleeping wait.
"""

import json
import time

import boto3
import pytest
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend

from tests.unit.templates.cfn_helpers import ASL_PATH, asl

REGION = "us-east-1"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:123456789012:function:orch"
INPUT = {
    "executionId": "exec-1",
    "plan": {"planId": "plan-1"},
    "isDrill": True,
    "accountContext": {"accountId": "123456789012"},
}


class Orchestration:
    """Begin, then ``polls`` polls until completed; the progress wait's
    token is kept (``wake``) or the store fails (``store_fails``)."""

    def __init__(self, polls=2, wait=1, store_fails=False):
        self.polls, self.wait, self.store_fails = polls, wait, store_fails
        self.actions, self.tokens = [], []

    def invoke(self, _backend, _name, _qualifier, body, *_args):
        event = json.loads(body)
        self.actions.append(event["action"])
        if event["action"] == "store_progress_token":
            if self.store_fails:
                raise RuntimeError("store refused")
            self.tokens.append(event["taskToken"])
            return json.dumps({"stored": True}).encode()
        state = event.get("application") or {}
        done = self.actions.count("poll_wave_status") >= self.polls
        state = {
            "execution_id": "exec-1",
            "status": "completed" if done else "running",
            "all_waves_completed": done,
            "current_wave_update_time": self.wait,
        }
        return json.dumps(state).encode()


def _run(monkeypatch, orchestration, wake=False, limit=20):
    monkeypatch.setattr(
        LambdaSimpleBackend, "invoke", lambda *a: orchestration.invoke(*a)
    )
    config = {
        "stepfunctions": {"execute_state_machine": True},
        "lambda": {"use_docker": False},
    }
    with mock_aws(config=config):
        sfn = boto3.client("stepfunctions", region_name=REGION)
        definition = (
            ASL_PATH.read_text()
            .replace("${OrchestrationLambdaArn}", FUNCTION_ARN)
            .replace("${WaveProgressMode}", "events")
        )
        machine = sfn.create_state_machine(
            name="orchestration",
            definition=definition,
            roleArn="arn:aws:iam::123456789012:role/sfn",
        )["stateMachineArn"]
        execution = sfn.start_execution(
            stateMachineArn=machine, input=json.dumps(INPUT)
        )["executionArn"]
        started = time.monotonic()
        woken = set()
        while time.monotonic() < started + limit:
            described = sfn.describe_execution(executionArn=execution)
            if described["status"] != "RUNNING":
                return described, time.monotonic() - started
            for token in orchestration.tokens:
                if wake and token not in woken:
                    woken.add(token)
                    sfn.send_task_success(taskToken=token, output="{}")
            time.sleep(0.02)
    pytest.fail(f"state machine did not finish within {limit} s")


def test_a_woken_progress_wait_polls_at_once(monkeypatch):
    # Given a 30 s poll interval and an event for every wait
    orchestration = Orchestration(polls=2, wait=30)
    # When the state machine runs
    result, took = _run(monkeypatch, orchestration, wake=True)
    # Then each wait stored its token and was woken into the poll: the
    # execution ended long before one interval
    assert result["status"] == "SUCCEEDED"
    assert orchestration.actions == [
        "begin",
        "store_progress_token",
        "poll_wave_status",
        "store_progress_token",
        "poll_wave_status",
    ]
    assert took < 30


def test_a_wait_nobody_wakes_times_out_into_the_same_poll(monkeypatch):
    # Given a 1 s poll interval and no event at all
    orchestration = Orchestration(polls=2, wait=1)
    # When the state machine runs
    result, _took = _run(monkeypatch, orchestration)
    # Then every wait ended by its timeout (the backstop) and polled
    assert result["status"] == "SUCCEEDED"
    assert orchestration.actions.count("poll_wave_status") == 2
    assert orchestration.actions.count("store_progress_token") == 2


def test_a_wait_that_cannot_store_its_token_sleeps_instead(monkeypatch):
    # Given a store that fails (e.g. the table refuses it)
    orchestration = Orchestration(polls=1, wait=1, store_fails=True)
    # When the state machine runs
    result, _took = _run(monkeypatch, orchestration)
    # Then it slept the poll interval (no hot loop) and still completed
    assert result["status"] == "SUCCEEDED"
    assert orchestration.actions == [
        "begin",
        "store_progress_token",
        "poll_wave_status",
    ]


def test_the_mode_routes_running_waves_to_the_right_wait():
    # Given the status choice
    states = asl()["States"]
    choice = states["CheckStatus"]
    poll = [
        c
        for c in choice["Choices"]
        if c.get("Variable") == ("$.progress_mode")
    ]
    # Then poll mode sleeps, anything else waits for progress, whose
    # timeout is the poll interval and whose every outcome polls
    assert poll[0]["StringEquals"] == "poll"
    assert states[poll[0]["Next"]]["Type"] == "Wait"
    wait = states[choice["Default"]]
    assert wait["Resource"].endswith("lambda:invoke.waitForTaskToken")
    assert wait["TimeoutSecondsPath"] == (
        "$.application.current_wave_update_time"
    )
    assert wait["Next"] == "PollWaveStatus"
    catches = {c["ErrorEquals"][0]: c["Next"] for c in wait["Catch"]}
    assert catches == {
        "States.Timeout": "PollWaveStatus",
        "States.ALL": "WaitForWave",
    }
    # And every task that leads to the choice carries the mode
    for name in ("Begin", "PollWaveStatus", "ResumeWave"):
        selector = states[name]["ResultSelector"]
        assert selector["progress_mode"] == "${WaveProgressMode}"
