"""Business metrics (shared.metrics): what each event emits as EMF."""

import json

import pytest
from botocore.exceptions import ClientError

from execution_store import create_execution
from shared import metrics
from shared.aws_errors import aws_errors, recovery_start_error
from shared.errors import (
    DrsLimitExceededError,
    ExecutionConflictError,
    InvalidStateError,
)
from shared.execution_records import transition_status

START = 1_700_000_000


@pytest.fixture(autouse=True)
def no_pending_metrics():
    """powertools keeps metrics per process: start and end empty."""
    metrics.metrics.clear_metrics()
    yield
    metrics.metrics.clear_metrics()


def emitted(capsys):
    """Flush and return {metric name: values} of the EMF lines printed,
    checking each line's namespace and dimension."""
    if metrics.metrics.metric_set:
        metrics.metrics.flush_metrics()
    found = {}
    for line in capsys.readouterr().out.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        blob = json.loads(line)
        (directive,) = blob["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "DRSOrchestration"
        assert directive["Dimensions"] == [["service"]]
        assert blob["service"] == "hrp-drs-tech-adapter-dev"
        for metric in directive["Metrics"]:
            value = blob[metric["Name"]]
            found[metric["Name"]] = (
                value if isinstance(value, list) else [value]
            )
    return found


def _server(status, launch_time=None):
    return {
        "sourceServerId": "s-1",
        "status": status,
        "launchTime": launch_time,
    }


def _running(history, waves):
    history.put_item(
        Item={
            "executionId": "ex-1",
            "planId": "plan-1",
            "status": "RUNNING",
            "startTime": START,
            "waves": waves,
        }
    )


def test_an_accepted_execution_is_counted_once(ddb_tables, capsys):
    # Given a PENDING record of a plan
    history = ddb_tables["EXECUTION_HISTORY_TABLE"]
    record = {"executionId": "ex-1", "planId": "plan-1", "status": "PENDING"}
    # When it is written, then a second start of the plan is refused
    create_execution(dict(record), history)
    with pytest.raises(ExecutionConflictError):
        create_execution({**record, "executionId": "ex-2"}, history)
    # Then one execution start was counted
    assert emitted(capsys) == {"ExecutionsStarted": [1.0]}


def test_a_completed_execution_counts_and_reports_its_rto(ddb_tables, capsys):
    # Given a running execution whose last server launched 754 s after start
    history = ddb_tables["EXECUTION_HISTORY_TABLE"]
    waves = [
        {"servers": [_server("LAUNCHED", "2023-11-14T22:15:20+00:00")]},
        {
            "servers": [
                _server("LAUNCHED", "2023-11-14T22:25:54+00:00"),
                _server("FAILED"),
            ]
        },
    ]
    _running(history, waves)
    # When it is marked COMPLETED
    transition_status("ex-1", "COMPLETED", table=history)
    # Then it is counted once with the measured RTO
    assert emitted(capsys) == {
        "ExecutionsCompleted": [1.0],
        "ExecutionRTOSeconds": [754.0],
    }


@pytest.mark.parametrize(
    "status, previous, metric",
    [
        ("FAILED", "RUNNING", "ExecutionsFailed"),
        ("TIMEOUT", "RUNNING", "ExecutionsFailed"),
        ("CANCELLED", "CANCELLING", "ExecutionsCancelled"),
    ],
)
def test_other_terminal_statuses_are_counted(
    ddb_tables, capsys, status, previous, metric
):
    # Given an execution in a legal predecessor of the terminal status
    history = ddb_tables["EXECUTION_HISTORY_TABLE"]
    history.put_item(Item={"executionId": "ex-1", "status": previous})
    # When it ends
    transition_status("ex-1", status, table=history)
    # Then its counter is emitted, without an RTO
    assert emitted(capsys) == {metric: [1.0]}


def test_a_non_terminal_or_losing_transition_emits_nothing(ddb_tables, capsys):
    # Given a running execution
    history = ddb_tables["EXECUTION_HISTORY_TABLE"]
    _running(history, [])
    # When it pauses, then loses a race to be cancelled (not CANCELLING)
    transition_status("ex-1", "PAUSED", table=history)
    with pytest.raises(InvalidStateError):
        transition_status("ex-1", "CANCELLED", table=history)
    # Then no metric was recorded
    assert emitted(capsys) == {}


def test_a_wave_end_reports_duration_and_servers(capsys):
    # Given a wave of three servers that ran 5 minutes
    wave = {
        "startTime": "2023-11-14T22:13:20+00:00",
        "endTime": "2023-11-14T22:18:20+00:00",
        "servers": [
            _server("LAUNCHED"),
            _server("LAUNCHED"),
            _server("TERMINATED"),
        ],
    }
    # When its end is recorded
    metrics.wave_ended(wave)
    # Then duration, launched and failed servers are emitted
    assert emitted(capsys) == {
        "WaveDurationSeconds": [300.0],
        "ServersLaunched": [2.0],
        "ServersFailed": [1.0],
    }


def _throttled(operation="DescribeJobs"):
    return ClientError(
        {"Error": {"Code": "ThrottlingException", "Message": "slow down"}},
        operation,
    )


@pytest.mark.parametrize(
    "service, metric", [("DRS", "DRSThrottles"), ("EC2", "AWSThrottles")]
)
def test_throttling_beyond_retries_is_counted_per_service(
    capsys, service, metric
):
    # When a call of a service is throttled beyond the client's retries
    with pytest.raises(DrsLimitExceededError):
        with aws_errors(service, account_id="123456789012"):
            raise _throttled()
    # Then DRS has its own counter and the other services share one
    assert emitted(capsys) == {metric: [1.0]}


def test_a_throttled_recovery_start_is_counted(capsys):
    # When DRS throttles a StartRecovery beyond retries
    code, _message = recovery_start_error(_throttled("StartRecovery"), ["s-1"])
    # Then it is a DRS throttle
    assert code == "DRS_LIMIT_EXCEEDED"
    assert emitted(capsys) == {"DRSThrottles": [1.0]}


def test_a_metric_failure_never_fails_the_caller(monkeypatch, capsys):
    # Given powertools refusing every metric
    def refuse(**_kwargs):
        raise ValueError("refused")

    monkeypatch.setattr(metrics.metrics, "add_metric", refuse)
    # When an execution start is recorded, then nothing raises
    metrics.execution_started()
    monkeypatch.undo()
    # And nothing was recorded
    assert emitted(capsys) == {}
