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

Before terminating, DRS is read again for every job of the execution and
each server's truth (final launch status, recovery instance) is recorded:
an execution that ended while it could not read DRS (its account's role
refused mid-wave) says what DRS really did once access is back. While a
job still launches, nothing is terminated (INVALID_STATE naming the jobs):
DRS refuses to terminate an active job's instances and would launch more
after. Refused access to the account is a FORBIDDEN naming the account
and the action to take (a drill's cleanup is then pending).
"""

from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Tuple

from execution_drs import (
    active_jobs,
    describe_jobs,
    drs_client_for,
    execution_jobs,
    execution_recovery_instances,
    job_server_ids,
)
from execution_routes import router
from execution_store import update_execution
from shared import clock, rbac
from shared.account_context import get_account_context
from shared.api import Request
from shared.aws_errors import aws_errors
from shared.console_shapes import terminate_view
from shared.errors import (
    DomainError,
    DrsLimitExceededError,
    ForbiddenError,
    InvalidStateError,
    ValidationError,
)
from shared.execution_records import get_execution
from shared.job_servers import merge_job_servers
from shared.logging_setup import get_logger
from shared.responses import to_jsonable
from shared.server_records import attach_servers, record_waves
from shared.aws_pagination import ID_FILTER_MAX
from shared.config import get_settings
from shared.statuses import ACTIVE_STATUSES, TERMINAL_STATUSES
from shared.wave_schedule import (
    STARTED,
    Quotas,
    WaveProgress,
    WaveSpec,
    decide,
    quotas_from,
    usage_of,
)

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
    without ``may_terminate_recovery``). Then every job of the execution
    is read again and each server's truth recorded; INVALID_STATE while
    one still launches, FORBIDDEN (naming the account and what to do)
    while DRS in its account cannot be reached. Answers the TERMINATE job
    ids and the per-instance status; a drill's ``drillCleanupError`` is
    cleared once everything found is being terminated.
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
    record = _settle_servers(execution_id, record, table, drs_client)
    context = get_account_context(record)
    terminations: List[Dict[str, Any]] = []
    instances: List[Dict[str, Any]] = []
    with account_access(execution_id, context, None):
        found = execution_recovery_instances(record, drs_client)
    pending = already = 0
    for region, items in found.items():
        with account_access(execution_id, context, region):
            client = drs_client_for(region, context, drs_client)
            batches, waiting, busy = _fitting_batches(client, items)
        pending += waiting
        already += busy
        for position, batch in enumerate(batches):
            try:
                with account_access(execution_id, context, region):
                    job = client.terminate_recovery_instances(
                        recoveryInstanceIDs=[
                            i["recoveryInstanceID"] for i in batch
                        ]
                    )["job"]
            except DomainError as error:
                if isinstance(error, DrsLimitExceededError):
                    # Throttled: these wait for the next run.
                    pending += sum(len(b) for b in batches[position:])
                    break
                # Keep the record true to DRS: jobs already started are
                # recorded before the refusal reaches the caller.
                _record_terminations(
                    execution_id, record, terminations, table, recovery, False
                )
                raise
            terminations.append(_termination(job, region, batch, audit))
            instances += _instance_rows(job, batch)
            logger.info(
                "terminate job started",
                extra={"jobId": job["jobID"], "servers": job_server_ids(job)},
            )
    _record_terminations(
        execution_id, record, terminations, table, recovery, pending == 0
    )
    answer = to_jsonable(
        {
            "executionId": execution_id,
            "terminateJobs": [
                {"jobId": t["jobId"], "region": t["region"]}
                for t in terminations
            ],
            "instances": instances,
            "count": len(instances),
            # Instances waiting for DRS capacity (TERMINATE jobs count
            # against the job quotas) or a throttled call: the drill
            # cleanup worker goes on; by hand, run terminate again.
            "pendingInstances": pending,
            "alreadyTerminating": already,
            "message": _message(len(instances), pending, already),
        }
    )
    return terminate_view(answer, bool(record.get("terminations")))


def _message(started: int, pending: int, already: int) -> str:
    if pending:
        return (
            f"Termination started for {started} instance(s); {pending} "
            "wait for DRS capacity: run terminate-instances again"
        )
    if started:
        return "Termination started"
    if already:
        return f"{already} instance(s) are already being terminated"
    return "No recovery instances of this execution to terminate"


def _fitting_batches(
    client: Any, items: List[Dict[str, Any]]
) -> Tuple[List[List[Dict[str, Any]]], int, int]:
    """The instances to terminate now, in TERMINATE jobs of at most 200
    (DRS's limit per call) that fit the account's job quotas with what
    runs (the one scheduling rule, ``shared.wave_schedule``), how many
    wait, and how many are already in an active (TERMINATE) job."""
    listing = describe_jobs(client)
    busy = {sid for job in active_jobs(listing) for sid in job_server_ids(job)}
    todo = sorted(
        (i for i in items if i.get("sourceServerID") not in busy),
        key=lambda i: i["recoveryInstanceID"],
    )
    already = len(items) - len(todo)
    if not todo:
        return [], 0, already
    quotas = quotas_from(get_settings())
    quotas = Quotas(
        max_servers_per_job=min(ID_FILTER_MAX, quotas.max_servers_in_all_jobs),
        max_concurrent_jobs=quotas.max_concurrent_jobs,
        max_servers_in_all_jobs=quotas.max_servers_in_all_jobs,
    )
    ids = tuple(i["recoveryInstanceID"] for i in todo)
    by_id = {i["recoveryInstanceID"]: i for i in todo}
    decision = decide(
        [WaveSpec(0, ids, location="here")],
        {0: WaveProgress(status=STARTED)},
        {"here": usage_of(listing)},
        quotas,
    )
    batches = [[by_id[i] for i in start.servers] for start in decision.start]
    return batches, len(todo) - sum(len(b) for b in batches), already


def _termination(job, region, batch, audit) -> Dict[str, Any]:
    return {
        "jobId": job["jobID"],
        "region": region,
        "recoveryInstanceIds": [i["recoveryInstanceID"] for i in batch],
        "startTime": clock.epoch(),
        **audit,
    }


def _instance_rows(job, batch) -> List[Dict[str, Any]]:
    by_server = {
        s.get("sourceServerID"): s.get("launchStatus")
        for s in job.get("participatingServers") or []
    }
    return [
        {
            "recoveryInstanceId": item["recoveryInstanceID"],
            "sourceServerId": item.get("sourceServerID"),
            "instanceId": item.get("ec2InstanceID"),
            "jobId": job["jobID"],
            "status": by_server.get(item.get("sourceServerID"))
            or job.get("status"),
        }
        for item in batch
    ]


@contextmanager
def account_access(
    execution_id: str,
    context: Optional[Dict[str, Any]],
    region: Optional[str],
) -> Iterator[None]:
    """``aws_errors`` for DRS in the execution's account; refused access
    becomes a FORBIDDEN that names the account and what to do (the
    record of a drill keeps it as its pending cleanup)."""
    account = (context or {}).get("accountId")
    try:
        with aws_errors("DRS", account_id=account, region=region):
            yield
    except ForbiddenError as error:
        raise ForbiddenError(
            f"access to account {account or '(this account)'} is denied "
            f"({error.message}): the DRS jobs and recovery instances of "
            f"execution {execution_id} can be neither read nor terminated "
            "until it is restored. Restore the account's cross-account "
            "role (runbook: when a spoke role fails), then run POST "
            f"/executions/{execution_id}/terminate-instances",
            executionId=execution_id,
            accountId=account,
            region=region,
            reason=error.details.get("reason") or "ACCESS_DENIED",
        ) from error


def _settle_servers(
    execution_id: str,
    record: Dict[str, Any],
    table: Optional[Any],
    drs_client: Optional[Any],
) -> Dict[str, Any]:
    """Record DRS's truth for every server of every job of the
    execution (final launch status, recovery instance) and answer the
    record; INVALID_STATE, after recording, while a job still launches."""
    context = get_account_context(record)
    jobs: Dict[str, Dict[str, Any]] = {}
    for region, job_ids in execution_jobs(record).items():
        with account_access(execution_id, context, region):
            client = drs_client_for(region, context, drs_client)
            jobs.update(
                {j["jobID"]: j for j in describe_jobs(client, job_ids)}
            )
    record = attach_servers(record)
    waves, changed = _merged_waves(record, jobs)
    if changed:
        # The servers in their records, their counts on the item.
        summaries = record_waves(
            execution_id,
            waves,
            [wave.get("servers") or [] for wave in record["waves"]],
        )
        record = attach_servers(
            update_execution(
                execution_id,
                {"waves": to_jsonable(summaries)},
                expected_statuses=TERMINAL_STATUSES,
                table=table,
            )
        )
    launching = sorted(j["jobID"] for j in active_jobs(jobs.values()))
    if launching:
        raise InvalidStateError(
            f"DRS job(s) {', '.join(launching)} of execution "
            f"{execution_id} are still launching: DRS refuses to "
            "terminate the instances of an active job and would launch "
            "more after. Run terminate-instances again once they have "
            f"ended (GET /executions/{execution_id}/jobs shows them)",
            executionId=execution_id,
            activeJobs=launching,
            reason="JOBS_ACTIVE",
        )
    return record


def _merged_waves(
    record: Dict[str, Any], jobs: Dict[str, Dict[str, Any]]
) -> Tuple[List[Dict[str, Any]], bool]:
    """The record's waves, each wave's ``servers`` as its jobs report
    them (``shared.job_servers``, the poll's rule); whether any
    changed."""
    waves = [dict(wave) for wave in record.get("waves") or []]
    changed = False
    for wave in waves:
        # This wave's jobs, by the execution's one rule (every job of a
        # wave, whatever the number of its chunks).
        wave_jobs = [
            jobs[job_id]
            for ids in execution_jobs({"waves": [wave]}).values()
            for job_id in ids
            if job_id in jobs
        ]
        servers = list(wave.get("servers") or [])
        for job in wave_jobs:
            servers = list(merge_job_servers(servers, job).values())
        if wave_jobs and servers != list(wave.get("servers") or []):
            wave["servers"] = servers
            changed = True
    return waves, changed


def _record_terminations(
    execution_id: str,
    record: Dict[str, Any],
    terminations: List[Dict[str, Any]],
    table: Optional[Any],
    recovery: bool = False,
    complete: bool = True,
) -> None:
    changes: Dict[str, Any] = {}
    if complete and record.get("drillCleanupError"):
        # DRS was read and every instance found is being terminated:
        # the cleanup the record said was pending is done.
        changes["drillCleanupError"] = None
    if not terminations:
        if changes:
            update_execution(
                execution_id,
                changes,
                expected_statuses=TERMINAL_STATUSES,
                table=table,
            )
        return
    changes["terminations"] = (
        list(record.get("terminations") or []) + terminations
    )
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
