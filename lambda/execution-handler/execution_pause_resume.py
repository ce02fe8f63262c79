"""Pause and resume an execution.

Pause: RUNNING -> ``pauseRequested`` (every wave that becomes ready then
waits for approval; the execution pauses once nothing runs). Resume:
approves the waves waiting for approval (all, or the one named by
``waveNumber``, issue 17) on the record; a PAUSED execution goes RUNNING
(conditional) and its wait is released with ``SendTaskSuccess`` and the
stored task token; a RUNNING one (other branches still running) starts
the approved wave on its next poll.
"""

from typing import Any, Dict, Optional

from botocore.exceptions import BotoCoreError, ClientError

from execution_control import stop_state_machine
from execution_routes import router
from execution_store import update_execution
from shared import clock
from shared.api import Request
from shared.aws_clients import get_client
from shared.aws_errors import translate_client_error
from shared.ddb_updates import condition_failed
from shared.errors import DomainError, InvalidStateError
from shared.execution_records import get_execution, transition_status
from shared.logging_setup import get_logger
from shared.notifications import notify_execution
from shared.progress_wake import TASK_GONE_CODES, wake_execution
from shared.responses import dumps
from shared.statuses import FAILED, PAUSED, RUNNING
from shared.validation import validate_int
from shared.wave_graph import waiting_indexes
from shared.wave_state import approve_waves

logger = get_logger("execution-handler")


@router.operation("pause_execution")
def pause_execution_operation(request: Request) -> Dict[str, Any]:
    """POST /executions/{id}/pause."""
    return pause_execution(request.path_param("id"), request.caller.name)


def pause_execution(
    execution_id: str, paused_by: str = "unknown", table=None
) -> Dict[str, Any]:
    """Ask a RUNNING execution to pause before its next wave."""
    record = update_execution(
        execution_id,
        {"pauseRequested": True, "pauseRequestedBy": paused_by},
        expected_statuses=[RUNNING],
        table=table,
    )
    return {
        "executionId": execution_id,
        "status": record["status"],
        "pauseRequested": True,
        "message": "Execution will pause before its next wave",
    }


@router.operation("resume_execution")
def resume_execution_operation(request: Request) -> Dict[str, Any]:
    """POST /executions/{id}/resume (optional body ``waveNumber``)."""
    wave_number = (request.body or {}).get("waveNumber")
    if wave_number is not None:
        wave_number = validate_int(wave_number, "waveNumber", 0, 10_000)
    return resume_execution(
        request.path_param("id"), request.caller.name, wave_number=wave_number
    )


def _approvals(record: Dict[str, Any], wave_number: Optional[int]):
    """The waves a resume approves: the one named by ``waveNumber`` (it
    must be waiting for approval), else every waiting wave."""
    waiting = waiting_indexes(record)
    if wave_number is None:
        return waiting
    named = [
        i
        for i in waiting
        if record["waves"][i].get("waveNumber") == wave_number
    ]
    if not named:
        raise InvalidStateError(
            f"wave {wave_number} is not waiting for approval",
            currentStatus=record.get("status"),
            waitingWaves=[
                record["waves"][i].get("waveNumber") for i in waiting
            ],
        )
    return named


def resume_execution(
    execution_id: str,
    resumed_by: str = "unknown",
    table: Optional[Any] = None,
    sfn_client: Optional[Any] = None,
    wave_number: Optional[int] = None,
) -> Dict[str, Any]:
    """PAUSED -> RUNNING, then release the paused task with its token.

    The waves approved (issue 17): the one named by ``wave_number``, or
    every wave waiting for approval; a RUNNING execution whose graph has
    a wave waiting while other branches run gets it approved (the next
    poll starts it). A second resume (or a resume of a running execution
    with nothing waiting) is INVALID_STATE. A wait Step Functions no
    longer has (no token, task gone, timed out) fails the execution and
    stops its state machine: nothing would ever continue it. Any other
    error puts the record back to PAUSED and is retryable (429 when
    throttled).
    """
    paused = get_execution(execution_id, table)
    approved = _approvals(paused, wave_number)
    if paused.get("status") == RUNNING and approved:
        try:
            approve_waves(execution_id, approved, table)
        except ClientError as error:
            if not condition_failed(error):
                raise
            # Paused meanwhile (the poll saw nothing else running): the
            # pause's own resume below.
            return resume_execution(
                execution_id, resumed_by, table, sfn_client, wave_number
            )
        # The running execution's progress wait ends now (issue 18): the
        # approved wave starts at once, not at the next poll.
        wake_execution(execution_id, "resume", table)
        return {
            "executionId": execution_id,
            "status": RUNNING,
            "approvedWaves": [
                paused["waves"][i].get("waveNumber") for i in approved
            ],
            "message": "Wave(s) approved; they start on the next poll",
        }
    token = paused.get("taskToken")
    record = transition_status(
        execution_id,
        RUNNING,
        {
            "resumedBy": resumed_by,
            "resumedTime": clock.epoch(),
            "taskToken": None,
            "pausedBeforeWave": None,
            "approvedWaves": sorted(
                set(paused.get("approvedWaves") or []) | set(approved)
            ),
        },
        table=table,
        allowed_from=frozenset({PAUSED}),
        expected={"taskToken": token} if token else None,
    )
    sfn = sfn_client or get_client("stepfunctions")
    try:
        if not token:
            raise ValueError("no task token stored")
        sfn.send_task_success(
            taskToken=token, output=dumps({"resumedBy": resumed_by})
        )
    except ValueError as error:
        _fail_unresumable(paused, str(error), table, sfn)
    except (ClientError, BotoCoreError) as error:
        if isinstance(error, ClientError) and (
            error.response["Error"]["Code"] in TASK_GONE_CODES
        ):
            _fail_unresumable(paused, str(error), table, sfn)
        _back_to_paused(paused, table)
        raise _retryable_resume_error(execution_id, error) from error
    notify_execution("EXECUTION_RESUMED", record)
    return {
        "executionId": execution_id,
        "status": RUNNING,
        "resumedWave": paused.get("pausedBeforeWave"),
        "message": "Execution resumed",
    }


def _fail_unresumable(
    paused: Dict[str, Any], why: str, table: Optional[Any], sfn: Any
) -> None:
    """The paused wait is gone: FAILED, state machine stopped; raises."""
    execution_id = paused["executionId"]
    reason = f"resume failed: {why}"
    failed = transition_status(
        execution_id,
        FAILED,
        {"statusReason": reason, "error": reason, "endTime": clock.epoch()},
        table=table,
    )
    arn = paused.get("stateMachineExecutionArn")
    if arn:
        stop_state_machine(arn, "a failed resume", sfn)
    notify_execution("EXECUTION_FAILED", failed)
    raise InvalidStateError(
        f"execution {execution_id} could not be resumed: the paused "
        "task no longer exists",
        executionId=execution_id,
        currentStatus=FAILED,
    )


def _retryable_resume_error(execution_id: str, error: Exception):
    """429 when Step Functions throttled, else 500: resume again."""
    if isinstance(error, ClientError):
        mapped = translate_client_error(error, "Step Functions")
        if mapped is not None:
            return mapped
    return DomainError(
        f"execution {execution_id} was not resumed ({error}); it is "
        "PAUSED again: retry the resume",
        executionId=execution_id,
        currentStatus=PAUSED,
    )


def _back_to_paused(paused: Dict[str, Any], table: Optional[Any]) -> None:
    """Undo the RUNNING write: the state machine still waits."""
    try:
        transition_status(
            paused["executionId"],
            PAUSED,
            {
                "taskToken": paused.get("taskToken"),
                "pausedBeforeWave": paused.get("pausedBeforeWave"),
            },
            table=table,
            allowed_from=frozenset({RUNNING}),
        )
    except InvalidStateError as error:
        # Cancelled meanwhile: the cancel owns the record now.
        logger.warning("resume not reverted", extra={"error": str(error)})
