"""Start a recovery plan: validate, record PENDING, start asynchronously.

``execute_recovery_plan`` answers 202 once the PENDING record (and the
plan's lock) is written and the async worker is queued; the worker
(``execute_recovery_plan_worker`` action) starts the state machine and
stores its ARN, or marks the execution FAILED with the reason.
"""

import json
import uuid
from typing import Any, Dict, List, Optional

from execution_drs import TagSelection, active_jobs, describe_jobs
from execution_drs import drs_client_for, job_server_ids
from execution_dry_run import dry_run_report
from execution_routes import router
from execution_store import (
    create_execution,
    load_groups,
    load_plan,
    sorted_waves,
    update_execution,
)
from shared import clock, drs_limits
from shared.api import Request
from shared.aws_clients import get_client
from shared.aws_errors import aws_errors
from shared.config import get_settings
from shared.console_inputs import start_input
from shared.errors import (
    ExecutionConflictError,
    ServerConflictError,
    ValidationError,
)
from shared.execution_records import (
    active_executions,
    get_execution,
    transition_status,
)
from shared.lambda_invoke import invoke_async
from shared.logging_setup import get_logger
from shared.notifications import notify_execution
from shared.responses import dumps, to_jsonable
from shared.statuses import (
    CANCELLED,
    CANCELLING,
    EXECUTION_TYPES,
    FAILED,
    PENDING,
    WAVE_PENDING,
)
from shared.validation import (
    reject_unknown,
    require,
    validate_choice,
    validate_identity,
)
from shared.wave_servers import (
    ServerResolutionError,
    WaveServers,
    execution_server_ids,
    resolve_group_servers,
)

logger = get_logger("execution-handler")

WORKER_ACTION = "execute_recovery_plan_worker"
START_FIELDS = ("planId", "executionType", "initiatedBy", "requestedBy")


@router.operation("execute_recovery_plan", status=202)
def execute_recovery_plan_operation(request: Request) -> Dict[str, Any]:
    """POST /executions and the direct operation of the same name."""
    body = dict(request.body)
    # The recorded identity is the caller's (authorizer claims; the direct
    # event's caller): a body initiatedBy (the console sends one) is
    # ignored, a direct requestedBy is recorded beside it (shared.api).
    body["initiatedBy"] = request.caller.name
    body.pop("requestedBy", None)
    if request.caller.requested_by:
        body["requestedBy"] = request.caller.requested_by
    answer = execute_recovery_plan(body)
    # A dry run starts nothing: 200 with the report, not 202 Accepted.
    return (200, answer) if answer.get("dryRun") else answer


def execute_recovery_plan(
    body: Dict[str, Any],
    tables: Optional[Dict[str, Any]] = None,
    drs_client: Optional[Any] = None,
    lambda_client: Optional[Any] = None,
) -> Dict[str, Any]:
    """Validate and record a new execution; queue the worker.

    ``tables`` may inject ``plans``, ``groups``, ``executions``,
    ``accounts``. Raises NOT_FOUND, VALIDATION_ERROR, EXECUTION_CONFLICT,
    SERVER_CONFLICT, WAVE_SIZE_LIMIT_EXCEEDED or DRS_LIMIT_EXCEEDED.
    """
    tables = tables or {}
    body, dry_run = start_input(
        body, get_settings().execution_notifications_topic_arn
    )
    reject_unknown(body, START_FIELDS)
    plan_id = str(require(body, "planId"))
    execution_type = validate_choice(
        body.get("executionType", "DRILL"), "executionType", EXECUTION_TYPES
    )
    initiated_by = validate_identity(
        body.get("initiatedBy") or "unknown", "initiatedBy"
    )
    requested_by = body.get("requestedBy")
    if requested_by is not None:
        requested_by = validate_identity(requested_by, "requestedBy")
    plan = load_plan(plan_id, tables.get("plans"))
    waves = sorted_waves(plan)
    if not waves:
        raise ValidationError(
            f"recovery plan {plan_id} has no waves", field="waves"
        )
    groups = load_groups(plan, tables.get("groups"))
    # Resolved once, here: the record keeps them and the wave engine
    # recovers exactly these (shared.wave_servers).
    resolved = _wave_servers(waves, groups, tables.get("accounts"), drs_client)
    context = resolved[0].account_context
    wave_servers = [r.server_ids for r in resolved]
    drs_limits.validate_wave_sizes(
        {
            int(w["waveNumber"]): len(wave_servers[i])
            for i, w in enumerate(waves)
        }
    )
    all_servers = {s for servers in wave_servers for s in servers}
    _check_active_executions(plan_id, all_servers, tables.get("executions"))
    _check_drs(waves, groups, wave_servers, context, drs_client)
    if dry_run:
        return dry_run_report(plan, waves, resolved, execution_type)

    record = _new_record(plan, waves, resolved, execution_type, initiated_by)
    record["accountContext"] = context
    if requested_by:
        record["requestedBy"] = requested_by
    create_execution(to_jsonable(record), tables.get("executions"))
    payload = {
        "action": WORKER_ACTION,
        "executionId": record["executionId"],
        "plan": _plan_input(plan, waves),
        "isDrill": record["isDrill"],
        "accountContext": context,
    }
    try:
        invoke_async(
            get_settings().require("function_name"), payload, lambda_client
        )
    except Exception as error:
        # Never leave a PENDING record nobody will start.
        _fail(record["executionId"], f"worker not queued: {error}", tables)
        raise
    logger.info(
        "execution queued",
        extra={"executionId": record["executionId"], "planId": plan_id},
    )
    execution_id = record["executionId"]
    return {
        "executionId": execution_id,
        "status": PENDING,
        "message": (
            "Execution started - check status with operation: "
            "get_execution_details"
        ),
        "statusUrl": f"/executions/{execution_id}",
    }


def _wave_servers(
    waves: List[Dict[str, Any]],
    groups: Dict[str, Dict[str, Any]],
    accounts: Optional[Any],
    drs_client: Optional[Any],
) -> List[WaveServers]:
    """The servers of each wave by the one resolver
    (``shared.wave_servers``); tag groups select in their account and
    region now (each listed once). The first wave's account is the
    plan's. A group selecting nothing is refused: the wave engine would
    fail it (NO_SERVERS_RESOLVED)."""
    selection = TagSelection(drs_client)

    def by_tags(region, tags, context):
        return selection.server_ids(region, context, tags)

    resolved: List[WaveServers] = []
    for wave in waves:
        group = groups[wave["protectionGroupId"]]
        plan_context = resolved[0].account_context if resolved else None
        try:
            resolved.append(
                resolve_group_servers(group, plan_context, by_tags, accounts)
            )
        except ServerResolutionError as error:
            raise _refused(wave, group, error) from None
    return resolved


def _refused(
    wave: Dict[str, Any], group: Dict[str, Any], error: ServerResolutionError
) -> ValidationError:
    """The 400 of a wave whose servers cannot be resolved."""
    if error.code == "TARGET_ACCOUNT_NOT_FOUND":
        return ValidationError(
            str(error), field="accountId", accountId=group.get("accountId")
        )
    tags = dict(group.get("serverSelectionTags") or {})
    what = (
        f"selects no DRS source server by tags {tags}"
        if tags
        else "has no source servers (empty sourceServerIds, no tags)"
    )
    if error.code != "NO_SERVERS_RESOLVED":
        what = f"could not be resolved ({error})"
    return ValidationError(
        f"wave {wave['waveNumber']} "
        f"({wave.get('waveName') or 'unnamed'}): protection group "
        f"{wave['protectionGroupId']} {what}",
        field="waves",
        waveNumber=int(wave["waveNumber"]),
        protectionGroupId=wave["protectionGroupId"],
    )


def _check_active_executions(
    plan_id: str, servers: set, table: Optional[Any]
) -> None:
    for execution in active_executions(table):
        if execution.get("planId") == plan_id:
            raise ExecutionConflictError(
                f"recovery plan {plan_id} already has an active execution "
                f"({execution['executionId']})",
                planId=plan_id,
                activeExecutionId=execution["executionId"],
            )
        shared = sorted(servers & execution_server_ids(execution))
        if shared:
            raise ServerConflictError(
                f"server(s) {', '.join(shared)} are in active execution "
                f"{execution['executionId']} of plan "
                f"{execution.get('planId')}",
                serverIds=shared,
                conflictingExecutionId=execution["executionId"],
                conflictingPlanId=execution.get("planId"),
            )


def _check_drs(waves, groups, wave_servers, context, drs_client) -> None:
    """Live DRS jobs: servers already recovering, and service limits."""
    by_region: Dict[str, List[int]] = {}
    for index, wave in enumerate(waves):
        region = groups[wave["protectionGroupId"]].get("region")
        by_region.setdefault(region, []).append(index)
    for region, indexes in by_region.items():
        account = (context or {}).get("accountId")
        with aws_errors("DRS", account_id=account, region=region):
            client = drs_client_for(region, context, drs_client)
            jobs = active_jobs(describe_jobs(client))
        servers = {s for i in indexes for s in wave_servers[i]}
        for job in jobs:
            busy = sorted(servers & set(job_server_ids(job)))
            if busy:
                raise ServerConflictError(
                    f"server(s) {', '.join(busy)} are in active DRS job "
                    f"{job.get('jobID')}",
                    serverIds=busy,
                    jobId=job.get("jobID"),
                )
        drs_limits.validate_concurrent_jobs(len(jobs))
        largest = max(len(wave_servers[i]) for i in indexes)
        drs_limits.validate_servers_in_all_jobs(
            drs_limits.count_servers(jobs), largest
        )


def _new_record(plan, waves, resolved, execution_type, by):
    now = clock.epoch()
    return {
        "executionId": str(uuid.uuid4()),
        "planId": plan["planId"],
        "planName": plan.get("planName", ""),
        "executionType": execution_type,
        "isDrill": execution_type == "DRILL",
        "status": PENDING,
        "initiatedBy": by,
        "startTime": now,
        "updatedTime": now,
        "version": 1,
        "pauseRequested": False,
        "totalWaves": len(waves),
        "currentWave": 0,
        "waves": [
            {
                "waveNumber": int(wave["waveNumber"]),
                "waveName": wave.get("waveName", ""),
                "protectionGroupId": wave["protectionGroupId"],
                "status": WAVE_PENDING,
                "servers": [],
                **resolved[index].as_record(),
            }
            for index, wave in enumerate(waves)
        ],
    }


def _plan_input(plan: Dict[str, Any], waves: List[Dict[str, Any]]):
    return to_jsonable(
        {
            "planId": plan["planId"],
            "planName": plan.get("planName", ""),
            "waves": waves,
        }
    )


def _fail(execution_id: str, reason: str, tables: Dict[str, Any]) -> None:
    record = transition_status(
        execution_id,
        FAILED,
        {
            "statusReason": reason,
            "error": reason,
            "errorCode": "START_FAILED",
            "endTime": clock.epoch(),
        },
        table=tables.get("executions"),
    )
    notify_execution("EXECUTION_FAILED", record)


@router.action(WORKER_ACTION)
def execute_recovery_plan_worker(
    event: Dict[str, Any],
    sfn_client: Optional[Any] = None,
    table: Optional[Any] = None,
) -> Dict[str, Any]:
    """Start the state machine for a PENDING execution.

    A cancel that came first ends the execution CANCELLED without
    starting; a failure to start marks it FAILED with the reason.
    """
    execution_id = event["executionId"]
    record = get_execution(execution_id, table)
    if record["status"] == CANCELLING:
        transition_status(
            execution_id, CANCELLED, {"endTime": clock.epoch()}, table=table
        )
        return {"executionId": execution_id, "status": CANCELLED}
    if record["status"] != PENDING:
        return {"executionId": execution_id, "status": record["status"]}
    sfn = sfn_client or get_client("stepfunctions")
    state_input = {
        "executionId": execution_id,
        "plan": event["plan"],
        "isDrill": bool(event.get("isDrill")),
        "accountContext": event.get("accountContext"),
    }
    try:
        arn = sfn.start_execution(
            stateMachineArn=get_settings().require("state_machine_arn"),
            name=execution_id,
            input=dumps(state_input),
        )["executionArn"]
    except Exception as error:  # noqa: BLE001 - recorded on the execution
        logger.exception("state machine did not start")
        _fail(
            execution_id,
            f"state machine did not start: {error}",
            {"executions": table},
        )
        return {"executionId": execution_id, "status": FAILED}
    record = update_execution(
        execution_id, {"stateMachineExecutionArn": arn}, table=table
    )
    if record.get("status") in (CANCELLING, CANCELLED):
        # A cancel raced the start: it could not stop what it did not see.
        sfn.stop_execution(executionArn=arn, cause="cancelled while starting")
    # EXECUTION_STARTED is published by the state machine's ``begin``
    # (shared.orchestration_core) once the execution is really RUNNING.
    return {
        "executionId": execution_id,
        "stateMachineExecutionArn": arn,
        "input": json.loads(dumps(state_input)),
    }
