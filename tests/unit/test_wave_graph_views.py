"""How a plan's graph and an execution's waves are shown (issue 17):
``graph`` on a plan answer (``shared.wave_graph.plan_graph``) and each
wave's ``waitingFor`` / ``readyTime`` (``wave_waits``) in
``get_execution_details`` and ``GET /executions/{id}/waves``."""

import pytest

from shared.wave_graph import APPROVAL, plan_graph, wave_waits
from tests.helpers import load_handler
from tests.unit.test_wave_approvals import BRANCHES, GENERIC
from tests.unit.wave_engine_support import plan_event, wave_engine


def _waves(*depends):
    """Waves 1..n; ``depends[i]`` is wave i+1's dependsOnWaves (None:
    absent)."""
    waves = []
    for number, named in enumerate(depends, start=1):
        wave = {"waveNumber": number, "waveName": f"W{number}"}
        if named is not None:
            wave["dependsOnWaves"] = list(named)
        waves.append(wave)
    return waves


@pytest.mark.parametrize(
    "depends",
    [
        (None, None, None),  # today's plans
        ([], [], []),  # saved before graphs: [] everywhere
        ([], [1], [2]),  # a chain written out
        (None, [1], None),  # absent: the wave before
    ],
)
def test_a_linear_plan_is_reported_linear(depends):
    # Given a plan whose waves can only run one after the other
    waves = _waves(*depends)
    # When its graph is described
    graph = plan_graph(waves)
    # Then it is linear, starts with wave 1 and its chain holds every wave
    assert graph == {"linear": True, "roots": [1], "longestChain": [1, 2, 3]}


def test_a_branching_plan_names_its_roots_and_longest_chain():
    # Given ERP db(1) -> app(2) | batch(3) -> web(4), CRM db(5) -> web(6)
    waves = _waves([], [1], [1], [2, 3], [], [5])
    # When its graph is described
    graph = plan_graph(waves)
    # Then it is not linear: two roots, the longest chain ends at the join
    assert graph == {
        "linear": False,
        "roots": [1, 5],
        "longestChain": [1, 2, 4],
    }


def _record(status, waves):
    return {"executionId": "e", "status": status, "waves": waves}


def test_waiting_for_names_unfinished_dependencies_and_approval():
    # Given a running graph: 1 completed, 2 started, 3 waits for
    # approval, 4 depends on 2 and 3, 5 on 1 only (about to start)
    waves = _waves([], [1], [], [2, 3], [1])
    for wave, status in zip(
        waves,
        ["COMPLETED", "STARTED", "WAITING_APPROVAL", "PENDING", "PENDING"],
    ):
        wave["status"] = status
    waves[0]["startTime"] = "2026-12-07T10:00:00+00:00"
    waves[1]["startTime"] = "2026-12-07T10:05:00+00:00"
    waves[2]["readyTime"] = "2026-12-07T10:00:01+00:00"
    # When the waves' waits are computed
    waits = wave_waits(_record("RUNNING", waves))
    # Then each says what it waits for and when it became ready
    assert waits[0] == {"readyTime": "2026-12-07T10:00:00+00:00"}
    assert waits[1] == {"readyTime": "2026-12-07T10:05:00+00:00"}
    assert waits[2] == {
        "readyTime": "2026-12-07T10:00:01+00:00",
        "waitingFor": [APPROVAL],
    }
    assert waits[3] == {"waitingFor": [2, 3]}
    assert waits[4] == {"waitingFor": []}


def test_a_linear_record_waits_for_the_wave_before():
    # Given a record without dependsOnWaves (a linear plan, or a record
    # written before graphs): wave 2 runs
    waves = _waves(None, None, None)
    for wave, status in zip(waves, ["COMPLETED", "STARTED", "PENDING"]):
        wave["status"] = status
    # When the waits are computed
    waits = wave_waits(_record("RUNNING", waves))
    # Then wave 3 waits for wave 2
    assert waits[2] == {"waitingFor": [2]}


def test_a_finished_execution_waits_for_nothing():
    # Given a FAILED execution whose last wave never started
    waves = _waves(None, None)
    waves[0]["status"], waves[1]["status"] = "FAILED", "SKIPPED"
    # When the waits are computed
    waits = wave_waits(_record("FAILED", waves))
    # Then no wave shows waitingFor (nothing will start)
    assert waits == [{}, {}]


@pytest.fixture
def engine(monkeypatch):
    with wave_engine(monkeypatch) as eng:
        eng.add_group("pg-db", sourceServerIds=eng.ids("erp-db"))
        eng.add_group("pg-web", sourceServerIds=eng.ids("erp-web"))
        eng.add_group("pg-app", sourceServerIds=eng.ids("erp-app"))
        yield eng


def _ask(operation, execution_id):
    handler = load_handler("execution-handler").lambda_handler
    return handler(
        {"operation": operation, "body": {"executionId": execution_id}},
        None,
    )


def test_execution_details_and_waves_show_waits(engine):
    # Given a graph execution paused: DB and Web wait for approval, App
    # waits for DB
    handler = load_handler(GENERIC).lambda_handler
    state = handler(plan_event(BRANCHES), None)
    assert state["status"] == "paused"
    for operation in ("get_execution_details", "get_execution_waves"):
        # When the execution's waves are read
        answer = _ask(operation, "exec-1")
        waves = {w["waveNumber"]: w for w in answer["waves"]}
        # Then the waiting waves say approval and when they became ready
        for number in (1, 2):
            assert waves[number]["waitingFor"] == ["approval"], answer
            assert waves[number]["readyTime"]
        # And App names the wave it waits for, and is not ready yet
        assert waves[3]["waitingFor"] == [1]
        assert "readyTime" not in waves[3]
