"""Generic vs legacy orchestration: the same plan gives identical states
and execution records (ids and timestamps aside)."""

from botocore.exceptions import ClientError

import wave_recovery
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


def _run(monkeypatch, folder, waves=WAVES):
    with wave_engine(monkeypatch) as engine:
        engine.add_group(
            "pg-db",
            sourceServerIds=engine.ids("erp-db"),
            launchConfig={"instanceType": "r5.2xlarge"},
        )
        engine.add_group("pg-app", serverSelectionTags={"Tier": "application"})
        engine.add_group("pg-web", sourceServerIds=engine.ids("erp-web"))
        states = drive(engine, folder, plan_event(waves))
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


def _claim_throttled_for_wave_1(monkeypatch):
    """DynamoDB refuses the claim of wave 1: start_wave_recovery raises
    (in the execution-handler for generic, in-process for legacy)."""
    real = wave_recovery.claim_wave

    def claim(execution_id, index, table=None):
        if index == 1:
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException"}},
                "UpdateItem",
            )
        return real(execution_id, index, table=table)

    monkeypatch.setattr(wave_recovery, "claim_wave", claim)


def test_a_failed_next_wave_start_ends_both_functions_the_same_way(
    monkeypatch,
):
    # Given a two-wave plan whose second wave cannot be started
    _claim_throttled_for_wave_1(monkeypatch)
    # When run through the generic and then the legacy function
    g_states, g_record, g_jobs, _ = _run(
        monkeypatch, "dr-orchestration-stepfunction", WAVES[:2]
    )
    l_states, l_record, l_jobs, _ = _run(
        monkeypatch, "orchestration-stepfunctions", WAVES[:2]
    )
    # Then the generic run failed on wave 1 after completing wave 0
    final = g_states[-1]
    assert final["status"] == "failed"
    assert final["error_code"] == "WAVE_START_INVOCATION_FAILED"
    assert "ProvisionedThroughputExceededException" in final["error"]
    assert final["current_wave_number"] == 1
    assert [w["status"] for w in final["wave_results"]] == [
        "COMPLETED",
        "FAILED",
    ]
    assert g_record["status"] == "FAILED"
    assert [w["status"] for w in g_record["waves"]] == ["COMPLETED", "FAILED"]
    assert len(g_jobs) == 1
    # And the legacy run produced the same states, record and jobs
    assert [stable(s) for s in g_states] == [stable(s) for s in l_states]
    assert stable(g_record) == stable(l_record)
    assert g_jobs == l_jobs
