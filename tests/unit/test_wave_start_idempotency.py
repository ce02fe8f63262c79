"""start_wave_recovery claims the wave first: a retried start returns
the existing job, a cancelled execution starts nothing, a terminal record
is never written (issue 6, item 2)."""

import copy

import pytest
from botocore.exceptions import ClientError

import wave_recovery
from shared.wave_state import save_wave
from tests.helpers import REGION
from tests.unit.wave_engine_support import HUB, TWO_WAVES as WAVES
from tests.unit.wave_engine_support import base_state, wave_engine


@pytest.fixture
def engine(monkeypatch):
    with wave_engine(monkeypatch) as eng:
        eng.add_group("pg-db", sourceServerIds=eng.ids("erp-db"))
        yield eng


@pytest.mark.parametrize(
    "status, wave_status",
    [("CANCELLED", "PENDING"), ("CANCELLING", "CANCELLED")],
)
def test_start_on_a_cancelled_execution_starts_no_job(
    engine, status, wave_status
):
    # Given the execution was cancelled before the wave started
    engine.add_record("exec-1", total_waves=2, status=status)
    # When the wave starts
    result = wave_recovery.start_wave_recovery(base_state(WAVES), 0)
    # Then DRS started no job
    assert engine.sim.jobs(HUB, REGION) == []
    # And the state ends cancelled with both completion flags
    assert result["status"] == "cancelled"
    assert result["wave_completed"] and result["all_waves_completed"]
    assert result["error_code"] == "EXECUTION_CANCELLED"
    assert result["job_id"] is None
    # And the record's wave was not claimed: recorded CANCELLED while
    # cancelling, an ended (CANCELLED) record is not written
    wave = engine.record("exec-1")["waves"][0]
    assert wave["status"] == wave_status
    assert "jobId" not in wave


def test_start_on_a_finished_execution_fails_without_a_job(engine):
    # Given the execution already failed
    engine.add_record("exec-1", total_waves=2, status="FAILED")
    # When the wave starts
    result = wave_recovery.start_wave_recovery(base_state(WAVES), 0)
    # Then no job was started and the state failed, saying why
    assert engine.sim.jobs(HUB, REGION) == []
    assert result["status"] == "failed"
    assert result["error_code"] == "EXECUTION_NOT_RUNNING"


def test_a_second_start_of_the_same_wave_returns_the_same_job(engine):
    # Given a running execution and a state about to start wave 0
    engine.add_record("exec-1", total_waves=2)
    state = base_state(WAVES)
    first = wave_recovery.start_wave_recovery(copy.deepcopy(state), 0)
    # When the same start arrives again (a retried invoke)
    second = wave_recovery.start_wave_recovery(copy.deepcopy(state), 0)
    # Then DRS got one StartRecovery
    jobs = engine.sim.jobs(HUB, REGION)
    assert len(jobs) == 1
    # And both states name that job, its region and servers
    assert first["job_id"] == second["job_id"] == jobs[0].job_id
    assert second["status"] == "running" and not second["wave_completed"]
    assert second["region"] == REGION
    assert second["server_ids"] == first["server_ids"]
    assert second["wave_results"] == first["wave_results"]
    assert second["job_account_context"] == first["job_account_context"]


def test_save_wave_refuses_a_terminal_record(engine):
    # Given a completed execution
    engine.add_record("exec-1", total_waves=2, status="COMPLETED")
    # When a late writer saves a wave
    with pytest.raises(ClientError) as caught:
        save_wave("exec-1", 0, {"status": "FAILED"})
    # Then the write is refused and the record unchanged
    code = caught.value.response["Error"]["Code"]
    assert code == "ConditionalCheckFailedException"
    assert engine.record("exec-1")["waves"][0]["status"] == "PENDING"


def test_a_state_without_a_job_adopts_the_recorded_job_on_poll(engine):
    # Given wave 0 was started by one invocation while another returned
    # a state without a job (the wave was being started)
    engine.add_record("exec-1", total_waves=2)
    state = base_state(WAVES)
    started = wave_recovery.start_wave_recovery(copy.deepcopy(state), 0)
    state.update(current_wave_number=0, job_id=None, server_ids=[])
    # When the state is polled
    import wave_status

    result = wave_status.poll_wave_status(state)
    # Then it follows the recorded job
    assert result["job_id"] == started["job_id"]
    assert result["status"] == "running"


@pytest.mark.parametrize(
    "status, ends", [("CANCELLED", "cancelled"), ("FAILED", "failed")]
)
def test_poll_of_an_execution_ended_elsewhere_ends_without_writing(
    engine, status, ends
):
    # Given a started wave whose execution then ended outside the state
    # machine (e.g. a cancellation settled by the lifecycle API)
    engine.add_record("exec-1", total_waves=2)
    state = wave_recovery.start_wave_recovery(base_state(WAVES), 0)
    engine.history.update_item(
        Key={"executionId": "exec-1"},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": status},
    )
    before = engine.record("exec-1")
    # When the state is polled
    import wave_status

    result = wave_status.poll_wave_status(state)
    # Then the state ends (no error escapes)
    assert result["status"] == ends and result["wave_completed"]
    # And the ended record was not written
    assert engine.record("exec-1") == before
