"""How a cancelled execution ends (issue 15, defect 4).

The one finish path of a cancel (``cancel_execution`` when no job runs,
the ``settle_cancelled_execution`` worker once its jobs ended or at the
deadline): each wave's ``servers`` get the launch status and recovery
instance DRS reports for the wave's job (the record says what DRS did,
not PENDING), CANCELLING -> CANCELLED, and for a drill every recovery
instance its jobs launched is terminated through the one terminate path
(``recovery_instances``), so a cancelled drill leaves no instance behind.

``cleanup_drill`` is the one drill cleanup of every ending that leaves
nothing behind (CANCELLED by either cancel path, FAILED, TIMEOUT): the
orchestration core calls it (action ``cleanup_drill`` or in-process)
when its write ended the drill.
"""

import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from botocore.exceptions import BotoCoreError, ClientError

from execution_drs import describe_jobs, drs_client_for, execution_jobs
from execution_drs import unsettled_jobs
from execution_routes import router
from execution_store import update_execution
from recovery_instances import terminate_recovery_instances
from sliced_worker import run_in_slices
from shared import clock
from shared.account_context import get_account_context
from shared.config import get_settings
from shared.aws_errors import translate_client_error
from shared.errors import ConfigurationError, DomainError, ForbiddenError
from shared.errors import InvalidStateError
from shared.execution_records import get_execution, transition_status
from shared.job_servers import merge_job_servers
from shared.wave_jobs import wave_job_ids, without_queued
from shared.lambda_invoke import invoke_async
from shared.logging_setup import get_logger
from shared.notifications import notify_execution
from shared.server_records import attach_servers, record_waves
from shared.statuses import (
    CANCELLED,
    FAILED,
    TERMINAL_STATUSES,
    TIMEOUT,
    WAVE_CANCELLED,
    WAVE_COMPLETED,
    WAVE_FAILED,
)

logger = get_logger("execution-handler")

CLEANUP_ACTION = "cleanup_drill"
# One worker invocation re-checks for at most this long, then re-queues
# itself; the whole wait is bounded by WAVE_MAX_WAIT_SECONDS.
CLEANUP_SLICE_SECONDS = 600
# The endings after which a drill leaves no recovery instance behind (a
# COMPLETED drill keeps its instances for the user's tests) -> who is
# recorded as terminating them.
CLEANUP_BY = {
    CANCELLED: "drill cleanup after cancel",
    FAILED: "drill cleanup after failure",
    TIMEOUT: "drill cleanup after timeout",
}


def settled_waves(
    record: Dict[str, Any], drs_client: Optional[Any] = None
) -> List[Dict[str, Any]]:
    """The record's waves, each started wave's ``servers`` as DRS reports
    its job's servers now; unfinished waves CANCELLED. A region DRS does
    not answer keeps what was recorded (logged). The servers are
    recorded in their own records (``shared.server_records``); the
    waves answered are the item's summaries."""
    record = attach_servers(record)
    waves = [dict(wave) for wave in record.get("waves") or []]
    before = [list(wave["servers"]) for wave in waves]
    context = get_account_context(record)
    for region, job_ids in execution_jobs(record).items():
        try:
            client = drs_client_for(region, context, drs_client)
            jobs = {j["jobID"]: j for j in describe_jobs(client, job_ids)}
        except (ClientError, BotoCoreError, DomainError) as error:
            logger.warning(
                "DRS jobs not read at cancel",
                extra={"region": region, "error": str(error)},
            )
            continue
        for wave in waves:
            for job_id in wave_job_ids(wave):
                if job_id in jobs:
                    merged = merge_job_servers(
                        wave.get("servers") or [], jobs[job_id]
                    )
                    wave["servers"] = list(merged.values())
    for wave in waves:
        if wave.get("status") not in (WAVE_COMPLETED, WAVE_FAILED):
            wave["status"] = WAVE_CANCELLED
        if wave.get("jobs"):
            wave["jobs"] = without_queued(wave["jobs"])
    return record_waves(record["executionId"], waves, before)


def finish_cancel(
    execution_id: str,
    reason: Optional[str] = None,
    table: Optional[Any] = None,
    drs_client: Optional[Any] = None,
) -> Dict[str, Any]:
    """CANCELLING -> CANCELLED with DRS's per-server truth; a drill's
    recovery instances are then terminated (by the caller that made the
    transition, once)."""
    record = get_execution(execution_id, table)
    updates: Dict[str, Any] = {
        "waves": settled_waves(record, drs_client),
        "endTime": clock.epoch(),
    }
    if reason:
        updates["statusReason"] = reason
    try:
        record = transition_status(
            execution_id, CANCELLED, updates, table=table
        )
    except InvalidStateError as error:
        if error.details.get("currentStatus") == CANCELLED:
            return get_execution(execution_id, table)
        raise
    notify_execution("EXECUTION_CANCELLED", record)
    if record.get("isDrill"):
        cleanup_drill(execution_id, table, drs_client)
        record = get_execution(execution_id, table)
    return record


def _cleanable(
    execution_id: str, table: Optional[Any]
) -> Optional[Dict[str, Any]]:
    """The record when it is a drill that ended CANCELLED, FAILED or
    TIMEOUT; None (logged) for anything else: a RECOVERY, a COMPLETED or
    an active drill is never cleaned up."""
    record = get_execution(execution_id, table)
    status = record.get("status")
    if record.get("isDrill") and status in CLEANUP_BY:
        return record
    logger.warning(
        "drill cleanup refused",
        extra={"executionId": execution_id, "status": status},
    )
    return None


def _launching_jobs(
    record: Dict[str, Any], drs_client: Optional[Any]
) -> Optional[List[str]]:
    """The execution's DRS jobs still PENDING/STARTED; None when DRS
    could not be asked (checked again later). Refused access (the
    account's role cannot be assumed, DRS denies) answers [] instead:
    following the jobs cannot succeed, so the termination is tried at
    once and records why it cannot (``drillCleanupError``)."""
    try:
        return unsettled_jobs(record, drs_client)
    except Exception as error:  # noqa: BLE001 - checked again later
        logger.warning(
            "DRS jobs not checked for the drill cleanup",
            extra={"executionId": record["executionId"], "error": str(error)},
        )
        if isinstance(error, ClientError) and isinstance(
            translate_client_error(error), ForbiddenError
        ):
            return []
        return None


def cleanup_drill(
    execution_id: str,
    table: Optional[Any] = None,
    drs_client: Optional[Any] = None,
    lambda_client: Optional[Any] = None,
    worker_function: Optional[str] = None,
) -> bool:
    """Terminate the recovery instances a drill that ended CANCELLED,
    FAILED or TIMEOUT launched (called once, by the writer of that
    ending: ``finish_cancel`` or the orchestration core); False when the
    execution is not such a drill.

    While a job of the execution still launches (a timed-out wave, a
    failure of the engine itself), DRS refuses to terminate its servers'
    instances and would launch more after: the cleanup is handed to the
    execution-handler's worker (:func:`follow_drill_cleanup`), which
    terminates once the jobs ended (or at the deadline).
    ``worker_function``: the execution-handler's name or ARN (default:
    this function, the execution-handler itself)."""
    record = _cleanable(execution_id, table)
    if record is None:
        return False
    busy = _launching_jobs(record, drs_client)
    if busy != [] and _hand_off(
        execution_id, busy, worker_function, lambda_client
    ):
        return True
    left = _terminate(execution_id, record["status"], table, drs_client)
    if left != 0:
        # Instances wait for DRS capacity, or the call was refused
        # (throttled, access denied): the worker tries again each poll
        # interval until its deadline.
        _hand_off(execution_id, None, worker_function, lambda_client)
    return True


def _hand_off(
    execution_id: str,
    busy: Optional[List[str]],
    worker: Optional[str],
    lambda_client: Optional[Any],
) -> bool:
    """Queue the cleanup worker; False when it cannot be queued (the
    caller then terminates what launched so far)."""
    settings = get_settings()
    payload = {
        "action": CLEANUP_ACTION,
        "execution_id": execution_id,
        "deadline": clock.epoch() + settings.wave_max_wait_seconds,
    }
    try:
        worker = worker or settings.require("function_name")
        invoke_async(worker, payload, lambda_client)
    except (
        ClientError,
        BotoCoreError,
        DomainError,
        ConfigurationError,
    ) as error:
        logger.warning(
            "drill cleanup worker not queued",
            extra={"executionId": execution_id, "error": str(error)},
        )
        return False
    logger.info(
        "drill cleanup waits for DRS jobs",
        extra={"executionId": execution_id, "jobs": busy},
    )
    return True


def follow_drill_cleanup(
    event: Dict[str, Any],
    table: Optional[Any] = None,
    drs_client: Optional[Any] = None,
    lambda_client: Optional[Any] = None,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.monotonic,
) -> Dict[str, Any]:
    """The cleanup worker: re-check the execution's jobs every poll
    interval; terminate once none is active, or at ``deadline`` (epoch)
    in any case. A slice of work that runs out re-queues itself."""
    execution_id = str(event.get("execution_id") or "")
    deadline = int(event.get("deadline") or 0)

    def step() -> Tuple[bool, Dict[str, Any]]:
        record = _cleanable(execution_id, table)
        if record is None:
            return True, {"executionId": execution_id, "cleanedUp": False}
        busy = _launching_jobs(record, drs_client)
        late = clock.epoch() >= deadline
        if busy == [] or late:
            left = _terminate(
                execution_id, record["status"], table, drs_client
            )
            if left == 0 or late:
                done = {"executionId": execution_id, "cleanedUp": left == 0}
                return True, done
            return False, {"executionId": execution_id, "pending": left}
        return False, {"executionId": execution_id, "activeJobs": busy}

    return run_in_slices(
        event, step, CLEANUP_SLICE_SECONDS, lambda_client, sleep, now
    )


def _terminate(
    execution_id: str,
    status: str,
    table: Optional[Any],
    drs_client: Optional[Any],
) -> Optional[int]:
    """Terminate through the one terminate path; how many instances are
    left (waiting for DRS capacity), None when it failed. A failure is
    logged and recorded (``drillCleanupError``, in our words) and tried
    again by the worker; ``POST /executions/{id}/terminate-instances``
    does the same by hand."""
    try:
        result = terminate_recovery_instances(
            execution_id,
            terminated_by=CLEANUP_BY[status],
            table=table,
            drs_client=drs_client,
        )
    except Exception as error:  # noqa: BLE001 - recorded, never raised
        logger.exception("drill cleanup failed")
        why = error.message if isinstance(error, DomainError) else None
        message = (
            "terminating the drill's recovery instances failed"
            + (f": {why}" if why else f" ({type(error).__name__})")
            + "; run terminate-instances for this execution"
        )
        update_execution(
            execution_id,
            {"drillCleanupError": message},
            expected_statuses=TERMINAL_STATUSES,
            table=table,
        )
        return None
    logger.info(
        "drill cleanup started",
        extra={
            "executionId": execution_id,
            "instances": result["count"],
            "pending": result.get("pendingInstances", 0),
        },
    )
    return int(result.get("pendingInstances") or 0)


@router.action(CLEANUP_ACTION)
def cleanup_drill_action(event: Dict[str, Any]) -> Dict[str, Any]:
    """``{"action": "cleanup_drill", "execution_id"}`` from the generic
    orchestration function after it ended a drill; with ``deadline``,
    the worker following the execution's jobs."""
    if event.get("deadline") is not None:
        return follow_drill_cleanup(event)
    execution_id = str(event.get("execution_id") or "")
    return {
        "executionId": execution_id,
        "cleanedUp": cleanup_drill(execution_id),
    }
