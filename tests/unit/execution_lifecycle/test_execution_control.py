"""cancel, pause and resume (both invocation shapes)."""

import boto3

from tests.helpers import REGION

SETTLE = "settle_cancelled_execution"


def _events(lc):
    return [
        n["MessageAttributes"]["eventType"]["Value"]
        for n in lc.notifications()
    ]


def _running_with_job(lc, servers=2):
    """A RUNNING execution whose first wave has a live DRS job."""
    ids = lc.servers(servers)
    lc.plan("p1", ("g1", ids))
    execution_id = lc.start("p1")
    job = lc.drs().start_recovery(
        isDrill=True, sourceServers=[{"sourceServerID": s} for s in ids]
    )["job"]
    record = lc.record(execution_id)
    wave = dict(record["waves"][0], status="STARTED", jobId=job["jobID"])
    lc.set_record(execution_id, status="RUNNING", waves=[wave])
    lc.notifications()
    return execution_id, job["jobID"]


def test_cancel_pending_execution_is_cancelled_at_once(lc):
    # Given a PENDING execution whose worker has not run
    lc.plan("p1", ("g1", lc.servers(1)))
    execution_id = lc.direct("execute_recovery_plan", {"planId": "p1"})[
        "executionId"
    ]
    # When it is cancelled over REST
    status, body = lc.rest("POST", f"/executions/{execution_id}/cancel")
    # Then it is CANCELLED at once (no DRS job), waves CANCELLED
    assert (status, body["status"]) == (200, "CANCELLED")
    record = lc.record(execution_id)
    assert record["status"] == "CANCELLED"
    assert [w["status"] for w in record["waves"]] == ["CANCELLED"]
    assert "endTime" in record
    # And the worker, delivered late, does not start the state machine
    (result,) = lc.deliver_async("execute_recovery_plan_worker")
    assert result["status"] == "CANCELLED"
    assert "stateMachineExecutionArn" not in lc.record(execution_id)
    assert _events(lc) == ["EXECUTION_CANCELLED"]


def test_cancel_during_a_wave_stops_the_state_machine_and_settles(lc):
    # Given a RUNNING execution with a live DRS job
    execution_id, job_id = _running_with_job(lc)
    arn = lc.record(execution_id)["stateMachineExecutionArn"]
    # When it is cancelled (direct)
    body = lc.direct("cancel_execution", {"executionId": execution_id})
    # Then it is CANCELLING, the state machine is stopped
    assert body["status"] == "CANCELLING"
    assert body["activeJobs"] == [job_id]
    sfn = boto3.client("stepfunctions", region_name=REGION)
    assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"
    # When the settle worker re-checks while DRS time passes
    (call,) = [c for c in lc.async_calls if c["action"] == SETTLE]
    lc.async_calls.remove(call)
    from execution_control import settle_cancelled_execution

    result = settle_cancelled_execution(
        call, sleep=lambda seconds: lc.sim.clock.advance(seconds)
    )
    # Then it ends CANCELLED once the DRS job is settled
    assert result["status"] == "CANCELLED"
    job = lc.drs().describe_jobs(filters={"jobIDs": [job_id]})["items"][0]
    assert job["status"] == "COMPLETED"
    record = lc.record(execution_id)
    assert record["status"] == "CANCELLED"
    assert record["waves"][0]["status"] == "CANCELLED"
    assert _events(lc) == ["EXECUTION_CANCELLED"]


def test_settle_ends_cancelled_at_the_deadline(lc):
    # Given a CANCELLING execution whose DRS job never settles in time
    execution_id, job_id = _running_with_job(lc)
    lc.direct("cancel_execution", {"executionId": execution_id})
    lc.async_calls.clear()
    from execution_control import settle_cancelled_execution

    # When the settle worker runs past its deadline
    result = settle_cancelled_execution(
        {"executionId": execution_id, "deadline": 0}, sleep=None
    )
    # Then the execution still ends CANCELLED, naming the job
    assert result["status"] == "CANCELLED"
    assert job_id in lc.record(execution_id)["statusReason"]


def test_cancel_of_a_completed_execution_is_invalid_state(lc):
    lc.plan("p1", ("g1", lc.servers(1)))
    execution_id = lc.start("p1")
    lc.set_record(execution_id, status="COMPLETED")
    body = lc.direct("cancel_execution", {"executionId": execution_id})
    assert body["error"] == "INVALID_STATE"
    assert body["currentStatus"] == "COMPLETED"
    assert "COMPLETED" in body["message"]
    status, body = lc.rest("POST", f"/executions/{execution_id}/cancel")
    assert (status, body["error"]) == (409, "INVALID_STATE")


def test_cancel_of_an_unknown_execution_is_not_found(lc):
    status, body = lc.rest("POST", "/executions/nope/cancel")
    assert (status, body["error"]) == (404, "NOT_FOUND")


def test_pause_sets_pause_requested_on_a_running_execution(lc):
    # Given a RUNNING execution
    lc.plan("p1", ("g1", lc.servers(1)))
    execution_id = lc.start("p1")
    lc.set_record(execution_id, status="RUNNING")
    # When it is paused over REST
    status, body = lc.rest("POST", f"/executions/{execution_id}/pause")
    # Then the record asks the engine to pause before the next wave
    assert (status, body["pauseRequested"]) == (200, True)
    record = lc.record(execution_id)
    assert record["pauseRequested"] is True
    assert record["status"] == "RUNNING"


def test_pause_of_a_cancelled_execution_is_invalid_state(lc):
    lc.plan("p1", ("g1", lc.servers(1)))
    execution_id = lc.start("p1")
    lc.direct("cancel_execution", {"executionId": execution_id})
    body = lc.direct("pause_execution", {"executionId": execution_id})
    assert body["error"] == "INVALID_STATE"
    assert body["currentStatus"] == "CANCELLED"


def test_resume_of_a_paused_execution_then_a_second_resume(lc):
    # Given an execution the engine paused before wave 2
    lc.plan("p1", ("g1", lc.servers(1)), ("g2", lc.servers(1, 1)))
    execution_id = lc.start("p1")
    lc.notifications()
    lc.set_record(
        execution_id, status="PAUSED", taskToken="token-1", pausedBeforeWave=1
    )
    paused = lc.direct("get_execution_details", {"executionId": execution_id})
    assert paused["pausedBeforeWaveNumber"] == 2
    # When it is resumed (direct)
    body = lc.direct("resume_execution", {"executionId": execution_id})
    # Then it is RUNNING again and a RESUMED notification went out
    assert body["status"] == "RUNNING"
    assert body["resumedWave"] == 1
    assert lc.record(execution_id)["status"] == "RUNNING"
    assert _events(lc) == ["EXECUTION_RESUMED"]
    # When it is resumed a second time (REST)
    status, body = lc.rest("POST", f"/executions/{execution_id}/resume")
    # Then INVALID_STATE names RUNNING
    assert (status, body["error"]) == (409, "INVALID_STATE")
    assert body["currentStatus"] == "RUNNING"


def test_resume_without_a_stored_token_fails_the_execution(lc):
    lc.plan("p1", ("g1", lc.servers(1)))
    execution_id = lc.start("p1")
    lc.set_record(execution_id, status="PAUSED")
    body = lc.direct("resume_execution", {"executionId": execution_id})
    assert body["error"] == "INVALID_STATE"
    record = lc.record(execution_id)
    assert record["status"] == "FAILED"
    assert "no task token" in record["statusReason"]
    # And the plan is free again
    again = lc.direct("execute_recovery_plan", {"planId": "p1"})
    assert again["status"] == "PENDING"


def test_pause_requires_stop_recovery_permission(lc):
    status, body = lc.rest(
        "POST", "/executions/x/pause", groups=("DRSReadOnly",)
    )
    assert (status, body["error"]) == (403, "FORBIDDEN")
