"""Business metrics of the orchestration, as CloudWatch EMF lines.

The one list of metric names (the monitoring stack's dashboard and alarms
use the same names) and the helpers called where each thing happens:

* :func:`execution_started` - an execution was accepted (its record is
  written: ``execution_store.create_execution``)
* :func:`execution_ended` - a terminal status was written
  (``shared.execution_records.transition_status``), with the measured RTO
  of a completed execution
* :func:`wave_ended` - the poll saw a wave end: its duration, servers
  launched and failed
* :func:`throttled` - AWS throttling outlived the client's retries
  (``shared.aws_errors``)

powertools ``Metrics`` keeps the values in memory; ``@log_metrics`` on each
handler (``shared.observability.instrument_handler``) prints them as one
EMF line at the end of the invocation, which CloudWatch turns into metrics.
Every metric carries one dimension, ``service`` = ``<project>-<environment>``
(the same in every function), so one alarm sees an execution whichever
function ended it. A metric is telemetry: a failure to record one is logged
and never fails the recovery.
"""

from typing import Any, Dict, Iterable, Optional

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from shared.clock import to_epoch
from shared.config import load_settings
from shared.drs_constants import (
    DRS_JOB_SERVERS_COMPLETE_FAILURE_STATES,
    DRS_JOB_SERVERS_COMPLETE_SUCCESS_STATES,
)
from shared.logging_setup import get_logger
from shared.statuses import CANCELLED, COMPLETED, FAILED, TIMEOUT

EXECUTIONS_STARTED = "ExecutionsStarted"
EXECUTIONS_COMPLETED = "ExecutionsCompleted"
EXECUTIONS_FAILED = "ExecutionsFailed"
EXECUTIONS_CANCELLED = "ExecutionsCancelled"
EXECUTION_RTO = "ExecutionRTOSeconds"
WAVE_DURATION = "WaveDurationSeconds"
SERVERS_LAUNCHED = "ServersLaunched"
SERVERS_FAILED = "ServersFailed"
DRS_THROTTLES = "DRSThrottles"
# Throttling by the other services (EC2, STS, ...): on the dashboard only.
AWS_THROTTLES = "AWSThrottles"

ALL_METRICS = (
    EXECUTIONS_STARTED,
    EXECUTIONS_COMPLETED,
    EXECUTIONS_FAILED,
    EXECUTIONS_CANCELLED,
    EXECUTION_RTO,
    WAVE_DURATION,
    SERVERS_LAUNCHED,
    SERVERS_FAILED,
    DRS_THROTTLES,
    AWS_THROTTLES,
)
# Terminal status -> its counter. A timed-out execution failed (it did not
# recover in time): the failed-executions alarm must see it.
_ENDED = {
    COMPLETED: EXECUTIONS_COMPLETED,
    FAILED: EXECUTIONS_FAILED,
    TIMEOUT: EXECUTIONS_FAILED,
    CANCELLED: EXECUTIONS_CANCELLED,
}

# Read once per process (the function's template environment); load, not
# get, so importing this module caches no settings.
_settings = load_settings()
SERVICE_DIMENSION = f"{_settings.project_name}-{_settings.environment}"
metrics = Metrics(
    namespace=_settings.metrics_namespace, service=SERVICE_DIMENSION
)


def _add(name: str, unit: str, value: float) -> None:
    try:
        metrics.add_metric(name=name, unit=unit, value=value)
    # Telemetry never fails a recovery: log and go on.
    except Exception:  # pylint: disable=broad-except
        get_logger().warning(
            "metric not recorded", extra={"metric": name}, exc_info=True
        )


def execution_started() -> None:
    """Count an accepted execution (drill or recovery)."""
    _add(EXECUTIONS_STARTED, MetricUnit.Count, 1)


def execution_ended(record: Dict[str, Any]) -> None:
    """Count a terminal status; a completed execution's RTO too.

    ``record`` is the execution record as written (``ReturnValues
    ALL_NEW``): its ``status``, ``startTime`` and per-server
    ``launchTime`` in ``waves``.
    """
    name = _ENDED.get(str(record.get("status")))
    if name is None:
        return
    _add(name, MetricUnit.Count, 1)
    if name == EXECUTIONS_COMPLETED:
        rto = measured_rto(record)
        if rto is not None:
            _add(EXECUTION_RTO, MetricUnit.Seconds, rto)


def measured_rto(record: Dict[str, Any]) -> Optional[float]:
    """Seconds from the execution's start to the launch time of its last
    launched server (``launchTime``: the recovery instance's EC2 launch
    time; each wave's ``lastLaunchTime``); None without a start or a
    launch."""
    start = to_epoch(record.get("startTime"))
    launches = [
        to_epoch(server.get("launchTime"))
        for wave in record.get("waves") or []
        for server in wave.get("servers") or []
        if server.get("status") in DRS_JOB_SERVERS_COMPLETE_SUCCESS_STATES
    ]
    # The item keeps each wave's last launch (its servers are records of
    # their own: shared.server_records).
    launches += [
        to_epoch(wave.get("lastLaunchTime"))
        for wave in record.get("waves") or []
        if wave.get("lastLaunchTime")
    ]
    launches = [t for t in launches if t is not None]
    if start is None or not launches:
        return None
    return max(0.0, max(launches) - start)


def wave_ended(wave: Dict[str, Any]) -> None:
    """Duration and launched/failed servers of a wave that just ended
    (its ``startTime``/``endTime`` and ``servers[].status``)."""
    start, end = to_epoch(wave.get("startTime")), to_epoch(wave.get("endTime"))
    if start is not None and end is not None:
        _add(WAVE_DURATION, MetricUnit.Seconds, max(0.0, end - start))
    servers = wave.get("servers") or []
    _add(
        SERVERS_LAUNCHED,
        MetricUnit.Count,
        _count(servers, DRS_JOB_SERVERS_COMPLETE_SUCCESS_STATES),
    )
    _add(
        SERVERS_FAILED,
        MetricUnit.Count,
        _count(servers, DRS_JOB_SERVERS_COMPLETE_FAILURE_STATES),
    )


def _count(servers: Iterable[Dict[str, Any]], states: Iterable[str]) -> int:
    wanted = set(states)
    return sum(1 for server in servers if server.get("status") in wanted)


def throttled(service: str) -> None:
    """Count a throttling error that outlived the client's retries."""
    name = DRS_THROTTLES if service == "DRS" else AWS_THROTTLES
    _add(name, MetricUnit.Count, 1)
