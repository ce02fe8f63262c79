"""Terminate the recovery instances of one finished execution.

Only instances launched by this execution's own DRS jobs for its own
source servers are terminated (a drill of another plan on the same
servers keeps its instances). The TERMINATE job per region is recorded
on the execution (``terminations``) so ``get_execution_jobs`` shows its
progress.
"""

from typing import Any, Dict, List, Optional

from execution_drs import drs_client_for, job_server_ids
from execution_queries import execution_recovery_instances
from execution_routes import router
from execution_store import update_execution
from shared import clock
from shared.api import Request
from shared.aws_errors import aws_errors
from shared.errors import DomainError, InvalidStateError
from shared.execution_records import get_execution
from shared.logging_setup import get_logger
from shared.responses import to_jsonable
from shared.statuses import ACTIVE_STATUSES, TERMINAL_STATUSES

logger = get_logger("execution-handler")


@router.operation("terminate_recovery_instances")
def terminate_recovery_instances_operation(request: Request) -> Dict:
    """POST /executions/{id}/terminate-instances."""
    return terminate_recovery_instances(
        request.path_param("id"), terminated_by=request.caller.name
    )


def terminate_recovery_instances(
    execution_id: str,
    terminated_by: str = "unknown",
    table: Optional[Any] = None,
    drs_client: Optional[Any] = None,
) -> Dict[str, Any]:
    """Start DRS TERMINATE jobs for this execution's recovery instances.

    Refused (INVALID_STATE) while the execution is active. Answers the
    TERMINATE job ids and the per-instance status.
    """
    record = get_execution(execution_id, table)
    if record.get("status") in ACTIVE_STATUSES:
        raise InvalidStateError(
            f"execution {execution_id} is {record['status']}; terminate "
            "its recovery instances once it has finished",
            executionId=execution_id,
            currentStatus=record["status"],
        )
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
            _record_terminations(execution_id, record, terminations, table)
            raise
        terminations.append(
            {
                "jobId": job["jobID"],
                "region": region,
                "recoveryInstanceIds": ids,
                "startTime": clock.epoch(),
                "terminatedBy": terminated_by,
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
    _record_terminations(execution_id, record, terminations, table)
    return to_jsonable(
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


def _record_terminations(
    execution_id: str,
    record: Dict[str, Any],
    terminations: List[Dict[str, Any]],
    table: Optional[Any],
) -> None:
    if not terminations:
        return
    update_execution(
        execution_id,
        {
            "terminations": list(record.get("terminations") or [])
            + terminations
        },
        expected_statuses=TERMINAL_STATUSES,
        table=table,
    )
