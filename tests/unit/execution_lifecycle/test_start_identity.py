"""Issue 15, defect 3: the audit trail of a start cannot be spoofed.

Through the API the recorded ``initiatedBy`` is the authorizer's identity
(a body ``initiatedBy``, which the console sends, is accepted and
ignored). A direct invocation records its IAM caller (the event's
``caller``, else ``direct-invocation``) and may add a bounded, validated
``requestedBy`` beside it.
"""

import json
from types import SimpleNamespace

import pytest

from tests.helpers import api_event

START = "execute_recovery_plan"
OPERATOR = "operator@example.com"


def _rest_start(lc, body, user=OPERATOR, groups=("DRSOperator",)):
    response = lc.handler(
        api_event("POST", "/executions", body=body, groups=groups, user=user),
        None,
    )
    return response["statusCode"], json.loads(response["body"])


def _executions(lc):
    return lc.tables["EXECUTION_HISTORY_TABLE"].scan()["Items"]


@pytest.mark.parametrize(
    "claimed",
    ["someone-else@example.com", "x" * 100_000],
    ids=["other-user", "100KB"],
)
def test_rest_records_the_authorizer_identity_not_the_body(lc, claimed):
    # Given a plan
    lc.plan("p1", ("g1", lc.servers(1)))
    # When an operator starts it claiming to be someone else
    status, body = _rest_start(
        lc, {"planId": "p1", "initiatedBy": claimed, "requestedBy": claimed}
    )
    # Then the start is accepted and recorded as the operator only
    assert status == 202, body
    record = lc.record(body["executionId"])
    assert record["initiatedBy"] == OPERATOR
    assert "requestedBy" not in record
    assert claimed not in json.dumps(record, default=str)


def test_direct_records_the_event_caller_and_a_bounded_requested_by(lc):
    lc.plan("p1", ("g1", lc.servers(1)))
    body = lc.handler(
        {
            "operation": START,
            "caller": "arn:aws:iam::123456789012:role/dr-runbook",
            "body": {"planId": "p1", "requestedBy": "  alice (CHG-7)  "},
        },
        None,
    )
    record = lc.record(body["executionId"])
    assert record["initiatedBy"] == (
        "arn:aws:iam::123456789012:role/dr-runbook"
    )
    assert record["requestedBy"] == "alice (CHG-7)"
    details = lc.direct(
        "get_execution_details", {"executionId": body["executionId"]}
    )
    assert details["requestedBy"] == "alice (CHG-7)"


def test_direct_without_caller_is_direct_invocation(lc):
    lc.plan("p1", ("g1", lc.servers(1)))
    body = lc.direct(START, {"planId": "p1"})
    record = lc.record(body["executionId"])
    assert record["initiatedBy"] == "direct-invocation"
    assert "requestedBy" not in record


def test_direct_uses_the_lambda_context_identity_when_it_has_one(lc):
    lc.plan("p1", ("g1", lc.servers(1)))
    context = SimpleNamespace(
        function_name="execution-handler",
        memory_limit_in_mb=512,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:"
        "function:execution-handler",
        aws_request_id="req-1",
        identity=SimpleNamespace(cognito_identity_id="us-east-1:abc-123"),
    )
    body = lc.handler({"operation": START, "body": {"planId": "p1"}}, context)
    record = lc.record(body["executionId"])
    assert record["initiatedBy"] == "cognito-identity:us-east-1:abc-123"


@pytest.mark.parametrize(
    "where, value",
    [
        ("requestedBy", "x" * 100_000),
        ("requestedBy", "alice\x00"),
        ("requestedBy", "alice\u202eevil"),
        ("requestedBy", {"name": "alice"}),
        ("requestedBy", "   "),
        ("initiatedBy", "y" * 257),
        ("caller", "x" * 300),
        ("caller", ["role"]),
        ("caller", "role\nnewline"),
    ],
)
def test_direct_refuses_unbounded_or_unprintable_identities(lc, where, value):
    # Given a plan and nothing recorded yet
    lc.plan("p1", ("g1", lc.servers(1)))
    event = {"operation": START, "body": {"planId": "p1"}}
    if where == "caller":
        event["caller"] = value
    else:
        event["body"][where] = value
    # When it is started with a bad identity
    answer = lc.handler(event, None)
    # Then a direct 400 names the field, and nothing was written or queued
    assert (answer["error"], answer["statusCode"]) == (
        "VALIDATION_ERROR",
        400,
    )
    assert answer["field"] == where
    assert _executions(lc) == []
    assert lc.async_calls == []
