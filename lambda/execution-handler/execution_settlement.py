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

from typing import Any, Dict, List, Optional

from botocore.exceptions import BotoCoreError, ClientError

from execution_drs import describe_jobs, drs_client_for, execution_jobs
from execution_routes import router
from execution_store import update_execution
from recovery_instances import terminate_recovery_instances
from shared import clock
from shared.account_context import get_account_context
from shared.errors import DomainError, InvalidStateError
from shared.execution_records import get_execution, transition_status
from shared.job_servers import merge_job_servers
from shared.logging_setup import get_logger
from shared.notifications import notify_execution
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
    not answer keeps what was recorded (logged)."""
    waves = [dict(wave) for wave in record.get("waves") or []]
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
            job = jobs.get(wave.get("jobId"))
            if job:
                merged = merge_job_servers(wave.get("servers") or [], job)
                wave["servers"] = list(merged.values())
    for wave in waves:
        if wave.get("status") not in (WAVE_COMPLETED, WAVE_FAILED):
            wave["status"] = WAVE_CANCELLED
    return waves


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


def cleanup_drill(
    execution_id: str,
    table: Optional[Any] = None,
    drs_client: Optional[Any] = None,
) -> bool:
    """Terminate the recovery instances a drill that ended CANCELLED,
    FAILED or TIMEOUT launched (called once, by the writer of that
    ending: ``finish_cancel`` or the orchestration core). Anything else
    (a RECOVERY, a COMPLETED or active drill) is left alone: False. A
    failure is logged and recorded (``drillCleanupError``, in our words):
    ``POST /executions/{id}/terminate-instances`` finishes the job."""
    record = get_execution(execution_id, table)
    status = record.get("status")
    if not record.get("isDrill") or status not in CLEANUP_BY:
        logger.warning(
            "drill cleanup refused",
            extra={"executionId": execution_id, "status": status},
        )
        return False
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
        return True
    logger.info(
        "drill cleanup started",
        extra={"executionId": execution_id, "instances": result["count"]},
    )
    return True


@router.action("cleanup_drill")
def cleanup_drill_action(event: Dict[str, Any]) -> Dict[str, Any]:
    """``{"action": "cleanup_drill", "execution_id"}`` (the generic
    orchestration function, after it ended a drill) -> whether the
    drill's instances were (asked to be) terminated."""
    execution_id = str(event.get("execution_id") or "")
    return {
        "executionId": execution_id,
        "cleanedUp": cleanup_drill(execution_id),
    }
