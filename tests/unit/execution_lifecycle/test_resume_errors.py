"""resume_execution when SendTaskSuccess fails, and what it clears."""

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from shared.execution_lock import get_plan_lock
from tests.helpers import REGION


class _Sfn:
    """moto's Step Functions, with SendTaskSuccess failing as told."""

    def __init__(self, error=None):
        self.real = boto3.client("stepfunctions", region_name=REGION)
        self.error = error
        self.sent = []

    def __getattr__(self, name):
        return getattr(self.real, name)

    def send_task_success(self, **kwargs):
        self.sent.append(kwargs["taskToken"])
        if self.error is not None:
            raise self.error
        return self.real.send_task_success(**kwargs)


def _client_error(code):
    return ClientError(
        {"Error": {"Code": code, "Message": code}}, "SendTaskSuccess"
    )


def _paused(lc, monkeypatch, error=None):
    """A PAUSED execution (token-1, before wave index 1); SFN as told."""
    lc.plan("p1", ("g1", lc.servers(1)), ("g2", lc.servers(1, 1)))
    execution_id = lc.start("p1")
    lc.set_record(
        execution_id, status="PAUSED", taskToken="token-1", pausedBeforeWave=1
    )
    lc.notifications()
    sfn = _Sfn(error)
    import execution_pause_resume

    real_get_client = execution_pause_resume.get_client
    monkeypatch.setattr(
        execution_pause_resume,
        "get_client",
        lambda service, *a: (
            sfn if service == "stepfunctions" else real_get_client(service)
        ),
    )
    return execution_id, sfn


@pytest.mark.parametrize(
    "code", ["TaskDoesNotExist", "InvalidToken", "TaskTimedOut"]
)
def test_a_gone_wait_fails_the_execution_and_stops_the_machine(
    lc, monkeypatch, code
):
    # Given a PAUSED execution whose wait Step Functions no longer has
    execution_id, _sfn = _paused(lc, monkeypatch, _client_error(code))
    arn = lc.record(execution_id)["stateMachineExecutionArn"]
    # When it is resumed over REST
    status, body = lc.rest("POST", f"/executions/{execution_id}/resume")
    # Then 409 INVALID_STATE, the record FAILED, the plan free
    assert (status, body["error"]) == (409, "INVALID_STATE")
    record = lc.record(execution_id)
    assert record["status"] == "FAILED"
    assert code in record["statusReason"]
    assert get_plan_lock("p1") is None
    # And the state machine execution is stopped
    sfn = boto3.client("stepfunctions", region_name=REGION)
    assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"


def test_a_throttled_resume_is_429_and_can_be_retried(lc, monkeypatch):
    # Given a PAUSED execution and Step Functions throttling
    execution_id, sfn = _paused(
        lc, monkeypatch, _client_error("ThrottlingException")
    )
    # When it is resumed over REST
    status, body = lc.rest("POST", f"/executions/{execution_id}/resume")
    # Then 429 DRS_LIMIT_EXCEEDED, and the record is PAUSED as before
    assert (status, body["error"]) == (429, "DRS_LIMIT_EXCEEDED")
    record = lc.record(execution_id)
    assert record["status"] == "PAUSED"
    assert (record["taskToken"], record["pausedBeforeWave"]) == ("token-1", 1)
    # When Step Functions answers again and the user resumes again
    sfn.error = None
    body = lc.direct("resume_execution", {"executionId": execution_id})
    # Then it is RUNNING, with the same token sent
    assert body["status"] == "RUNNING"
    assert sfn.sent == ["token-1", "token-1"]


def test_an_unreachable_step_functions_is_500_and_stays_paused(
    lc, monkeypatch
):
    # Given a PAUSED execution and Step Functions unreachable
    error = EndpointConnectionError(endpoint_url="https://states")
    execution_id, _sfn = _paused(lc, monkeypatch, error)
    # When it is resumed (direct)
    body = lc.direct("resume_execution", {"executionId": execution_id})
    # Then INTERNAL_ERROR, retryable: the record is PAUSED again
    assert body["error"] == "INTERNAL_ERROR"
    assert body["currentStatus"] == "PAUSED"
    assert lc.record(execution_id)["status"] == "PAUSED"


def test_a_resume_clears_the_stored_token(lc, monkeypatch):
    # Given a PAUSED execution
    execution_id, sfn = _paused(lc, monkeypatch)
    # When it is resumed
    body = lc.direct("resume_execution", {"executionId": execution_id})
    # Then the token was sent and the record keeps no stale token
    assert (body["status"], body["resumedWave"]) == ("RUNNING", 1)
    assert sfn.sent == ["token-1"]
    record = lc.record(execution_id)
    assert record["status"] == "RUNNING"
    assert record.get("taskToken") is None
    assert record.get("pausedBeforeWave") is None
