"""Generic vs legacy orchestration: the same plan gives identical states
and execution records (ids and timestamps aside)."""

from botocore.exceptions import ClientError

import wave_recovery
import wave_status
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
        jobs = [
            j.job_id
            for j in engine.sim.jobs(HUB, REGION)
            if j.type == "LAUNCH"
        ]
        # Let any TERMINATE job of a drill cleanup run to its end.
        engine.advance(600)
        running = engine.running_recovery_instances()
        return states, record, jobs, list(engine.invocations), running


def test_generic_and_legacy_produce_identical_states_and_records(
    monkeypatch,
):
    # Given the same three-wave plan (ids, tags, a pause) in two fresh
    # local clouds
    # When run through the generic and then the legacy function
    g_states, g_record, g_jobs, g_calls, g_running = _run(
        monkeypatch, "dr-orchestration-stepfunction"
    )
    l_states, l_record, l_jobs, l_calls, l_running = _run(
        monkeypatch, "orchestration-stepfunctions"
    )
    # Then both completed the plan
    assert g_states[-1]["status"] == "completed"
    assert g_record["status"] == "COMPLETED"
    assert len(g_jobs) == 3
    # And a COMPLETED drill keeps its instances for the user's tests
    assert "terminations" not in g_record
    assert len(g_running) == len(l_running) > 0
    # And every state and the record match, timestamps and ids aside
    assert [stable(s) for s in g_states] == [stable(s) for s in l_states]
    assert stable(g_record) == stable(l_record)
    assert g_jobs == l_jobs
    # And only the generic function went through Lambda invokes
    assert {c["fn"] for c in g_calls} == {"execution-handler", "query-handler"}
    assert l_calls == []


def _claim_throttled_for_wave(monkeypatch, wave_index=1):
    """DynamoDB refuses the claim of wave ``wave_index``:
    start_wave_recovery raises (in the execution-handler for generic,
    in-process for legacy)."""
    real = wave_recovery.claim_wave

    def claim(execution_id, index, table=None):
        if index == wave_index:
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException"}},
                "UpdateItem",
            )
        return real(execution_id, index, table=table)

    monkeypatch.setattr(wave_recovery, "claim_wave", claim)


def _run_both(monkeypatch, waves=WAVES):
    """(generic, legacy) runs of ``waves``: (states, record, jobs,
    running recovery instances)."""
    return tuple(
        _pick(_run(monkeypatch, folder, waves))
        for folder in (
            "dr-orchestration-stepfunction",
            "orchestration-stepfunctions",
        )
    )


def _assert_cleaned_up(record, running):
    """One drill cleanup after the failure; no instance left running."""
    (termination,) = record["terminations"]
    assert termination["terminatedBy"] == "drill cleanup after failure"
    assert termination["recoveryInstanceIds"]
    assert running == []


def _pick(run):
    states, record, jobs, _calls, running = run
    return states, record, jobs, running


def _assert_same_runs(generic, legacy):
    """Every state, the record, the DRS jobs and the count of running
    recovery instances match, volatile aside."""
    assert [stable(s) for s in generic[0]] == [stable(s) for s in legacy[0]]
    assert stable(generic[1]) == stable(legacy[1])
    assert generic[2] == legacy[2]
    assert len(generic[3]) == len(legacy[3])


def test_a_failed_next_wave_start_ends_both_functions_the_same_way(
    monkeypatch,
):
    # Given a two-wave plan whose second wave cannot be started
    _claim_throttled_for_wave(monkeypatch, 1)
    # When run through the generic and then the legacy function (the
    # poll's error propagates; its retries exhausted, the state
    # machine's catch records the failure)
    g_states, g_record, g_jobs, _, g_running = _run(
        monkeypatch, "dr-orchestration-stepfunction", WAVES[:2]
    )
    l_states, l_record, l_jobs, _, l_running = _run(
        monkeypatch, "orchestration-stepfunctions", WAVES[:2]
    )
    # Then the generic run failed after completing wave 0, in our words
    final = g_states[-1]
    assert final["status"] == "failed"
    assert final["error_code"] == "ORCHESTRATION_ERROR"
    assert "An error occurred" not in final["error"]
    assert g_record["status"] == "FAILED"
    assert "An error occurred" not in g_record["statusReason"]
    # And the record says what happened: wave 0 completed, wave 1 never
    # started (no DRS job)
    assert [w["status"] for w in g_record["waves"]] == [
        "COMPLETED",
        "PENDING",
    ]
    assert len(g_jobs) == 1
    # And the failed drill's wave-0 instances were terminated, once
    _assert_cleaned_up(g_record, g_running)
    # And the legacy run produced the same states, record and jobs
    assert [stable(s) for s in g_states] == [stable(s) for s in l_states]
    assert stable(g_record) == stable(l_record)
    assert g_jobs == l_jobs
    assert l_running == []


THROTTLED = (
    "ClientError: An error occurred (ProvisionedThroughputExceededException)"
    " when calling the UpdateItem operation: Unknown"
)


def test_a_failed_first_wave_start_ends_both_functions_the_same_way(
    monkeypatch,
):
    # Given a plan whose first wave cannot be started (begin)
    _claim_throttled_for_wave(monkeypatch, 0)
    # When run through the generic and then the legacy function
    generic, legacy = _run_both(monkeypatch)
    # Then begin itself failed the generic run on wave 0, no DRS job
    states, record, jobs, running = generic
    assert len(states) == 1
    final = states[-1]
    assert final["status"] == "failed" and final["wave_completed"]
    assert final["error_code"] == "WAVE_START_INVOCATION_FAILED"
    started = f"starting Databases failed: {THROTTLED}"
    # (naming the waves that then never started: issue 17)
    assert final["error"] == (
        f"{started}; not started: Apps (Databases failed), "
        "Web (Apps was skipped)"
    )
    assert final["current_wave_number"] == 0
    assert [w["status"] for w in final["wave_results"]] == [
        "FAILED",
        "SKIPPED",
        "SKIPPED",
    ]
    assert record["status"] == "FAILED"
    assert record["errorCode"] == "WAVE_START_INVOCATION_FAILED"
    assert record["error"] == final["error"]
    assert [w["status"] for w in record["waves"]] == [
        "FAILED",
        "SKIPPED",
        "SKIPPED",
    ]
    assert record["waves"][0]["error"] == started
    assert jobs == []
    # And with nothing launched there was nothing to terminate
    assert "terminations" not in record and running == []
    # And the legacy run produced the same states, record and jobs
    _assert_same_runs(generic, legacy)


def test_a_failed_resumed_wave_start_ends_both_functions_the_same_way(
    monkeypatch,
):
    # Given the three-wave plan whose paused third wave cannot be started
    _claim_throttled_for_wave(monkeypatch, 2)
    # When run through the generic and then the legacy function
    generic, legacy = _run_both(monkeypatch)
    # Then resume_wave failed the generic run on wave 2 after two waves
    states, record, jobs, running = generic
    assert [s["status"] for s in states][-2:] == ["paused", "failed"]
    final = states[-1]
    assert final["error_code"] == "WAVE_START_INVOCATION_FAILED"
    assert final["error"] == f"starting Web failed: {THROTTLED}"
    assert final["current_wave_number"] == 2
    assert final["paused_before_wave"] is None
    assert [w["status"] for w in final["wave_results"]] == [
        "COMPLETED",
        "COMPLETED",
        "FAILED",
    ]
    assert record["status"] == "FAILED"
    assert record["errorCode"] == "WAVE_START_INVOCATION_FAILED"
    assert [w["status"] for w in record["waves"]] == [
        "COMPLETED",
        "COMPLETED",
        "FAILED",
    ]
    assert record["waves"][2]["errorCode"] == "WAVE_START_INVOCATION_FAILED"
    assert len(jobs) == 2
    # And the failed drill's instances of both waves were terminated
    _assert_cleaned_up(record, running)
    # And the legacy run produced the same states, record and jobs
    _assert_same_runs(generic, legacy)


def test_a_failed_poll_ends_both_functions_the_same_way(monkeypatch):
    # Given a plan whose execution record cannot be read by the poll
    def get_execution(execution_id, table=None):
        raise ClientError(
            {"Error": {"Code": "InternalServerError"}}, "GetItem"
        )

    monkeypatch.setattr(wave_status, "get_execution", get_execution)
    # When run through the generic and then the legacy function (the
    # poll's error propagates; its retries exhausted, the state
    # machine's catch records the failure)
    generic, legacy = _run_both(monkeypatch)
    # Then the generic run failed, in our words
    states, record, _, running = generic
    assert [s["status"] for s in states] == ["running", "failed"]
    final = states[-1]
    assert final["error_code"] == "ORCHESTRATION_ERROR"
    assert "An error occurred" not in final["error"]
    assert record["status"] == "FAILED"
    assert record["errorCode"] == "ORCHESTRATION_ERROR"
    # And what wave 0 launched before the failure was terminated
    assert running == []
    # And the legacy run produced the same states, record and jobs
    _assert_same_runs(generic, legacy)
