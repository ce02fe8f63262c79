"""Synchronous Lambda invokes are never retried (issue 6, item 1)."""

import pytest
from botocore.exceptions import ReadTimeoutError

from shared import aws_clients, lambda_invoke

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:callee"


def test_sync_invoke_client_waits_past_the_callee_and_never_retries():
    # Given the synchronous-invoke client
    client = lambda_invoke.sync_lambda_client()
    # When its effective config is read
    config = client.meta.config
    # Then it waits longer than the execution-handler's 300 s timeout
    assert config.read_timeout > 300
    # And makes exactly one attempt
    assert config.retries["total_max_attempts"] == 1
    # And keeps the rest of the shared config
    assert config.connect_timeout == aws_clients.BOTO_CONFIG.connect_timeout
    # And the shared config itself is unchanged
    assert aws_clients.BOTO_CONFIG.read_timeout == 60


def test_a_read_timeout_is_not_retried_by_invoke_function():
    # Given every Lambda invoke request times out on read
    sent = []

    def time_out(request, **_):
        sent.append(request.url)
        raise ReadTimeoutError(endpoint_url=request.url)

    session = aws_clients.session_for_account(None)
    session.events.register("before-send.lambda.Invoke", time_out)
    # When a function is invoked synchronously
    with pytest.raises(ReadTimeoutError):
        lambda_invoke.invoke_function(FUNCTION, {"action": "start"})
    # Then the request was sent once, not retried
    assert len(sent) == 1
