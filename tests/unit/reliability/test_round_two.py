"""The fault matrix's round-two cases (chunks, the wave graph, events
mode) and their helpers, without a local cloud."""

from types import SimpleNamespace

import pytest

from reliability import fault_matrix, round_two
from reliability.fault_ops import CaseFailure

CASES = {c.name: c for c in fault_matrix.cases()}
ROUND_TWO = (
    "chunks-queued-cancel",
    "chunk-start-throttled",
    "multi-job-wave-server-fails",
    "graph-branch-failure",
    "graph-approval-while-branch-runs",
    "events-mode-dropped",
    "events-mode-duplicated",
    "events-mode-late",
    "events-mode-cancel-wakes-wait",
)


@pytest.mark.parametrize("name", ROUND_TWO)
def test_each_round_two_feature_has_its_case(name):
    case = CASES[name]
    # Its expected wave statuses cover every wave of its plan
    if case.wave_statuses is not None:
        assert len(case.wave_statuses) == len(case.waves)
    # Its settings are the template's (the functions read them)
    assert set(case.env) <= {
        "DRS_MAX_SERVERS_PER_JOB",
        "DRS_MAX_CONCURRENT_JOBS",
        "WAVE_POLL_INTERVAL_SECONDS",
    }


def test_a_graph_case_carries_its_dependencies():
    waves = CASES["graph-branch-failure"].waves
    assert [w[2] for w in waves] == [[], [1], []]


class _Lambda:
    def __init__(self, env):
        self.env = env

    def get_function_configuration(self, FunctionName):
        return {"Environment": {"Variables": dict(self.env[FunctionName])}}

    def update_function_configuration(self, FunctionName, Environment):
        self.env[FunctionName] = dict(Environment["Variables"])


def _cloud(env):
    lam = _Lambda(env)
    return (
        SimpleNamespace(function_names=list(env), client=lambda _service: lam),
        lam,
    )


def test_function_env_sets_the_readers_and_restores_them():
    cloud, lam = _cloud({"a": {"X": "1", "Y": "2"}, "b": {"Y": "3"}})
    with round_two.function_env(cloud, {"X": "9"}):
        assert lam.env == {"a": {"X": "9", "Y": "2"}, "b": {"Y": "3"}}
    assert lam.env == {"a": {"X": "1", "Y": "2"}, "b": {"Y": "3"}}


def test_function_env_refuses_a_variable_no_function_reads():
    cloud, lam = _cloud({"a": {"X": "1"}})
    with pytest.raises(CaseFailure, match="no function reads"):
        with round_two.function_env(cloud, {"NOPE": "1"}):
            pass
    assert lam.env == {"a": {"X": "1"}}


def _history(*steps):
    events = []
    for kind, name in steps:
        event = {"id": len(events) + 1, "type": kind}
        if name:
            event["stateEnteredEventDetails"] = {"name": name}
        events.append(event)
    sfn = SimpleNamespace(
        get_execution_history=lambda **_kw: {"events": list(events)}
    )
    return SimpleNamespace(cloud=SimpleNamespace(client=lambda _service: sfn))


def test_waiting_is_the_newest_state_whatever_the_history_order():
    poll = [("TaskStateEntered", "PollWaveStatus"), ("TaskSucceeded", None)]
    wait = [("TaskStateEntered", "WaitForProgress"), ("TaskScheduled", None)]
    assert round_two._in_progress_wait(_history(*poll, *wait), "arn")
    ended = wait + [("TaskTimedOut", None)]
    assert not round_two._in_progress_wait(_history(*ended), "arn")
    assert not round_two._in_progress_wait(_history(*wait, *poll), "arn")
    assert round_two._progress_waits(_history(*ended), "arn") == ["timeout"]
