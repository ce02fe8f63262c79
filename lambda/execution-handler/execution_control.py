"""Cancel, pause and resume a running execution.

Cancel: PENDING/RUNNING/PAUSED -> CANCELLING (conditional), stop the
state machine by its stored ARN, then CANCELLED once no DRS job of the
execution is PENDING/STARTED: at once when none is, else the
``settle_cancelled_execution`` worker follows the jobs until they end
or a deadline (after which it still ends CANCELLED, naming the
unsettled jobs). The state machine is stopped, so the wave engine's poll
cannot be relied on. The ending is ``execution_settlement.finish_cancel``:
DRS's per-server truth recorded, a drill's instances terminated.

Pause: RUNNING -> ``pauseRequested`` (the poll pauses before the next
wave). Resume: PAUSED -> RUNNING (conditional) then ``SendTaskSuccess``
with the stored task token.
"""

import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from botocore.exceptions import BotoCoreError, ClientError

from execution_drs import unsettled_jobs
from execution_routes import router
from execution_settlement import finish_cancel
from execution_store import update_execution
from sliced_worker import run_in_slices
from shared import clock
from shared.api import Request
from shared.aws_clients import get_client
from shared.config import get_settings
from shared.aws_errors import translate_client_error
from shared.errors import DomainError, InvalidStateError
from shared.execution_records import get_execution, transition_status
from shared.lambda_invoke import invoke_async
from shared.logging_setup import get_logger
from shared.notifications import notify_execution
from shared.responses import dumps
from shared.wave_jobs import STARTING, wave_jobs, with_status
from shared.wave_schedule import QUEUED as WAVE_QUEUED
from shared.statuses import (
    CANCELLED,
    CANCELLING,
    FAILED,
    PAUSED,
    RUNNING,
    WAVE_STARTED,
)

logger = get_logger("execution-handler")

SETTLE_ACTION = "settle_cancelled_execution"
# One worker invocation re-checks for at most this long, then re-queues
# itself; the whole settling is bounded by WAVE_MAX_WAIT_SECONDS.
SETTLE_SLICE_SECONDS = 600
# Queueing the settle worker is tried this often before the cancel ends
# here (the client already retried each attempt).
SETTLE_HAND_OFF_ATTEMPTS = 2
# The longest a wave's start runs (the execution-handler's timeout plus a
# margin): a claimed wave without a job after that never gets one.
START_IN_FLIGHT_SECONDS = 330
# SendTaskSuccess errors meaning the paused wait no longer exists.
TASK_GONE_CODES = frozenset(
    {"TaskDoesNotExist", "InvalidToken", "TaskTimedOut"}
)


@router.operation("cancel_execution")
def cancel_execution_operation(request: Request) -> Dict[str, Any]:
    """POST /executions/{id}/cancel."""
    return cancel_execution(
        request.path_param("id"), cancelled_by=request.caller.name
    )


def cancel_execution(
    execution_id: str,
    cancelled_by: str = "unknown",
    table: Optional[Any] = None,
    sfn_client: Optional[Any] = None,
    drs_client: Optional[Any] = None,
    lambda_client: Optional[Any] = None,
) -> Dict[str, Any]:
    """Cancel: CANCELLING, stop the state machine, settle or hand off.

    A repeated cancel of a CANCELLING execution answers its state and
    triggers the settling again (a lost settle worker is recovered).
    """
    try:
        record = transition_status(
            execution_id,
            CANCELLING,
            {"cancelledBy": cancelled_by, "pauseRequested": False},
            table=table,
        )
    except InvalidStateError as error:
        if error.details.get("currentStatus") != CANCELLING:
            raise
        record = get_execution(execution_id, table)
    arn = record.get("stateMachineExecutionArn")
    if arn:
        _stop_state_machine(arn, cancelled_by, sfn_client)
    record, busy = _settle_or_hand_off(
        record, table, drs_client, lambda_client
    )
    return {
        "executionId": execution_id,
        "status": record["status"],
        "stateMachineStopped": bool(arn),
        "activeJobs": busy,
        "message": (
            "Execution cancelled"
            if record["status"] == CANCELLED
            else "Cancelling: waiting for DRS jobs to settle"
        ),
    }


def _settle_or_hand_off(
    record: Dict[str, Any],
    table: Optional[Any],
    drs_client: Optional[Any],
    lambda_client: Optional[Any],
) -> Tuple[Dict[str, Any], List[str]]:
    """CANCELLED at once when no job is active, else queue the settle
    worker: (record, active job ids).

    The record is CANCELLING and the state machine stopped, so nothing
    else would ever finish it (and free the plan): a DRS error hands the
    check to the worker; a worker that cannot be queued (twice) ends the
    cancel here, naming what may still run.
    """
    execution_id = record["executionId"]
    busy = _checked_unsettled_jobs(record, drs_client)
    if busy == []:
        return (
            finish_cancel(execution_id, table=table, drs_client=drs_client),
            [],
        )
    payload = {
        "action": SETTLE_ACTION,
        "executionId": execution_id,
        "deadline": clock.epoch() + get_settings().wave_max_wait_seconds,
    }
    error_text = ""
    for _attempt in range(SETTLE_HAND_OFF_ATTEMPTS):
        try:
            invoke_async(
                get_settings().require("function_name"),
                payload,
                lambda_client,
            )
            return record, busy or []
        except (ClientError, BotoCoreError) as error:
            error_text = str(error)
            logger.warning(
                "settle worker not queued",
                extra={"executionId": execution_id, "error": error_text},
            )
    jobs = ", ".join(busy) if busy else "of the execution"
    reason = (
        f"cancelled without settling: DRS job(s) {jobs} may still be "
        f"active; the settle worker could not be queued ({error_text})"
    )
    return (
        finish_cancel(execution_id, reason, table, drs_client),
        busy or [],
    )


def _starting_waves(record: Dict[str, Any]) -> List[int]:
    """Indexes of the waves with a start in flight, within a start's
    longest run: a wave claimed but not yet planned, or a chunk claimed
    (STARTING) whose job is not recorded yet. That start may still start
    a job (it claimed while the record was RUNNING) and records it on the
    CANCELLING record."""
    now = clock.epoch()
    starting = []
    for index, wave in enumerate(record.get("waves") or []):
        jobs = wave_jobs(wave)
        if wave.get("status") in (WAVE_STARTED, WAVE_QUEUED) and not jobs:
            began = clock.to_epoch(wave.get("startTime"))
        else:
            claims = [
                float(j.get("claimedAt") or 0)
                for j in with_status(jobs, STARTING)
                if not j.get("jobId")
            ]
            began = max(claims) if claims else None
        if began is not None and now - began < START_IN_FLIGHT_SECONDS:
            starting.append(index)
    return starting


def _checked_unsettled_jobs(
    record: Dict[str, Any], drs_client: Optional[Any]
) -> Optional[List[str]]:
    """``unsettled_jobs``, or None when that cannot be known yet: a
    wave's start is in flight (its job is followed once recorded) or DRS
    could not be asked. The caller re-checks later; a cancel must never
    stop half way."""
    starting = _starting_waves(record)
    if starting:
        logger.info(
            "a wave start is in flight",
            extra={
                "executionId": record.get("executionId"),
                "waves": starting,
            },
        )
        return None
    try:
        return unsettled_jobs(record, drs_client)
    except Exception as error:  # noqa: BLE001 - re-checked later
        logger.warning(
            "DRS jobs not checked",
            extra={
                "executionId": record.get("executionId"),
                "error": str(error),
            },
        )
        return None


def _stop_state_machine(arn: str, by: str, sfn_client: Optional[Any]):
    sfn = sfn_client or get_client("stepfunctions")
    try:
        sfn.stop_execution(executionArn=arn, cause=f"cancelled by {by}")
    except (ClientError, BotoCoreError) as error:
        # Already finished or gone: nothing left to stop. Unreachable: its
        # next poll sees CANCELLING and ends the state cancelled.
        logger.info(
            "state machine not stopped",
            extra={"arn": arn, "error": str(error)},
        )


@router.action(SETTLE_ACTION)
def settle_cancelled_execution(
    event: Dict[str, Any],
    table: Optional[Any] = None,
    drs_client: Optional[Any] = None,
    lambda_client: Optional[Any] = None,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.monotonic,
) -> Dict[str, Any]:
    """Re-check the DRS jobs of a CANCELLING execution until settled.

    Ends CANCELLED when no job is active, or at ``deadline`` (epoch) in
    any case; a slice of work that runs out re-queues itself.
    """
    execution_id = event["executionId"]
    deadline = int(event.get("deadline") or 0)

    def step() -> Tuple[bool, Dict[str, Any]]:
        record = get_execution(execution_id, table)
        if record.get("status") != CANCELLING:
            return True, {
                "executionId": execution_id,
                "status": record["status"],
            }
        busy = _checked_unsettled_jobs(record, drs_client)
        if busy == []:
            record = finish_cancel(execution_id, None, table, drs_client)
            return True, {
                "executionId": execution_id,
                "status": record["status"],
            }
        if clock.epoch() >= deadline:
            jobs = ", ".join(busy) if busy else "(DRS unreachable)"
            record = finish_cancel(
                execution_id,
                f"DRS job(s) {jobs} still active at the cancel deadline",
                table,
                drs_client,
            )
            return True, {
                "executionId": execution_id,
                "status": record["status"],
            }
        return False, {"executionId": execution_id, "status": CANCELLING}

    return run_in_slices(
        event, step, SETTLE_SLICE_SECONDS, lambda_client, sleep, now
    )


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
    """POST /executions/{id}/resume."""
    return resume_execution(request.path_param("id"), request.caller.name)


def resume_execution(
    execution_id: str,
    resumed_by: str = "unknown",
    table: Optional[Any] = None,
    sfn_client: Optional[Any] = None,
) -> Dict[str, Any]:
    """PAUSED -> RUNNING, then release the paused task with its token.

    A second resume (or a resume of a running execution) is
    INVALID_STATE. A wait Step Functions no longer has (no token, task
    gone, timed out) fails the execution and stops its state machine:
    nothing would ever continue it. Any other error puts the record back
    to PAUSED and is retryable (429 when throttled).
    """
    paused = get_execution(execution_id, table)
    token = paused.get("taskToken")
    record = transition_status(
        execution_id,
        RUNNING,
        {
            "resumedBy": resumed_by,
            "resumedTime": clock.epoch(),
            "taskToken": None,
            "pausedBeforeWave": None,
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
        _stop_state_machine(arn, "a failed resume", sfn)
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
