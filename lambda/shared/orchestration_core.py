"""The one orchestration core behind both orchestration functions.

The state machine calls ``{"action": begin | poll_wave_status |
store_task_token | resume_wave | record_failure, "application": S, ...}``
(CONTRACTS §2). The core coordinates waves and owns the execution
record's status; the DRS work happens behind an :class:`OperationsPort`:

* generic function (``dr-orchestration-stepfunction``): the port invokes
  the execution-handler / query-handler (Lambda invoke);
* legacy function (``orchestration-stepfunctions``): the port calls
  ``wave_recovery`` / ``wave_status`` in-process.

No DRS code here. Any exception from the port (``InvocationError``,
timeouts, an unexpected error in-process) ends the state ``failed`` with
the error, and the record FAILED — the same for both ports (``seeds/000_*``
"Handler Invocation Errors"; a wave start: :func:`start_wave_or_fail`).
"""

from datetime import datetime, timezone
from typing import Any, Callable, Dict, Optional, Protocol

from botocore.exceptions import ClientError

from shared import clock, statuses
from shared.config import get_settings
from shared.errors import InvalidStateError, InvocationError, NotFoundError
from shared.execution_records import get_execution, transition_status
from shared.logging_setup import get_logger
from shared.notifications import publish_execution_event
from shared.responses import to_jsonable
from shared.tables import execution_history_table
from shared.wave_state import is_terminal, mark_cancelled, mark_failed
from shared.wave_state import save_wave, wave_name, wave_result

logger = get_logger("orchestration")

WAVE_KEYS = (
    "waveNumber",
    "waveName",
    "protectionGroupId",
    "pauseBeforeWave",
    "dependsOnWaves",
)
# State status -> (record status, notification event).
FINISH = {
    "completed": (statuses.COMPLETED, "EXECUTION_COMPLETED"),
    "failed": (statuses.FAILED, "EXECUTION_FAILED"),
    "timeout": (statuses.TIMEOUT, "EXECUTION_TIMEOUT"),
    "cancelled": (statuses.CANCELLED, "EXECUTION_CANCELLED"),
}
WAVE_START_FAILED = "WAVE_START_INVOCATION_FAILED"
# CONTRACTS §4: a CANCELLING execution ends CANCELLED whatever the state
# machine's own ending (the user's cancel wins; the ending is the reason).
CANCELLED_FINISH = (statuses.CANCELLED, "EXECUTION_CANCELLED")


class OperationsPort(Protocol):
    """How the core reaches the DRS operations."""

    def start_wave(
        self, state: Dict[str, Any], wave_number: int
    ) -> Dict[str, Any]:
        """Start wave ``wave_number``; the updated state."""

    def poll(self, state: Dict[str, Any]) -> Dict[str, Any]:
        """Poll the current wave; the updated state."""


class ExecutionCancelled(Exception):
    """Raised by ``store_task_token`` when the execution was cancelled
    before it paused; the state machine catches ``ExecutionCancelled``."""


def _table(table: Optional[Any]) -> Any:
    return table if table is not None else execution_history_table()


def _details(state: Dict[str, Any], **extra: Any) -> Dict[str, Any]:
    details = {
        "executionId": state.get("execution_id"),
        "planId": state.get("plan_id"),
        "planName": state.get("plan_name"),
        "status": state.get("status"),
    }
    details.update(extra)
    return {k: v for k, v in details.items() if v is not None}


# Epoch seconds of an ISO-8601 string or an epoch number.
_epoch = clock.to_epoch


def _iso(value: Any) -> Optional[str]:
    """An ISO-8601 UTC string for an ISO string or an epoch number."""
    seconds = _epoch(value)
    if seconds is None:
        return None
    return datetime.fromtimestamp(int(seconds), tz=timezone.utc).isoformat()


def _seconds_between(start: Any, end: Any) -> Optional[int]:
    """Whole seconds from ``start`` to ``end`` (ISO strings or epochs)."""
    begin, finish = _epoch(start), _epoch(end)
    if begin is None or finish is None:
        return None
    return max(0, int(finish - begin))


def invocation_error_text(error: Exception) -> str:
    """``<type>: <message>`` of a failed wave operation: the same for the
    callee's error payload (generic port: ``FunctionError``, a timeout)
    and for the exception raised in-process (legacy port)."""
    if not isinstance(error, InvocationError):
        return f"{type(error).__name__}: {error}"
    payload = error.payload if isinstance(error.payload, dict) else {}
    message = payload.get("errorMessage", str(error.payload))
    return f"{error.error_type or 'FunctionError'}: {message}"


def run_port(
    operation: Callable[..., Dict[str, Any]],
    state: Dict[str, Any],
    *args: Any,
) -> Dict[str, Any]:
    """Call a port operation; any error ends the state ``failed`` with
    ``HANDLER_INVOCATION_FAILED``, whichever port raised it."""
    try:
        return to_jsonable(operation(to_jsonable(state), *args))
    except Exception as error:  # noqa: BLE001 - recorded as the failure
        logger.exception("wave operation failed")
        text = invocation_error_text(error)
    return mark_failed(state, "HANDLER_INVOCATION_FAILED", text)


def start_wave_or_fail(
    state: Dict[str, Any],
    wave_number: int,
    start_wave: Callable[..., Dict[str, Any]],
    table: Optional[Any] = None,
) -> Dict[str, Any]:
    """Start wave ``wave_number`` (``begin``, ``resume_wave``, the poll's
    ``wave_status.start_next_wave``). Any error, whichever port raised
    it, fails the state on that wave and the record's wave
    (``WAVE_START_INVOCATION_FAILED``, ``starting <wave> failed:
    <type>: <message>``)."""
    try:
        return to_jsonable(start_wave(to_jsonable(state), wave_number))
    except Exception as error:  # noqa: BLE001 - recorded as the failure
        logger.exception("starting a wave failed")
        text = invocation_error_text(error)
    state["current_wave_number"] = wave_number
    name = wave_name(state, wave_number)
    mark_failed(state, WAVE_START_FAILED, f"starting {name} failed: {text}")
    entry = wave_result(state, wave_number)  # FAILED, endTime, error(Code)
    if state.get("execution_id"):
        wave = {k: entry[k] for k in ("status", "endTime", "error")}
        wave["errorCode"] = WAVE_START_FAILED
        save_wave(state["execution_id"], wave_number, wave, table=table)
    return state


def finish_execution(
    state: Dict[str, Any], table: Optional[Any] = None
) -> Dict[str, Any]:
    """Record a terminal state on the execution (once) and notify.

    Running and paused states are left alone. A record already in the
    target status is not written again (Step Functions may retry).
    """
    if state.get("status") not in FINISH:
        return state
    state["end_time"] = state.get("end_time") or clock.iso_now()
    state["duration_seconds"] = _seconds_between(
        state.get("start_time"), state["end_time"]
    )
    execution_id = state.get("execution_id")
    if not execution_id:
        return state
    table = _table(table)
    # Record-level times are epoch seconds (Example 5 of the seeds; the
    # table's GSIs sort on a numeric startTime); the state keeps ISO text.
    updates = {
        "endTime": int(_epoch(state["end_time"])),
        "currentWave": state.get("current_wave_number"),
        "statusReason": state.get("status_reason"),
        "error": state.get("error"),
        "errorCode": state.get("error_code"),
    }
    try:
        record = get_execution(execution_id, table)
        updates["durationSeconds"] = _seconds_between(
            record.get("startTime"), updates["endTime"]
        )
        target, event = _write_finish(
            execution_id, record.get("status"), state, updates, table
        )
    except (InvalidStateError, NotFoundError) as error:
        logger.error("execution not finished", extra={"error": str(error)})
        return state
    if event is None:
        return state
    extra = {"error": state.get("error"), "errorCode": state.get("error_code")}
    publish_execution_event(
        event, _details(state, status=target.lower(), **extra)
    )
    return state


def _write_finish(
    execution_id: str,
    current: Optional[str],
    state: Dict[str, Any],
    updates: Dict[str, Any],
    table: Any,
) -> tuple:
    """Transition the record to the state's ending: (status, event).

    The event is None when the record already had that status. A record
    found (or turned, racing a cancel) CANCELLING ends CANCELLED.
    """
    target, event = FINISH[state["status"]]
    for _attempt in range(2):
        if current == statuses.CANCELLING:
            target, event = CANCELLED_FINISH
            updates = dict(updates, statusReason=_cancel_reason(state))
        if current == target:
            return target, None
        try:
            transition_status(
                execution_id,
                target,
                {k: v for k, v in updates.items() if v is not None},
                table=table,
            )
            return target, event
        except InvalidStateError as error:
            current = error.details.get("currentStatus")
            if current != statuses.CANCELLING:
                raise
    raise InvalidStateError(f"execution {execution_id} not finished")


def _cancel_reason(state: Dict[str, Any]) -> str:
    """statusReason of a cancelled execution whose state ended otherwise."""
    if state.get("status") == "cancelled":
        return str(state.get("status_reason") or "cancelled")
    detail = state.get("status_reason") or state.get("error") or ""
    return f"cancelled; the execution ended {state['status']}" + (
        f": {detail}" if detail else ""
    )


def _new_record(state: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "executionId": state["execution_id"],
        "planId": state.get("plan_id"),
        "planName": state.get("plan_name"),
        "executionType": "DRILL" if state.get("is_drill") else "RECOVERY",
        "isDrill": bool(state.get("is_drill")),
        "status": statuses.PENDING,
        "initiatedBy": "step-functions",
        "startTime": int(_epoch(state["start_time"])),
        "updatedTime": clock.epoch(),
        "version": 0,
        "accountContext": state.get("accountContext") or {},
        "totalWaves": state["total_waves"],
        "currentWave": 0,
        "waves": _pending_waves(state),
    }


def _pending_waves(state: Dict[str, Any]) -> list:
    return [
        {
            "waveNumber": wave.get("waveNumber", index),
            "waveName": wave.get("waveName") or f"Wave {index + 1}",
            "protectionGroupId": wave.get("protectionGroupId"),
            "status": statuses.WAVE_PENDING,
            "servers": [],
        }
        for index, wave in enumerate(state["waves"])
    ]


def build_state(event: Dict[str, Any]) -> Dict[str, Any]:
    """The initial state from the state machine input (CONTRACTS §3)."""
    plan = event.get("plan") or {}
    application = event.get("application") or {}
    waves = sorted(
        (
            {k: w[k] for k in WAVE_KEYS if k in w}
            for w in to_jsonable(plan.get("waves") or [])
        ),
        key=lambda w: int(w.get("waveNumber") or 0),
    )
    settings = get_settings()
    return {
        "plan_id": plan.get("planId"),
        "plan_name": plan.get("planName"),
        "execution_id": event.get("executionId")
        or application.get("execution_id"),
        "execution_arn": event.get("execution"),
        "is_drill": bool(event.get("isDrill", True)),
        "accountContext": event.get("accountContext") or {},
        "waves": waves,
        "total_waves": len(waves),
        "current_wave_number": 0,
        "completed_waves": 0,
        "failed_waves": 0,
        "wave_completed": False,
        "all_waves_completed": False,
        "status": "running",
        "status_reason": None,
        "paused_before_wave": None,
        "job_id": None,
        "region": None,
        "server_ids": [],
        "wave_results": [],
        "current_wave_update_time": settings.wave_poll_interval_seconds,
        "current_wave_total_wait_time": 0,
        "current_wave_max_wait_time": settings.wave_max_wait_seconds,
        "start_time": clock.iso_now(),
        "end_time": None,
        "duration_seconds": None,
        "error": None,
        "error_code": None,
    }


def _mark_running(state: Dict[str, Any], table: Any) -> Optional[str]:
    """PENDING -> RUNNING (creating the record if missing).

    Returns the record's status when it cannot run (CANCELLING).
    """
    try:
        table.put_item(
            Item=_new_record(state),
            ConditionExpression="attribute_not_exists(executionId)",
        )
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code != "ConditionalCheckFailedException":
            raise
    record = get_execution(state["execution_id"], table)
    if _iso(record.get("startTime")):
        state["start_time"] = _iso(record["startTime"])
    arn = state.get("execution_arn")
    if record.get("status") == statuses.CANCELLING:
        return statuses.CANCELLING
    if record.get("status") == statuses.RUNNING and (
        record.get("stateMachineExecutionArn") == arn
    ):
        return None  # Begin retried after the transition.
    updates = {"totalWaves": state["total_waves"], "currentWave": 0}
    if arn:
        updates["stateMachineExecutionArn"] = arn
    if len(record.get("waves") or []) != state["total_waves"]:
        updates["waves"] = _pending_waves(state)
    transition_status(
        state["execution_id"], statuses.RUNNING, updates, table=table
    )
    return None


def begin_wave_plan(
    event: Dict[str, Any], port: OperationsPort, table: Optional[Any] = None
) -> Dict[str, Any]:
    """Build the state, mark the record RUNNING, start the first wave."""
    state = build_state(event)
    table = _table(table)
    if state["execution_id"]:
        if _mark_running(state, table) == statuses.CANCELLING:
            mark_cancelled(state, "cancelled before start")
            return finish_execution(state, table)
    publish_execution_event("EXECUTION_STARTED", _details(state))
    if not state["waves"]:
        state.update(
            status="completed",
            all_waves_completed=True,
            wave_completed=True,
            status_reason="the plan has no waves",
        )
        return finish_execution(state, table)
    state = start_wave_or_fail(state, 0, port.start_wave, table)
    return finish_execution(state, table)


def poll_wave_status(
    event: Dict[str, Any], port: OperationsPort, table: Optional[Any] = None
) -> Dict[str, Any]:
    """Poll the current wave through the port."""
    state = dict(event.get("application") or {})
    if is_terminal(state):
        return state
    state = run_port(port.poll, state)
    return finish_execution(state, table)


def store_task_token(
    event: Dict[str, Any], table: Optional[Any] = None
) -> Dict[str, Any]:
    """Persist the task token: RUNNING -> PAUSED, ``pausedBeforeWave``."""
    state = dict(event.get("application") or {})
    table = _table(table)
    execution_id = state.get("execution_id")
    record = get_execution(execution_id, table)
    if record.get("status") == statuses.CANCELLING:
        mark_cancelled(state, "cancelled while pausing")
        finish_execution(state, table)
        raise ExecutionCancelled(f"execution {execution_id} was cancelled")
    transition_status(
        execution_id,
        statuses.PAUSED,
        {
            "taskToken": event.get("taskToken"),
            "pausedBeforeWave": state.get("paused_before_wave"),
            "pauseRequested": False,
        },
        table=table,
    )
    publish_execution_event(
        "EXECUTION_PAUSED",
        _details(state, pausedBeforeWave=state.get("paused_before_wave")),
    )
    return state


def resume_wave(
    event: Dict[str, Any], port: OperationsPort, table: Optional[Any] = None
) -> Dict[str, Any]:
    """Start the wave the execution paused before."""
    state = dict(event.get("application") or {})
    table = _table(table)
    wave_number = state.get("paused_before_wave")
    record = get_execution(state["execution_id"], table)
    if record.get("status") == statuses.CANCELLING:
        mark_cancelled(state, "cancelled while paused")
        return finish_execution(state, table)
    if record.get("status") == statuses.PAUSED:
        cleared = {"pausedBeforeWave": None, "taskToken": None}
        transition_status(
            state["execution_id"], statuses.RUNNING, cleared, table=table
        )
        publish_execution_event("EXECUTION_RESUMED", _details(state))
    if wave_number is None:
        state = mark_failed(
            state, "NOTHING_TO_RESUME", "the state has no paused_before_wave"
        )
        return finish_execution(state, table)
    state.update(status="running", paused_before_wave=None)
    state = start_wave_or_fail(state, int(wave_number), port.start_wave, table)
    return finish_execution(state, table)


def record_failure(
    event: Dict[str, Any], table: Optional[Any] = None
) -> Dict[str, Any]:
    """The state machine's ``States.ALL`` catch: record FAILED."""
    state = dict(event.get("application") or {})
    error = str(event.get("error") or "States.ALL")
    cause = str(event.get("cause") or "")[:2000]
    mark_failed(state, "ORCHESTRATION_ERROR", f"{error}: {cause}".strip(": "))
    return finish_execution(state, table)


def handle(
    event: Dict[str, Any], port: OperationsPort, table: Optional[Any] = None
) -> Dict[str, Any]:
    """Dispatch a state machine event to the core."""
    action = event.get("action")
    # Every module's log lines of this invocation carry the execution id.
    application = event.get("application") or {}
    logger.set_correlation_id(
        event.get("executionId") or application.get("execution_id")
    )
    if action == "begin":
        return begin_wave_plan(event, port, table)
    if action == "poll_wave_status":
        return poll_wave_status(event, port, table)
    if action == "store_task_token":
        return store_task_token(event, table)
    if action == "resume_wave":
        return resume_wave(event, port, table)
    if action == "record_failure":
        return record_failure(event, table)
    raise ValueError(f"unknown orchestration action {action!r}")
