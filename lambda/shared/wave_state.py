"""Helpers on the orchestration state (CONTRACTS §3) and on ``waves[i]``
of the execution record, shared by the wave engine and the orchestration
core. No DRS code here."""

from typing import Any, Dict, List, Optional

from botocore.exceptions import ClientError

from shared import clock, statuses
from shared.ddb_updates import SetExpression, condition_failed
from shared.engine_state import EngineState
from shared.tables import execution_history_table
from shared.wave_plan_store import PLANNED_FIELDS

FAILED = "failed"
TERMINAL_STATE_STATUSES = ("completed", "failed", "cancelled", "timeout")


def wave_name(state: EngineState, index: int) -> str:
    """The wave's name, or ``Wave <n>``."""
    waves = state.waves or []
    wave = waves[index] if 0 <= index < len(waves) else {}
    return str(wave.get("waveName") or f"Wave {index + 1}")


def wave_result(state: EngineState, index: int) -> Dict[str, Any]:
    """The ``wave_results`` entry of wave ``index`` (created if absent)."""
    if state.wave_results is None:
        state.wave_results = []
    results: List[Dict[str, Any]] = state.wave_results
    for entry in results:
        if entry.get("waveIndex") == index:
            return entry
    wave = state.waves[index] if state.waves else {}
    entry = {
        "waveIndex": index,
        "waveNumber": wave.get("waveNumber", index),
        "waveName": wave_name(state, index),
        "status": "PENDING",
    }
    results.append(entry)
    return entry


def mark_failed(
    state: EngineState,
    error_code: str,
    error: str,
    status: str = FAILED,
) -> EngineState:
    """End the current wave and the state with ``status`` and an error."""
    state.set(
        status=status,
        error=error,
        error_code=error_code,
        status_reason=error,
        wave_completed=True,
    )
    index = state.current_wave_number
    if isinstance(index, int) and state.waves:
        entry = wave_result(state, index)
        entry["status"] = "CANCELLED" if status == "cancelled" else "FAILED"
        entry["endTime"] = clock.iso_now()
        entry["error"] = error
        entry["errorCode"] = error_code
    return state


def mark_cancelled(state: EngineState, reason: str) -> EngineState:
    """End the state ``cancelled`` (both completion flags set)."""
    mark_failed(state, "EXECUTION_CANCELLED", reason, status="cancelled")
    state.all_waves_completed = True
    return state


def end_for_record(
    state: EngineState, record_status: Optional[str], during: str
) -> bool:
    """End the state when the record says the execution stopped.

    CANCELLING/CANCELLED -> ``cancelled``; another terminal status ->
    ``failed`` with ``EXECUTION_NOT_RUNNING``. True when the state ended.
    """
    if record_status in (statuses.CANCELLING, statuses.CANCELLED):
        mark_cancelled(state, f"execution cancelled {during}")
        return True
    if record_status in statuses.TERMINAL_STATUSES:
        mark_failed(
            state,
            "EXECUTION_NOT_RUNNING",
            f"the execution is {record_status} ({during})",
        )
        return True
    return False


def is_terminal(state: EngineState) -> bool:
    """True when the state machine should stop (any end status)."""
    return state.status in TERMINAL_STATE_STATUSES


def save_wave(
    execution_id: str,
    index: int,
    wave: Dict[str, Any],
    extra: Optional[Dict[str, Any]] = None,
    table: Optional[Any] = None,
) -> None:
    """Set the attributes of ``waves[index]`` given in ``wave`` (and the
    record attributes ``extra``).

    Only those attributes are written: other writers' attributes (the
    lifecycle API setting CANCELLING) stay as they are; the planned
    ``serverIds`` live outside the item (``shared.wave_plan_store``) and
    are never written here. A terminal record is never written (the
    condition fails with ``ConditionalCheckFailedException``).
    """
    table = table or execution_history_table()
    update = SetExpression({"#waves": "waves", "#status": "status"})
    update.values.update(_TERMINAL_VALUES)
    kept = {k: v for k, v in wave.items() if k not in PLANNED_FIELDS}
    update.add(f"#waves[{int(index)}].", "w", kept)
    update.add("", "x", extra or {})
    table.update_item(
        Key={"executionId": execution_id},
        UpdateExpression=update.expression,
        ConditionExpression="attribute_exists(executionId) AND NOT "
        f"#status IN ({', '.join(_TERMINAL_VALUES)})",
        ExpressionAttributeNames=update.names,
        ExpressionAttributeValues=update.values,
    )


_TERMINAL_VALUES = {
    f":t{position}": status
    for position, status in enumerate(sorted(statuses.TERMINAL_STATUSES))
}


def claim_wave(
    execution_id: str, index: int, table: Optional[Any] = None
) -> bool:
    """Mark ``waves[index]`` STARTED before its DRS job is started.

    Conditional: the record is RUNNING and the wave has no ``jobId`` and
    is PENDING (or WAITING_APPROVAL, approved since), so a retried or
    concurrent start, or a start after a cancellation, cannot start a
    second job. False when the condition
    fails (the caller reads the record to see why).
    """
    table = table or execution_history_table()
    wave = f"#waves[{int(index)}]"
    try:
        table.update_item(
            Key={"executionId": execution_id},
            UpdateExpression=f"SET {wave}.#status = :started, "
            f"{wave}.#st = :iso, updatedTime = :now",
            ConditionExpression=f"#status = :running AND "
            f"attribute_not_exists({wave}.#job) AND "
            f"(attribute_not_exists({wave}.#status) "
            f"OR {wave}.#status IN (:pending, :waiting))",
            ExpressionAttributeNames={
                "#waves": "waves",
                "#status": "status",
                "#st": "startTime",
                "#job": "jobId",
            },
            ExpressionAttributeValues={
                ":running": statuses.RUNNING,
                ":pending": statuses.WAVE_PENDING,
                ":waiting": statuses.WAVE_WAITING_APPROVAL,
                ":started": statuses.WAVE_STARTED,
                ":iso": clock.iso_now(),
                ":now": clock.epoch(),
            },
        )
    except ClientError as error:
        if condition_failed(error):
            return False
        raise
    return True


def approve_waves(
    execution_id: str, indexes: List[int], table: Optional[Any] = None
) -> None:
    """Approve waves waiting for approval while the execution RUNS
    (other branches of its graph still running): ``approvedWaves`` on the
    record, read by the next poll (``shared.wave_graph``). Conditional on
    RUNNING; InvalidStateError-free: the caller checked the record and a
    refused condition surfaces as ClientError."""
    table = table or execution_history_table()
    table.update_item(
        Key={"executionId": execution_id},
        UpdateExpression="SET approvedWaves = list_append("
        "if_not_exists(approvedWaves, :empty), :new), updatedTime = :now",
        ConditionExpression="#status = :running",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={
            ":empty": [],
            ":new": [int(i) for i in indexes],
            ":running": statuses.RUNNING,
            ":now": clock.epoch(),
        },
    )
