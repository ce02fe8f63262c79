"""One Logger per process: a correlation id reaches every module."""

import io
import json

import pytest

from shared import logging_setup, notifications, orchestration_core
from shared.errors import NotFoundError


@pytest.fixture
def log_lines(monkeypatch):
    """The JSON lines the process logger writes during the test."""
    buffer = io.StringIO()
    handler = logging_setup.get_logger().registered_handler
    monkeypatch.setattr(handler, "stream", buffer)

    def lines():
        return [json.loads(line) for line in buffer.getvalue().splitlines()]

    yield lines
    logging_setup.get_logger().set_correlation_id(None)


def test_a_correlation_id_set_once_tags_every_module(log_lines):
    # Given the router's logger (execution-handler) sets a correlation id
    logging_setup.get_logger("execution-handler").set_correlation_id("ex-9")
    # When two other modules log
    orchestration_core.logger.warning("from the core")
    notifications.logger.warning("from notifications")
    # Then both lines carry the id
    lines = log_lines()
    assert [line["message"] for line in lines] == [
        "from the core",
        "from notifications",
    ]
    assert {line.get("correlation_id") for line in lines} == {"ex-9"}


def test_the_service_is_the_function(monkeypatch):
    # Given a fresh process of the execution-handler function
    monkeypatch.setattr(logging_setup, "_logger", None)
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "execution-handler")
    # When modules ask for their loggers
    first = logging_setup.get_logger("orchestration")
    second = logging_setup.get_logger("notifications")
    # Then they share one logger named for the function
    assert first is second
    assert first.service == "execution-handler"


def test_without_a_service_variable_the_first_name_is_used(monkeypatch):
    # Given a fresh process without POWERTOOLS_SERVICE_NAME
    monkeypatch.setattr(logging_setup, "_logger", None)
    monkeypatch.delenv("POWERTOOLS_SERVICE_NAME")
    # When a module asks first, another after
    logger = logging_setup.get_logger("orchestration")
    # Then the first name is the service
    assert logger.service == "orchestration"
    assert logging_setup.get_logger("other") is logger


class _NoWavePort:
    def start_wave(self, state, wave_number):
        raise AssertionError("no wave is started")

    poll = start_wave


APPLICATION = {"execution_id": "ex-7", "status": "completed"}


@pytest.mark.parametrize(
    "event",
    [
        {
            "action": "begin",
            "executionId": "ex-7",
            "plan": {"planId": "plan-7", "waves": []},
        },
        {"action": "poll_wave_status", "application": APPLICATION},
        {"action": "record_failure", "application": APPLICATION},
    ],
)
def test_orchestration_actions_correlate_on_the_execution_id(
    ddb_tables, log_lines, event
):
    # Given an orchestration action of execution ex-7
    # When the core handles it
    orchestration_core.handle(event, _NoWavePort())
    # Then the process logger carries the execution id
    logger = logging_setup.get_logger()
    assert logger.get_correlation_id() == "ex-7"
    logger.warning("after the action")
    assert log_lines()[-1]["correlation_id"] == "ex-7"


@pytest.mark.parametrize("action", ["store_task_token", "resume_wave"])
def test_a_failing_action_is_correlated_too(ddb_tables, log_lines, action):
    # Given an action of an execution without a record
    event = {"action": action, "application": APPLICATION}
    # When the core handles it, Then it fails NOT_FOUND
    with pytest.raises(NotFoundError):
        orchestration_core.handle(event, _NoWavePort())
    # And the logger carried the execution id meanwhile
    assert logging_setup.get_logger().get_correlation_id() == "ex-7"


def test_a_handler_action_correlates_every_module(
    ddb_tables, monkeypatch, log_lines
):
    # Given the execution-handler function and its router
    from tests.helpers import load_handler

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "execution-handler")
    handler = load_handler("execution-handler").lambda_handler
    # When an action of execution ex-8 goes through shared/api.py
    event = {"action": "settle_cancelled_execution", "executionId": "ex-8"}
    with pytest.raises(NotFoundError):
        handler(event, None)
    # Then the core's logger (another module) carries the id
    assert orchestration_core.logger.get_correlation_id() == "ex-8"


def test_a_request_without_an_id_clears_the_previous_one(
    ddb_tables, monkeypatch, log_lines
):
    # Given a warm execution-handler whose last request was execution ex-8
    from tests.helpers import load_handler

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "execution-handler")
    handler = load_handler("execution-handler").lambda_handler
    logging_setup.get_logger().set_correlation_id("ex-8")
    # When a direct operation that names no execution arrives
    handler({"operation": "list_executions", "queryParams": {}}, None)
    # Then its log lines carry no stale id
    assert logging_setup.get_logger().get_correlation_id() is None


def test_a_direct_operation_correlates_on_its_execution_id(
    ddb_tables, monkeypatch, log_lines
):
    # Given the execution-handler function
    from tests.helpers import load_handler

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "execution-handler")
    handler = load_handler("execution-handler").lambda_handler
    # When a direct operation names execution ex-9 (unknown: 404)
    answer = handler(
        {
            "operation": "get_execution_details",
            "body": {"executionId": "ex-9"},
        },
        None,
    )
    # Then it answered and its lines carried the id
    assert answer["statusCode"] == 404
    assert logging_setup.get_logger().get_correlation_id() == "ex-9"
