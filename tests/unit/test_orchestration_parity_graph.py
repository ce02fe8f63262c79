"""Generic vs legacy orchestration on a branching plan (issue 17): both
functions run the same graph (a fork, a join, a pause on one branch, a
failed branch) to identical states and execution records, ids and
timestamps aside."""

from tests.helpers import REGION
from tests.unit.test_orchestration_parity import _assert_same_runs
from tests.unit.wave_engine_support import HUB, drive, plan_event, wave_engine

FOLDERS = ("dr-orchestration-stepfunction", "orchestration-stepfunctions")
# DB -> (App | Batch, paused) -> Web: one fork, one join.
GRAPH = [
    {
        "waveNumber": 1,
        "waveName": "DB",
        "protectionGroupId": "pg-db",
        "dependsOnWaves": [],
    },
    {
        "waveNumber": 2,
        "waveName": "App",
        "protectionGroupId": "pg-app",
        "dependsOnWaves": [1],
    },
    {
        "waveNumber": 3,
        "waveName": "Batch",
        "protectionGroupId": "pg-batch",
        "dependsOnWaves": [1],
        "pauseBeforeWave": True,
    },
    {
        "waveNumber": 4,
        "waveName": "Web",
        "protectionGroupId": "pg-web",
        "dependsOnWaves": [2, 3],
    },
]


def _run(monkeypatch, folder, faults=None):
    """One run of GRAPH: (states, record, LAUNCH job waves in start
    order, running recovery instances)."""
    with wave_engine(monkeypatch, faults=faults) as engine:
        apps = engine.ids("erp-app")
        engine.add_group("pg-db", sourceServerIds=engine.ids("erp-db"))
        engine.add_group("pg-app", sourceServerIds=apps[:2])
        engine.add_group("pg-batch", sourceServerIds=apps[2:])
        engine.add_group("pg-web", sourceServerIds=engine.ids("erp-web"))
        states = drive(engine, folder, plan_event(GRAPH), max_steps=40)
        record = engine.record("exec-1")
        jobs = [
            j.tags.get("DRSOrchWave")
            for j in engine.sim.jobs(HUB, REGION)
            if j.type == "LAUNCH"
        ]
        engine.advance(600)
        return states, record, jobs, engine.running_recovery_instances()


def test_a_branching_plan_runs_the_same_in_both_functions(monkeypatch):
    # Given DB -> (App | Batch with a pause) -> Web in two fresh clouds
    # When run through the generic and then the legacy function
    generic, legacy = (_run(monkeypatch, folder) for folder in FOLDERS)
    # Then the generic run went through the graph: App started while
    # Batch waited for approval, and the run paused only once App ended
    states, record = generic[0], generic[1]
    assert states[-1]["status"] == "completed"
    assert record["status"] == "COMPLETED"
    assert generic[2] == ["0", "1", "2", "3"]
    assert any(
        s["status"] == "running" and s.get("waiting_waves") == [2]
        for s in states
    )
    assert [s["status"] for s in states].count("paused") == 1
    # And every state, the record and the DRS jobs match the legacy run
    _assert_same_runs(generic, legacy)


def test_a_failed_branch_ends_both_functions_the_same_way(monkeypatch):
    # Given an App server whose launch fails, in both runs
    faults = [{"type": "launch_failure", "server": "erp-app-01"}]
    # When the graph runs through the generic and the legacy function
    generic, legacy = (_run(monkeypatch, folder, faults) for folder in FOLDERS)
    # Then App failed, Web (its dependent) was skipped, Batch ran, and
    # the execution FAILED naming them
    record = generic[1]
    assert record["status"] == "FAILED"
    statuses = [w["status"] for w in record["waves"]]
    assert statuses == ["COMPLETED", "FAILED", "COMPLETED", "SKIPPED"]
    assert "Web" in record["error"]
    # And both functions got there the same way
    _assert_same_runs(generic, legacy)
