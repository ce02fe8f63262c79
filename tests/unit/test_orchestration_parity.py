"""Generic vs legacy orchestration: the same plan gives identical states
and execution records (ids and timestamps aside)."""

from tests.helpers import REGION
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
# Values that differ run to run: wall-clock times and moto's random ids.
VOLATILE = {
    "startTime",
    "endTime",
    "launchTime",
    "updatedTime",
    "start_time",
    "end_time",
    "duration_seconds",
    "durationSeconds",
    "instanceId",
    "recoveryInstanceId",
    "privateIp",
}


def _stable(value):
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


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
    assert [_stable(s) for s in g_states] == [_stable(s) for s in l_states]
    assert _stable(g_record) == _stable(l_record)
    assert g_jobs == l_jobs
    # And only the generic function went through Lambda invokes
    assert {c["fn"] for c in g_calls} == {"execution-handler", "query-handler"}
    assert l_calls == []
