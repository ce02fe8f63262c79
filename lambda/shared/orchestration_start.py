"""How an orchestration begins: the initial state and the RUNNING record.

``initial_state`` turns the state machine input (CONTRACTS §2) into the
state of CONTRACTS §3 (``shared.engine_state``; ``build_state``: its
JSON); ``mark_running`` creates the execution record if
missing and moves it PENDING -> RUNNING (a retried ``begin`` is a no-op).
"""

from datetime import datetime, timezone
from typing import Any, Dict, Optional

from botocore.exceptions import ClientError

from shared import clock, statuses
from shared.config import get_settings
from shared.ddb_updates import condition_failed
from shared.engine_state import EngineState
from shared.execution_records import get_execution, transition_status
from shared.responses import to_jsonable

WAVE_KEYS = (
    "waveNumber",
    "waveName",
    "protectionGroupId",
    "protectionGroupIds",
    "pauseBeforeWave",
    "dependsOnWaves",
)


def iso(value: Any) -> Optional[str]:
    """An ISO-8601 UTC string for an ISO string or an epoch number."""
    seconds = clock.to_epoch(value)
    if seconds is None:
        return None
    return datetime.fromtimestamp(int(seconds), tz=timezone.utc).isoformat()


def _new_record(state: EngineState) -> Dict[str, Any]:
    return {
        "executionId": state.execution_id,
        "planId": state.plan_id,
        "planName": state.plan_name,
        "executionType": "DRILL" if state.is_drill else "RECOVERY",
        "isDrill": bool(state.is_drill),
        "status": statuses.PENDING,
        "initiatedBy": "step-functions",
        "startTime": int(clock.to_epoch(state.start_time)),
        "updatedTime": clock.epoch(),
        "version": 0,
        "accountContext": state.input_account_context or {},
        "totalWaves": state.total_waves,
        "currentWave": 0,
        "waves": _pending_waves(state),
    }


def _pending_waves(state: EngineState) -> list:
    return [
        {
            "waveNumber": wave.get("waveNumber", index),
            "waveName": wave.get("waveName") or f"Wave {index + 1}",
            "protectionGroupId": wave.get("protectionGroupId"),
            **(
                {"protectionGroupIds": wave["protectionGroupIds"]}
                if wave.get("protectionGroupIds")
                else {}
            ),
            **(
                {"dependsOnWaves": wave["dependsOnWaves"]}
                if wave.get("dependsOnWaves") is not None
                else {}
            ),
            "status": statuses.WAVE_PENDING,
            "servers": [],
        }
        for index, wave in enumerate(state.waves or [])
    ]


def build_state(event: Dict[str, Any]) -> Dict[str, Any]:
    """The initial JSON state from the state machine input."""
    return initial_state(event).to_json()


def initial_state(event: Dict[str, Any]) -> EngineState:
    """The initial state from the state machine input (CONTRACTS §3; its
    keys in this order)."""
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
    return EngineState().set(
        plan_id=plan.get("planId"),
        plan_name=plan.get("planName"),
        execution_id=event.get("executionId")
        or application.get("execution_id"),
        execution_arn=event.get("execution"),
        is_drill=bool(event.get("isDrill", True)),
        input_account_context=event.get("accountContext") or {},
        waves=waves,
        total_waves=len(waves),
        current_wave_number=0,
        completed_waves=0,
        failed_waves=0,
        wave_completed=False,
        all_waves_completed=False,
        status="running",
        status_reason=None,
        paused_before_wave=None,
        job_id=None,
        region=None,
        server_ids=[],
        wave_results=[],
        current_wave_update_time=settings.wave_poll_interval_seconds,
        current_wave_total_wait_time=0,
        current_wave_max_wait_time=settings.wave_max_wait_seconds,
        start_time=clock.iso_now(),
        end_time=None,
        duration_seconds=None,
        error=None,
        error_code=None,
    )


def mark_running(state: EngineState, table: Any) -> Optional[str]:
    """PENDING -> RUNNING (creating the record if missing).

    Returns the record's status when it cannot run (CANCELLING).
    """
    try:
        table.put_item(
            Item=_new_record(state),
            ConditionExpression="attribute_not_exists(executionId)",
        )
    except ClientError as error:
        if not condition_failed(error):
            raise
    record = get_execution(state.execution_id, table)
    if iso(record.get("startTime")):
        state.start_time = iso(record["startTime"])
    arn = state.execution_arn
    if record.get("status") == statuses.CANCELLING:
        return statuses.CANCELLING
    if record.get("status") == statuses.RUNNING and (
        record.get("stateMachineExecutionArn") == arn
    ):
        return None  # Begin retried after the transition.
    updates = {"totalWaves": state.total_waves, "currentWave": 0}
    if arn:
        updates["stateMachineExecutionArn"] = arn
    if len(record.get("waves") or []) != state.total_waves:
        updates["waves"] = _pending_waves(state)
    transition_status(
        state.execution_id, statuses.RUNNING, updates, table=table
    )
    return None
