"""Terminate the recovery instances of one finished execution.

Only instances launched by this execution's own DRS jobs for its own
source servers are terminated (a drill of another plan on the same
servers keeps its instances). The TERMINATE job per region is recorded
on the execution (``terminations``) so ``get_execution_jobs`` shows its
progress.

The instances of a RECOVERY are the production servers after a real
failover: terminating them is refused (INVALID_STATE) unless the request
names the execution in ``confirmRecoveryTermination`` and the caller holds
``terminate_instances``; who confirmed it, and when, is recorded on the
execution (``recoveryTermination``).
"""

from typing import Any, Dict, List, Optional

from execution_drs import (
    drs_client_for,
    execution_recovery_instances,
    job_server_ids,
)
from execution_routes import router
from execution_store import update_execution
from shared import clock, rbac
from shared.api import Request
from shared.aws_errors import aws_errors
from shared.console_shapes import terminate_view
from shared.errors import (
    DomainError,
    ForbiddenError,
    InvalidStateError,
    ValidationError,
)
from shared.execution_records import get_execution
from shared.logging_setup import get_logger
from shared.responses import to_jsonable
from shared.statuses import ACTIVE_STATUSES, TERMINAL_STATUSES

logger = get_logger("execution-handler")

CONFIRM_FIELD = "confirmRecoveryTermination"
PERMISSION = "terminate_instances"


@router.operation("terminate_recovery_instances")
def terminate_recovery_instances_operation(request: Request) -> Dict:
    """POST /executions/{id}/terminate-instances.

    Body (optional): ``confirmRecoveryTermination`` (the execution id,
    required for a RECOVERY); a direct invocation may add ``requestedBy``.
    """
    confirmation = request.body.get(CONFIRM_FIELD)
    if confirmation is not None and not isinstance(confirmation, str):
        raise ValidationError(
            f"{CONFIRM_FIELD} must be the execution id", field=CONFIRM_FIELD
        )
    caller = request.caller
    # The route asks the same permission; checked here again because a
    # real recovery's instances must never depend on the route table.
    # A direct invocation is trusted to IAM (lambda:InvokeFunction).
    allowed = caller.via != "api" or rbac.is_allowed(caller.groups, PERMISSION)
    return terminate_recovery_instances(
        request.path_param("id"),
        terminated_by=caller.name,
        confirmation=confirmation,
        requested_by=caller.requested_by,
        may_terminate_recovery=allowed,
    )


def is_recovery(record: Dict[str, Any]) -> bool:
    """Whether the execution was a real recovery (not a drill)."""
    return record.get("executionType") == "RECOVERY" or (
        record.get("isDrill") is False
    )


def _check_recovery_confirmed(
    execution_id: str,
    record: Dict[str, Any],
    confirmation: Optional[str],
    may_terminate_recovery: bool,
) -> None:
    if not may_terminate_recovery:
        raise ForbiddenError(
            f"permission {PERMISSION} is required to terminate the "
            "instances of a recovery",
            permission=PERMISSION,
        )
    if confirmation != execution_id:
        raise InvalidStateError(
            f"execution {execution_id} is a RECOVERY: its recovery "
            "instances are the production servers now. To terminate them "
            f'anyway, send "{CONFIRM_FIELD}": "{execution_id}"',
            executionId=execution_id,
            executionType="RECOVERY",
            currentStatus=record.get("status"),
            field=CONFIRM_FIELD,
        )


def terminate_recovery_instances(
    execution_id: str,
    terminated_by: str = "unknown",
    table: Optional[Any] = None,
    drs_client: Optional[Any] = None,
    confirmation: Optional[str] = None,
    requested_by: Optional[str] = None,
    may_terminate_recovery: bool = True,
) -> Dict[str, Any]:
    """Start DRS TERMINATE jobs for this execution's recovery instances.

    Refused (INVALID_STATE) while the execution is active, and for a
    RECOVERY unless ``confirmation`` is the execution id (FORBIDDEN
    without ``may_terminate_recovery``). Answers the TERMINATE job ids
    and the per-instance status.
    """
    record = get_execution(execution_id, table)
    if record.get("status") in ACTIVE_STATUSES:
        raise InvalidStateError(
            f"execution {execution_id} is {record['status']}; terminate "
            "its recovery instances once it has finished",
            executionId=execution_id,
            currentStatus=record["status"],
        )
    recovery = is_recovery(record)
    if recovery:
        _check_recovery_confirmed(
            execution_id, record, confirmation, may_terminate_recovery
        )
    audit: Dict[str, Any] = {"terminatedBy": terminated_by}
    if requested_by:
        audit["requestedBy"] = requested_by
    if recovery:
        audit["recoveryConfirmed"] = True
    context = record.get("accountContext")
    terminations: List[Dict[str, Any]] = []
    instances: List[Dict[str, Any]] = []
    for region, items in execution_recovery_instances(
        record, drs_client
    ).items():
        ids = sorted(i["recoveryInstanceID"] for i in items)
        if not ids:
            continue
        try:
            with aws_errors("DRS", region=region):
                client = drs_client_for(region, context, drs_client)
                job = client.terminate_recovery_instances(
                    recoveryInstanceIDs=ids
                )["job"]
        except DomainError:
            # Keep the record true to DRS: jobs already started in other
            # regions are recorded before the refusal reaches the caller.
            _record_terminations(
                execution_id, record, terminations, table, recovery
            )
            raise
        terminations.append(
            {
                "jobId": job["jobID"],
                "region": region,
                "recoveryInstanceIds": ids,
                "startTime": clock.epoch(),
                **audit,
            }
        )
        by_server = {
            s.get("sourceServerID"): s.get("launchStatus")
            for s in job.get("participatingServers") or []
        }
        for item in items:
            instances.append(
                {
                    "recoveryInstanceId": item["recoveryInstanceID"],
                    "sourceServerId": item.get("sourceServerID"),
                    "instanceId": item.get("ec2InstanceID"),
                    "jobId": job["jobID"],
                    "status": by_server.get(item.get("sourceServerID"))
                    or job.get("status"),
                }
            )
        logger.info(
            "terminate job started",
            extra={"jobId": job["jobID"], "servers": job_server_ids(job)},
        )
    _record_terminations(execution_id, record, terminations, table, recovery)
    answer = to_jsonable(
        {
            "executionId": execution_id,
            "terminateJobs": [
                {"jobId": t["jobId"], "region": t["region"]}
                for t in terminations
            ],
            "instances": instances,
            "count": len(instances),
            "message": (
                "Termination started"
                if instances
                else "No recovery instances of this execution to terminate"
            ),
        }
    )
    return terminate_view(answer, bool(record.get("terminations")))


def _record_terminations(
    execution_id: str,
    record: Dict[str, Any],
    terminations: List[Dict[str, Any]],
    table: Optional[Any],
    recovery: bool = False,
) -> None:
    if not terminations:
        return
    changes: Dict[str, Any] = {
        "terminations": list(record.get("terminations") or []) + terminations
    }
    if recovery:
        # Who terminated a real recovery's (production) instances, when.
        first = terminations[0]
        audit = {
            "by": first["terminatedBy"],
            "at": first["startTime"],
            "jobIds": [t["jobId"] for t in terminations],
        }
        if first.get("requestedBy"):
            audit["requestedBy"] = first["requestedBy"]
        changes["recoveryTermination"] = audit
    update_execution(
        execution_id,
        changes,
        expected_statuses=TERMINAL_STATUSES,
        table=table,
    )
