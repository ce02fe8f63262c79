"""Generic vs legacy orchestration: the same plan gives identical states
and execution records (ids and timestamps aside)."""

from tests.helpers import REGION
from tests.wave_parity import stable
from tests.unit.wave_engine_support import HUB, drive, plan_event, wave_engine

WAVES = [
    {"waveNumber": 1, "waveName": "Databases", "protectionGroupId": "pg-db"},
    {"waveNumber": 2, "waveName": "Apps", "protectionGroupId": "pg-app"},
    {
        "waveNumber": 3,
        "waveName": "Web",
        "protectionGroupId": "pg-web",
        "pauseBeforeWave": True,
    },
]


def _run(monkeypatch, folder):
    with wave_engine(monkeypatch) as engine:
        engine.add_group(
            "pg-db",
            sourceServerIds=engine.ids("erp-db"),
            launchConfig={"instanceType": "r5.2xlarge"},
        )
        engine.add_group("pg-app", serverSelectionTags={"Tier": "application"})
        engine.add_group("pg-web", sourceServerIds=engine.ids("erp-web"))
        states = drive(engine, folder, plan_event(WAVES))
        record = engine.record("exec-1")
        jobs = [j.job_id for j in engine.sim.jobs(HUB, REGION)]
        return states, record, jobs, list(engine.invocations)


def test_generic_and_legacy_produce_identical_states_and_records(
    monkeypatch,
):
    # Given the same three-wave plan (ids, tags, a pause) in two fresh
    # local clouds
    # When run through the generic and then the legacy function
    g_states, g_record, g_jobs, g_calls = _run(
        monkeypatch, "dr-orchestration-stepfunction"
    )
    l_states, l_record, l_jobs, l_calls = _run(
        monkeypatch, "orchestration-stepfunctions"
    )
    # Then both completed the plan
    assert g_states[-1]["status"] == "completed"
    assert g_record["status"] == "COMPLETED"
    assert len(g_jobs) == 3
    # And every state and the record match, timestamps and ids aside
    assert [stable(s) for s in g_states] == [stable(s) for s in l_states]
    assert stable(g_record) == stable(l_record)
    assert g_jobs == l_jobs
    # And only the generic function went through Lambda invokes
    assert {c["fn"] for c in g_calls} == {"execution-handler", "query-handler"}
    assert l_calls == []
