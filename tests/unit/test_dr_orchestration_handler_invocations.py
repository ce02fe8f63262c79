"""The generic orchestration function invokes the handlers (seeds/003
tasks 4.12-4.15), and the orchestration core's record keeping."""

import pytest

from shared.errors import InvocationError
from tests.helpers import REGION, load_handler
from tests.unit.wave_engine_support import (
    HUB,
    FUNCTIONS,
    drive,
    plan_event,
    wave_engine,
)

GENERIC = "dr-orchestration-stepfunction"
WAVES = [
    {"waveNumber": 1, "waveName": "Databases", "protectionGroupId": "pg-db"},
    {
        "waveNumber": 2,
        "waveName": "Apps",
        "protectionGroupId": "pg-app",
        "pauseBeforeWave": True,
    },
]


@pytest.fixture
def engine(monkeypatch):
    with wave_engine(monkeypatch) as eng:
        eng.add_group("pg-db", sourceServerIds=eng.ids("erp-db"))
        eng.add_group("pg-app", sourceServerIds=eng.ids("erp-app"))
        yield eng


def _call(event, context=None):
    return load_handler(GENERIC).lambda_handler(event, context)


def test_begin_invokes_the_execution_handler_for_wave_0(engine):
    # Given a plan and no execution record yet
    event = plan_event(WAVES)
    # When the state machine begins
    state = _call(event, None)
    # Then the execution-handler was invoked for the first wave
    (call,) = engine.calls("execution-handler")
    assert call["action"] == "start_wave_recovery"
    assert call["wave_number"] == 0
    assert call["state"]["execution_id"] == "exec-1"
    assert call["state"]["current_wave_update_time"] == 30
    assert call["state"]["current_wave_max_wait_time"] == 3600
    # And the returned state tracks the started job
    assert state["status"] == "running" and state["job_id"]
    assert state["execution_arn"] == event["execution"]
    assert [w["waveNumber"] for w in state["waves"]] == [1, 2]
    # And the record was created and marked RUNNING
    record = engine.record("exec-1")
    assert record["status"] == "RUNNING"
    assert record["stateMachineExecutionArn"] == event["execution"]
    assert [w["status"] for w in record["waves"]] == ["STARTED", "PENDING"]


def test_poll_invokes_the_query_handler(engine):
    # Given a begun execution
    state = _call(plan_event(WAVES), None)
    engine.advance(60)
    # When polled
    polled = _call({"action": "poll_wave_status", "application": state})
    # Then the query-handler received the state and its answer came back
    (call,) = engine.calls("query-handler")
    assert call == {"action": "poll_wave_status", "state": state}
    assert polled["status"] == "running"
    assert polled["current_wave_total_wait_time"] == 30


def test_pause_store_token_and_resume_invokes_the_execution_handler(engine):
    # Given the first wave completed and the plan paused before wave 2
    state = _call(plan_event(WAVES), None)
    engine.advance()
    paused = _call({"action": "poll_wave_status", "application": state})
    assert paused["status"] == "paused" and paused["paused_before_wave"] == 1
    # When the task token is stored
    _call(
        {
            "action": "store_task_token",
            "application": paused,
            "taskToken": "token-1",
        },
        None,
    )
    # Then the record is PAUSED with the token and the wave
    record = engine.record("exec-1")
    assert record["status"] == "PAUSED" and record["taskToken"] == "token-1"
    assert record["pausedBeforeWave"] == 1
    # When resumed
    resumed = _call({"action": "resume_wave", "application": paused})
    # Then the execution-handler started wave index 1, the record runs
    starts = engine.calls("execution-handler")
    assert [c["wave_number"] for c in starts] == [0, 1]
    assert resumed["status"] == "running"
    assert resumed["current_wave_number"] == 1
    assert engine.record("exec-1")["status"] == "RUNNING"


def test_begin_invocation_failure_fails_state_and_record(engine):
    # Given the execution-handler times out
    engine.fail_functions["execution-handler"] = "Task timed out after 300s"
    # When the state machine begins
    state = _call(plan_event(WAVES), None)
    # Then the state failed on the first wave with the callee's error
    # type and message (seeds/000_* "Handler Invocation Errors")
    assert state["status"] == "failed" and state["wave_completed"]
    assert state["error_code"] == "WAVE_START_INVOCATION_FAILED"
    assert state["error"] == (
        "starting Databases failed: Sandbox.Timedout: "
        "Task timed out after 300s; not started: Apps (Databases failed)"
    )
    assert state["current_wave_number"] == 0
    assert [w["status"] for w in state["wave_results"]] == [
        "FAILED",
        "SKIPPED",
    ]
    # And the record is FAILED with the error, its first wave FAILED
    record = engine.record("exec-1")
    assert record["status"] == "FAILED"
    assert record["errorCode"] == "WAVE_START_INVOCATION_FAILED"
    assert record["error"] == state["error"] and record["endTime"]
    assert [w["status"] for w in record["waves"]] == ["FAILED", "SKIPPED"]
    assert record["waves"][0]["errorCode"] == "WAVE_START_INVOCATION_FAILED"


def test_poll_invocation_failure_goes_to_the_state_machine(engine):
    # Given a running execution whose query-handler then fails
    state = _call(plan_event(WAVES), None)
    engine.fail_functions["query-handler"] = "Runtime.ExitError"
    # When polled
    with pytest.raises(InvocationError):
        _call({"action": "poll_wave_status", "application": state})
    # Then the error reached the state machine (its Retry of the poll,
    # then its catch); the record still runs
    assert engine.record("exec-1")["status"] == "RUNNING"
    # And when the state machine retries the poll, the fault passed
    del engine.fail_functions["query-handler"]
    polled = _call({"action": "poll_wave_status", "application": state})
    # Then the execution goes on, with one DRS job for the wave
    assert polled["status"] == "running"
    assert len(engine.calls("execution-handler")) == 1


def test_unknown_function_arn_fails_the_state(engine, monkeypatch):
    # Given a mis-configured execution-handler ARN (moto answers an error)
    from shared.config import reset_settings

    monkeypatch.setenv("EXECUTION_HANDLER_ARN", FUNCTIONS["query-handler"])
    reset_settings()
    # When the state machine begins
    state = _call(plan_event(WAVES), None)
    # Then the query-handler refused the unknown action and the state failed
    assert state["status"] == "failed"
    assert "start_wave_recovery" in state["error"]


def test_full_run_completes_the_record(engine):
    # Given the two-wave plan with a pause before wave 2
    # When driven to the end like the state machine does
    states = drive(engine, GENERIC, plan_event(WAVES))
    final = states[-1]
    # Then the plan completed and the record says COMPLETED with duration
    assert final["status"] == "completed" and final["all_waves_completed"]
    assert final["completed_waves"] == 2
    record = engine.record("exec-1")
    assert record["status"] == "COMPLETED" and record["endTime"]
    assert record["durationSeconds"] >= 0
    assert [w["status"] for w in record["waves"]] == ["COMPLETED"] * 2
    assert len(engine.sim.jobs(HUB, REGION)) == 2


def test_cancel_while_paused_ends_cancelled_on_resume(engine):
    # Given a paused execution that is then cancelled
    state = _call(plan_event(WAVES), None)
    engine.advance()
    paused = _call({"action": "poll_wave_status", "application": state})
    _call(
        {"action": "store_task_token", "application": paused, "taskToken": "t"}
    )
    engine.history.update_item(
        Key={"executionId": "exec-1"},
        UpdateExpression="SET #s = :c",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":c": "CANCELLING"},
    )
    # When the state machine resumes
    result = _call({"action": "resume_wave", "application": paused})
    # Then no wave starts and the record is CANCELLED
    assert result["status"] == "cancelled" and result["all_waves_completed"]
    actions = [c["action"] for c in engine.calls("execution-handler")]
    assert actions.count("start_wave_recovery") == 1
    assert engine.record("exec-1")["status"] == "CANCELLED"
    # And the drill's wave-1 instances are cleaned up, once
    assert actions.count("cleanup_drill") == 1
    assert len(engine.record("exec-1")["terminations"]) == 1


def test_record_failure_marks_the_record_failed(engine):
    # Given a running execution
    state = _call(plan_event(WAVES), None)
    # When the state machine's catch-all records a failure
    result = _call(
        {
            "action": "record_failure",
            "application": state,
            "error": "States.Runtime",
            "cause": "bad path $.x",
        }
    )
    # Then the record is FAILED naming the error, in our words: the
    # cause (the function's error payload) stays in the logs
    assert result["status"] == "failed"
    record = engine.record("exec-1")
    assert record["status"] == "FAILED"
    assert "States.Runtime" in record["error"]
    assert "$.x" not in record["error"]
    assert "$.x" not in record["statusReason"]


def test_begin_on_a_pending_record_of_execute_recovery_plan(engine):
    # Given the PENDING record execute_recovery_plan writes (epoch times,
    # the servers resolved at start per wave: one of each group's)
    planned = [engine.ids("erp-db")[:1], engine.ids("erp-app")[:1]]
    engine.add_record(
        "exec-1",
        total_waves=2,
        status="PENDING",
        startTime=1767225600,
        waves=[
            {"waveNumber": 1, "status": "PENDING", "serverIds": planned[0]},
            {"waveNumber": 2, "status": "PENDING", "serverIds": planned[1]},
        ],
    )
    # When the plan runs to the end
    states = drive(engine, GENERIC, plan_event(WAVES))
    # Then the state's start time is the record's, as ISO-8601
    assert states[0]["start_time"] == "2026-01-01T00:00:00+00:00"
    # And the record completed with a duration, planned ids kept
    record = engine.record("exec-1")
    assert record["status"] == "COMPLETED"
    assert record["durationSeconds"] > 0
    assert [w["serverIds"] for w in record["waves"]] == planned
    assert [w["status"] for w in record["waves"]] == ["COMPLETED"] * 2
    # And each wave recovered exactly its recorded servers (DRS's jobs)
    jobs = {j.job_id: sorted(j.servers) for j in engine.sim.jobs(HUB, REGION)}
    assert [jobs[w["jobId"]] for w in record["waves"]] == planned
