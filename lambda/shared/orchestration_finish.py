"""How an orchestration ends: the one terminal write of the core.

``finish_execution`` records the state's ending on the execution once
(Step Functions may retry) and notifies. A CANCELLING record ends
CANCELLED whatever the state machine's own ending (CONTRACTS §4; the
backup cancel path when the state machine could not be stopped).

A drill never leaves a recovery instance behind: the caller whose write
made a drill FAILED, TIMEOUT or CANCELLED (one winner, the write is
conditional) asks the execution-handler's drill cleanup (through the
port: a Lambda invoke or in-process) to terminate what its jobs launched
(once they ended: the execution-handler follows jobs still launching).
A COMPLETED drill keeps its instances for the user to test; a RECOVERY's
instances are never cleaned up.
"""

from typing import Any, Callable, Dict, Optional

from botocore.exceptions import ClientError

from shared import clock, statuses
from shared.engine_state import EngineState
from shared.errors import InvalidStateError, NotFoundError
from shared.execution_records import get_execution, transition_status
from shared.logging_setup import get_logger
from shared.notifications import publish_execution_event
from shared.tables import execution_history_table

logger = get_logger("orchestration")

# State status -> (record status, notification event).
FINISH = {
    "completed": (statuses.COMPLETED, "EXECUTION_COMPLETED"),
    "failed": (statuses.FAILED, "EXECUTION_FAILED"),
    "timeout": (statuses.TIMEOUT, "EXECUTION_TIMEOUT"),
    "cancelled": (statuses.CANCELLED, "EXECUTION_CANCELLED"),
}
# CONTRACTS §4: a CANCELLING execution ends CANCELLED whatever the state
# machine's own ending (the user's cancel wins; the ending is the reason).
CANCELLED_FINISH = (statuses.CANCELLED, "EXECUTION_CANCELLED")
# Endings after which a drill's recovery instances are terminated.
CLEANED_ENDINGS = frozenset(
    {statuses.FAILED, statuses.TIMEOUT, statuses.CANCELLED}
)

# ``cleanup_drill(execution_id)``: terminate a finished drill's instances.
DrillCleanup = Callable[[str], Any]


def event_details(state: EngineState, **extra: Any) -> Dict[str, Any]:
    """The notification details of an execution event."""
    details = {
        "executionId": state.execution_id,
        "planId": state.plan_id,
        "planName": state.plan_name,
        "status": state.status,
    }
    details.update(extra)
    return {k: v for k, v in details.items() if v is not None}


def seconds_between(start: Any, end: Any) -> Optional[int]:
    """Whole seconds from ``start`` to ``end`` (ISO strings or epochs)."""
    begin, finish = clock.to_epoch(start), clock.to_epoch(end)
    if begin is None or finish is None:
        return None
    return max(0, int(finish - begin))


def finish_execution(
    state: EngineState,
    table: Optional[Any] = None,
    cleanup_drill: Optional[DrillCleanup] = None,
) -> EngineState:
    """Record a terminal state on the execution (once) and notify.

    Running and paused states are left alone. A record already in the
    target status is not written again (Step Functions may retry). The
    winning write of a drill's failed/timed-out/cancelled ending calls
    ``cleanup_drill``.
    """
    if state.status not in FINISH:
        return state
    state.end_time = state.end_time or clock.iso_now()
    state.duration_seconds = seconds_between(state.start_time, state.end_time)
    execution_id = state.execution_id
    if not execution_id:
        return state
    table = table if table is not None else execution_history_table()
    # Record-level times are epoch seconds (Example 5 of the seeds; the
    # table's GSIs sort on a numeric startTime); the state keeps ISO text.
    updates = {
        "endTime": int(clock.to_epoch(state.end_time)),
        "currentWave": state.current_wave_number,
        "statusReason": state.status_reason,
        "error": state.error,
        "errorCode": state.error_code,
    }
    try:
        record = get_execution(execution_id, table)
        updates["durationSeconds"] = seconds_between(
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
    extra = {"error": state.error, "errorCode": state.error_code}
    publish_execution_event(
        event, event_details(state, status=target.lower(), **extra)
    )
    if record.get("isDrill") and target in CLEANED_ENDINGS and cleanup_drill:
        _cleanup(execution_id, cleanup_drill, table)
    return state


def _cleanup(execution_id: str, cleanup_drill: DrillCleanup, table) -> None:
    """Run the drill cleanup; a failure to reach it is recorded (the
    cleanup records its own failures) and never fails the ending."""
    try:
        cleanup_drill(execution_id)
    except Exception as error:  # noqa: BLE001 - recorded, never raised
        logger.exception("drill cleanup not reached")
        message = (
            "terminating the drill's recovery instances failed "
            f"({type(error).__name__}); run terminate-instances for this "
            "execution"
        )
        _record_cleanup_error(execution_id, message, table)


def _record_cleanup_error(execution_id: str, message: str, table) -> None:
    names = {"#s": "status"}
    values: Dict[str, Any] = {":m": message}
    keys = []
    for index, status in enumerate(sorted(statuses.TERMINAL_STATUSES)):
        values[f":t{index}"] = status
        keys.append(f":t{index}")
    try:
        table.update_item(
            Key={"executionId": execution_id},
            UpdateExpression="SET drillCleanupError = :m",
            ConditionExpression="#s IN (" + ", ".join(keys) + ")",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except ClientError as error:
        logger.error("drillCleanupError not recorded: %s", error)


def _write_finish(
    execution_id: str,
    current: Optional[str],
    state: EngineState,
    updates: Dict[str, Any],
    table: Any,
) -> tuple:
    """Transition the record to the state's ending: (status, event).

    The event is None when the record already had that status. A record
    found (or turned, racing a cancel) CANCELLING ends CANCELLED.
    """
    target, event = FINISH[str(state.status)]
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


def _cancel_reason(state: EngineState) -> str:
    """statusReason of a cancelled execution whose state ended otherwise."""
    if state.status == "cancelled":
        return str(state.status_reason or "cancelled")
    detail = state.status_reason or state.error or ""
    return f"cancelled; the execution ended {state.status}" + (
        f": {detail}" if detail else ""
    )
