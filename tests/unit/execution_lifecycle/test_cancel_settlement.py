"""A cancel always settles: DRS or Lambda errors, repeated cancels."""

import boto3
from botocore.exceptions import ClientError, EndpointConnectionError

from shared.execution_lock import get_plan_lock
from tests.helpers import REGION
from tests.unit.execution_lifecycle.test_execution_control import (
    SETTLE,
    _running_with_job,
)


def _throttled(*_args, **_kwargs):
    raise ClientError(
        {"Error": {"Code": "TooManyRequestsException", "Message": "slow"}},
        "Invoke",
    )


def test_a_drs_error_while_cancelling_hands_off_to_the_settle_worker(
    lc, monkeypatch
):
    # Given a RUNNING execution with a live DRS job, DRS unreachable
    execution_id, _job_id = _running_with_job(lc)
    import execution_control

    def unreachable(*_args, **_kwargs):
        raise EndpointConnectionError(endpoint_url="https://drs")

    monkeypatch.setattr(execution_control, "unsettled_jobs", unreachable)
    # When it is cancelled
    body = lc.direct("cancel_execution", {"executionId": execution_id})
    # Then it is CANCELLING and the settle worker is queued to re-check
    assert body["status"] == "CANCELLING"
    assert [c["executionId"] for c in lc.async_calls if c["action"] == SETTLE]
    assert lc.record(execution_id)["status"] == "CANCELLING"


def test_a_failed_settle_hand_off_is_retried(lc, monkeypatch):
    # Given a RUNNING execution with a live DRS job; Lambda throttles once
    execution_id, job_id = _running_with_job(lc)
    import execution_control

    real = execution_control.invoke_async
    calls = []

    def once_throttled(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            _throttled()
        return real(*args, **kwargs)

    monkeypatch.setattr(execution_control, "invoke_async", once_throttled)
    # When it is cancelled
    body = lc.direct("cancel_execution", {"executionId": execution_id})
    # Then the hand-off was retried and the worker is queued
    assert (body["status"], body["activeJobs"]) == ("CANCELLING", [job_id])
    assert len(calls) == 2
    assert [c for c in lc.async_calls if c["action"] == SETTLE]


def test_a_settle_hand_off_that_keeps_failing_ends_cancelled(lc, monkeypatch):
    # Given a RUNNING execution with a live DRS job; Lambda always throttles
    execution_id, job_id = _running_with_job(lc)
    import execution_control

    monkeypatch.setattr(execution_control, "invoke_async", _throttled)
    # When it is cancelled
    body = lc.direct("cancel_execution", {"executionId": execution_id})
    # Then it ends CANCELLED, the reason naming the job and the error
    assert body["status"] == "CANCELLED"
    record = lc.record(execution_id)
    assert record["status"] == "CANCELLED"
    assert job_id in record["statusReason"]
    assert "TooManyRequestsException" in record["statusReason"]
    # And the plan lock is released
    assert get_plan_lock(record["planId"]) is None


def test_a_repeated_cancel_re_triggers_settlement(lc):
    # Given an execution left CANCELLING whose settle worker was lost
    execution_id, job_id = _running_with_job(lc)
    first = lc.direct("cancel_execution", {"executionId": execution_id})
    assert first["status"] == "CANCELLING"
    lc.async_calls.clear()
    # When it is cancelled again over REST while the job still runs
    status, body = lc.rest("POST", f"/executions/{execution_id}/cancel")
    # Then the current state is answered and the worker queued again
    assert (status, body["status"]) == (200, "CANCELLING")
    assert body["activeJobs"] == [job_id]
    assert [c for c in lc.async_calls if c["action"] == SETTLE]
    # When the DRS job has settled and it is cancelled once more
    lc.async_calls.clear()
    lc.sim.clock.advance(3600)
    lc.sim.tick()
    body = lc.direct("cancel_execution", {"executionId": execution_id})
    # Then it is CANCELLED at once
    assert (body["status"], body["activeJobs"]) == ("CANCELLED", [])
    assert lc.record(execution_id)["status"] == "CANCELLED"
    drs = boto3.client("drs", region_name=REGION)
    job = drs.describe_jobs(filters={"jobIDs": [job_id]})["items"][0]
    assert job["status"] == "COMPLETED"


def test_the_settle_worker_survives_drs_errors_until_its_deadline(
    lc, monkeypatch
):
    # Given a CANCELLING execution and DRS unreachable from the worker
    execution_id, _job_id = _running_with_job(lc)
    lc.direct("cancel_execution", {"executionId": execution_id})
    import execution_control

    def unreachable(*_args, **_kwargs):
        raise EndpointConnectionError(endpoint_url="https://drs")

    monkeypatch.setattr(execution_control, "unsettled_jobs", unreachable)
    # When the worker re-checks past its deadline
    result = execution_control.settle_cancelled_execution(
        {"executionId": execution_id, "deadline": 0}, sleep=None
    )
    # Then the execution still ends CANCELLED, saying DRS was unreachable
    assert result["status"] == "CANCELLED"
    assert "DRS unreachable" in lc.record(execution_id)["statusReason"]
