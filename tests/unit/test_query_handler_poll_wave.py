"""poll_wave_status (query-handler), tasks 2.10-2.16 of seeds/003."""

import pytest
from botocore.exceptions import ClientError

from shared.errors import InvocationError

import wave_observation
import wave_recovery
import wave_status
from tests.helpers import REGION, load_handler
from tests.unit.wave_engine_support import HUB, base_state, wave_engine

ONE_WAVE = [
    {"waveNumber": 1, "waveName": "Databases", "protectionGroupId": "pg-db"}
]
TWO_WAVES = ONE_WAVE + [
    {"waveNumber": 2, "waveName": "Apps", "protectionGroupId": "pg-app"}
]


def _started(engine, waves, **overrides):
    """A state whose first wave runs (the two ERP database servers)."""
    engine.add_group("pg-db", sourceServerIds=engine.ids("erp-db"))
    engine.add_group("pg-app", sourceServerIds=engine.ids("erp-app"))
    engine.add_record("exec-1", total_waves=len(waves))
    state = wave_recovery.start_wave_recovery(
        base_state(waves, **overrides), 0
    )
    assert state["status"] == "running", state.get("error")
    return state


def _poll(state):
    handler = load_handler("query-handler")
    return handler.lambda_handler(
        {"action": "poll_wave_status", "state": state}, None
    )


@pytest.fixture
def engine(monkeypatch):
    with wave_engine(monkeypatch) as eng:
        yield eng


def test_wave_in_progress_keeps_polling(engine):
    # Given a running wave that is in its snapshot/conversion phases
    state = _started(engine, ONE_WAVE)
    engine.advance(100)
    # When polled
    result = _poll(state)
    # Then it is still running, the wait time counted, phases recorded
    assert result["status"] == "running" and not result["wave_completed"]
    assert result["current_wave_total_wait_time"] == 30
    servers = engine.record("exec-1")["waves"][0]["servers"]
    assert {s["status"] for s in servers} <= {"PENDING", "IN_PROGRESS"}
    assert all(s.get("phase") for s in servers)
    assert all(s["hostname"].startswith("erp-db") for s in servers)


def test_all_servers_launched_completes_the_plan(engine):
    # Given a one-wave plan whose servers all launched
    state = _started(engine, ONE_WAVE)
    engine.advance()
    # When polled
    result = _poll(state)
    # Then the wave and the plan are complete
    assert result["status"] == "completed"
    assert result["all_waves_completed"] and result["wave_completed"]
    assert result["completed_waves"] == 1
    entry = result["wave_results"][0]
    assert entry["status"] == "COMPLETED" and entry["endTime"]
    # (per-server statuses of a completed wave live on the record only,
    # keeping the Step Functions state small)
    assert entry["launchedCount"] == 2 and "serverStatuses" not in entry
    # And each server's recovery instance is on the record
    wave = engine.record("exec-1")["waves"][0]
    assert wave["status"] == "COMPLETED"
    for server in wave["servers"]:
        assert server["status"] == "LAUNCHED"
        assert server["phase"] == "LAUNCHED"
        assert server["recoveryInstanceId"].startswith("i-")
        assert server["instanceId"].startswith("i-")
        assert server["privateIp"]
        assert server["launchTime"]


def test_server_launch_failure_fails_the_wave_naming_it(monkeypatch):
    # Given erp-db-01 fails to launch
    faults = [{"type": "launch_failure", "server": "erp-db-01"}]
    with wave_engine(monkeypatch, faults=faults) as engine:
        state = _started(engine, TWO_WAVES)
        engine.advance()
        # When polled
        result = _poll(state)
        # Then the wave failed, naming the wave and the server
        assert result["status"] == "failed" and result["wave_completed"]
        assert result["error_code"] == "SERVER_LAUNCH_FAILED"
        assert "Databases" in result["error"]
        assert "erp-db-01" in result["error"]
        assert "erp-db-02" not in result["error"]
        assert result["failed_waves"] == 1
        wave = engine.record("exec-1")["waves"][0]
        assert wave["status"] == "FAILED" and "erp-db-01" in wave["error"]
        # And no next wave was started
        assert engine.calls("execution-handler") == []


def test_wave_times_out_at_the_maximum_wait(engine):
    # Given a wave allowed 60 seconds, polled every 30
    state = _started(engine, ONE_WAVE, current_wave_max_wait_time=60)
    # When polled twice without progress
    first = _poll(state)
    second = _poll(first)
    # Then the second poll times the wave out
    assert first["status"] == "running"
    assert second["status"] == "timeout" and second["wave_completed"]
    assert second["error_code"] == "WAVE_TIMEOUT"
    assert "Databases" in second["error"]
    assert engine.record("exec-1")["waves"][0]["status"] == "FAILED"


def test_cancellation_waits_for_the_job_then_cancels(engine):
    # Given a running two-wave plan whose record is set to CANCELLING
    state = _started(engine, TWO_WAVES)
    engine.history.update_item(
        Key={"executionId": "exec-1"},
        UpdateExpression="SET #s = :c",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":c": "CANCELLING"},
    )
    # When polled while the DRS job is still active
    waiting = _poll(state)
    # Then the state keeps polling and says why
    assert waiting["status"] == "running" and not waiting["wave_completed"]
    assert "cancellation requested" in waiting["status_reason"]
    # When polled after the job settled
    engine.advance()
    cancelled = _poll(waiting)
    # Then the state is cancelled with both flags set, no next wave
    assert cancelled["status"] == "cancelled"
    assert cancelled["wave_completed"] and cancelled["all_waves_completed"]
    assert engine.calls("execution-handler") == []
    assert engine.record("exec-1")["waves"][0]["status"] == "CANCELLED"


def test_pause_before_next_wave(engine):
    # Given the second wave pauses before it starts
    waves = [dict(ONE_WAVE[0]), dict(TWO_WAVES[1], pauseBeforeWave=True)]
    state = _started(engine, waves)
    engine.advance()
    # When the first wave completes
    result = _poll(state)
    # Then the state pauses before wave index 1 without starting it
    assert result["status"] == "paused"
    assert result["paused_before_wave"] == 1
    assert result["wave_completed"] and not result["all_waves_completed"]
    assert engine.calls("execution-handler") == []
    assert len(engine.sim.jobs(HUB, REGION)) == 1


def test_pause_requested_on_the_record_pauses(engine):
    # Given pause_execution set pauseRequested on the record
    state = _started(engine, TWO_WAVES)
    engine.history.update_item(
        Key={"executionId": "exec-1"},
        UpdateExpression="SET pauseRequested = :t",
        ExpressionAttributeValues={":t": True},
    )
    engine.advance()
    # When the wave completes / Then the execution pauses
    result = _poll(state)
    assert result["status"] == "paused" and result["paused_before_wave"] == 1


def test_completed_wave_starts_the_next_through_the_execution_handler(
    engine,
):
    # Given a two-wave plan whose first wave completed
    state = _started(engine, TWO_WAVES)
    engine.advance()
    # When polled
    result = _poll(state)
    # Then the execution-handler was invoked for wave index 1
    (call,) = engine.calls("execution-handler")
    assert call["action"] == "start_wave_recovery"
    assert call["wave_number"] == 1
    assert call["state"]["completed_waves"] == 1
    # And the returned state tracks the new wave's job
    assert result["status"] == "running" and not result["wave_completed"]
    assert result["current_wave_number"] == 1
    assert result["job_id"] != state["job_id"]
    assert result["wave_results"][1]["serverCount"] == 3
    assert result["current_wave_total_wait_time"] == 0
    record = engine.record("exec-1")
    assert [w["status"] for w in record["waves"]] == ["COMPLETED", "STARTED"]


def test_next_wave_invocation_failure_goes_to_the_state_machine(engine):
    # Given the execution-handler times out
    state = _started(engine, TWO_WAVES)
    engine.advance()
    engine.fail_functions["execution-handler"] = "Task timed out"
    # When the first wave completes
    with pytest.raises(InvocationError):
        wave_status.poll_wave_status(state)
    # Then the error reached the state machine (its Retry of the poll);
    # the record runs, wave 1 completed, wave 2 not started
    record = engine.record("exec-1")
    assert record["status"] == "RUNNING"
    assert [w["status"] for w in record["waves"]] == ["COMPLETED", "PENDING"]
    # And when the state machine retries the same poll, the fault passed
    del engine.fail_functions["execution-handler"]
    result = wave_status.poll_wave_status(state)
    # Then wave 2 is started once: one DRS job per wave
    assert result["status"] == "running"
    assert result["current_wave_number"] == 1
    record = engine.record("exec-1")
    assert [w["status"] for w in record["waves"]] == ["COMPLETED", "STARTED"]
    jobs = [j for j in engine.sim.jobs(HUB, REGION) if j.type == "LAUNCH"]
    assert len(jobs) == 2


def test_a_poll_stopped_before_its_records_leaves_the_job_to_the_next(
    engine, monkeypatch
):
    # Given a one-wave plan whose servers all launched, its job ended
    state = _started(engine, ONE_WAVE)
    engine.advance()
    real = wave_observation.write_servers

    def throttled(*args, **kwargs):
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException"}},
            "UpdateItem",
        )

    # When a poll fails writing the server records (or times out there)
    monkeypatch.setattr(wave_observation, "write_servers", throttled)
    with pytest.raises(Exception):
        _poll(dict(state))
    # Then the job is not noted ended: the next poll still reads it
    jobs = engine.record("exec-1")["waves"][0]["jobs"]
    assert all(j.get("jobStatus") != "COMPLETED" for j in jobs)
    # And the next poll records every server LAUNCHED and completes
    monkeypatch.setattr(wave_observation, "write_servers", real)
    result = _poll(state)
    assert result["status"] == "completed", result.get("error")
    wave = engine.record("exec-1")["waves"][0]
    assert {s["status"] for s in wave["servers"]} == {"LAUNCHED"}
    assert wave["jobs"][0]["jobStatus"] == "COMPLETED"
