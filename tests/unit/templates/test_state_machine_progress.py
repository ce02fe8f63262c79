"""The progress wait (WaveProgressMode events, issue 18) executed by moto's
Step Functions interpreter with a scripted orchestration function.

A woken wait and a timed-out wait both lead to the same poll; a wait
whose token cannot be stored falls back to the sleeping wait.
"""

from tests.unit.templates.cfn_helpers import asl
from tests.unit.templates.test_state_machine import (
    ScriptedOrchestration,
    _run,
)


class Orchestration(ScriptedOrchestration):
    """Begin, then ``polls`` polls until completed; the progress wait's
    token is kept as ``token`` (``_run`` sends it when told to resume)
    or its store fails (``store_fails``)."""

    def __init__(self, polls=2, wait=1, store_fails=False):
        super().__init__(self._answer)
        self.polls, self.wait, self.store_fails = polls, wait, store_fails

    def _answer(self, event):
        if event["action"] == "store_progress_token":
            if self.store_fails:
                raise RuntimeError("store refused")
            self.token = event["taskToken"]
            return {"stored": True}
        done = self.actions().count("poll_wave_status") >= self.polls
        return {
            "execution_id": "exec-1",
            "status": "completed" if done else "running",
            "all_waves_completed": done,
            "current_wave_update_time": self.wait,
        }


def test_a_woken_progress_wait_polls_at_once(monkeypatch):
    # Given a 30 s poll interval and an event for every wait
    orchestration = Orchestration(polls=2, wait=30)
    # When the state machine runs (its harness gives up after 20 s)
    result = _run(monkeypatch, orchestration, resume_with={}, mode="events")
    # Then each wait stored its token and was woken into the poll: the
    # execution ended before one interval
    assert result["status"] == "SUCCEEDED"
    assert orchestration.actions() == [
        "begin",
        "store_progress_token",
        "poll_wave_status",
        "store_progress_token",
        "poll_wave_status",
    ]


def test_a_wait_nobody_wakes_times_out_into_the_same_poll(monkeypatch):
    # Given a 1 s poll interval and no event at all
    orchestration = Orchestration(polls=2, wait=1)
    # When the state machine runs
    result = _run(monkeypatch, orchestration, mode="events")
    # Then every wait ended by its timeout (the backstop) and polled
    assert result["status"] == "SUCCEEDED"
    assert orchestration.actions().count("poll_wave_status") == 2
    assert orchestration.actions().count("store_progress_token") == 2


def test_a_wait_that_cannot_store_its_token_sleeps_instead(monkeypatch):
    # Given a store that fails (e.g. the table refuses it)
    orchestration = Orchestration(polls=1, wait=1, store_fails=True)
    # When the state machine runs
    result = _run(monkeypatch, orchestration, mode="events")
    # Then it slept the poll interval (no hot loop) and still completed
    assert result["status"] == "SUCCEEDED"
    assert orchestration.actions() == [
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
