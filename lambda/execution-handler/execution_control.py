"""Cancel a running execution (pause and resume:
``execution_pause_resume``).

Cancel: PENDING/RUNNING/PAUSED -> CANCELLING (conditional), stop the
state machine by its stored ARN, then CANCELLED once no DRS job of the
execution is PENDING/STARTED: at once when none is, else the
``settle_cancelled_execution`` worker follows the jobs until they end
or a deadline (after which it still ends CANCELLED, naming the
unsettled jobs). The state machine is stopped, so the wave engine's poll
cannot be relied on. The ending is ``execution_settlement.finish_cancel``:
DRS's per-server truth recorded, a drill's instances terminated.
"""

import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from botocore.exceptions import BotoCoreError, ClientError

from execution_drs import unsettled_jobs
from execution_routes import router
from execution_settlement import finish_cancel
from sliced_worker import run_in_slices
from shared import clock
from shared.api import Request
from shared.aws_clients import get_client
from shared.config import get_settings
from shared.errors import InvalidStateError
from shared.execution_records import get_execution, transition_status
from shared.lambda_invoke import invoke_async
from shared.logging_setup import get_logger
from shared.progress_wake import wake_execution
from shared.wave_jobs import STARTING, wave_jobs, with_status
from shared.wave_schedule import QUEUED as WAVE_QUEUED
from shared.statuses import CANCELLED, CANCELLING, WAVE_STARTED

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
        stop_state_machine(arn, cancelled_by, sfn_client)
        # Stopping ends the progress wait in AWS; a stop that failed
        # leaves it: wake it so the poll sees CANCELLING now (issue 18).
        wake_execution(execution_id, "cancel", table)
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


def stop_state_machine(arn: str, by: str, sfn_client: Optional[Any]):
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
