"""Start a recovery plan: validate, record PENDING, start asynchronously.

``execute_recovery_plan`` answers 202 once the PENDING record (and the
plan's lock) is written and the async worker is queued; the worker
(``execute_recovery_plan_worker`` action) starts the state machine and
stores its ARN, or marks the execution FAILED with the reason.
"""

import json
import uuid
from typing import Any, Dict, List, Optional

from execution_dry_run import dry_run_report
from execution_preflight import (
    Preflight,
    accepted_record,
    accepted_risks,
    preflight,
)
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
from shared.config import get_settings
from shared.console_inputs import start_input
from shared.errors import ExecutionConflictError, ValidationError
from shared.execution_records import (
    active_executions,
    get_execution,
    transition_status,
)
from shared.lambda_invoke import invoke_async
from shared.logging_setup import get_logger
from shared.notifications import notify_execution
from shared.responses import dumps, to_jsonable
from shared.server_records import delete_execution_servers
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
from shared.wave_plan_store import store_planned, take_planned
from shared.wave_servers import per_group_waves, wave_group_ids

logger = get_logger("execution-handler")

WORKER_ACTION = "execute_recovery_plan_worker"
START_FIELDS = (
    "planId",
    "executionType",
    "initiatedBy",
    "requestedBy",
    "acceptRisks",
)


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
    """Validate, check readiness and record a new execution; queue the
    worker.

    ``tables`` may inject ``plans``, ``groups``, ``executions``,
    ``accounts``. Raises NOT_FOUND, VALIDATION_ERROR, EXECUTION_CONFLICT,
    SERVER_CONFLICT, PLAN_NOT_READY (``execution_preflight``) or
    WAVE_SIZE_LIMIT_EXCEEDED (a plan that can never run), writing nothing.
    """
    tables = tables or {}
    settings = get_settings()
    body, dry_run, topic = start_input(
        body, settings.execution_notifications_topic_arn, settings.project_name
    )
    reject_unknown(body, START_FIELDS)
    plan_id = str(require(body, "planId"))
    execution_type = validate_choice(
        body.get("executionType", "DRILL"), "executionType", EXECUTION_TYPES
    )
    accept = accepted_risks(body.get("acceptRisks"))
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
    # Every group of every wave (a wave may name several).
    groups = load_groups(
        {"waves": per_group_waves(waves)}, tables.get("groups")
    )
    executions = active_executions(tables.get("executions"))
    _check_own_execution(plan_id, executions)
    # Resolved once, here, from one listing per account/region that the
    # readiness checks share: the record keeps them and the wave engine
    # recovers exactly these (shared.wave_servers).
    checked = preflight(
        plan, groups, executions, accept, tables.get("accounts"), drs_client
    )
    resolved = checked.waves
    context = resolved[0].account_context
    planned = drs_limits.validate_wave_sizes(
        {
            int(w["waveNumber"]): len(resolved[i].server_ids)
            for i, w in enumerate(waves)
        }
    )
    jobs = [planned[int(w["waveNumber"])] for w in waves]
    if dry_run:
        report = dry_run_report(plan, waves, resolved, execution_type)
        return _with_plan(report, waves, checked, jobs, accept)

    record = _new_record(plan, waves, resolved, execution_type, initiated_by)
    record["accountContext"] = context
    if requested_by:
        record["requestedBy"] = requested_by
    if topic:
        # Its events are published there too (shared.notifications).
        record["topicArn"] = topic
    for index, wave in enumerate(record["waves"]):
        wave["plannedJobs"] = jobs[index]
        if checked.excluded[index]:
            wave["excludedServers"] = checked.excluded[index]
    if accept:
        record["acceptedRisks"] = accepted_record(
            accept, checked, initiated_by, requested_by
        )
    _create(record, tables)
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
        extra={
            "executionId": record["executionId"],
            "planId": plan_id,
            "excludedServers": checked.excluded_count,
        },
    )
    execution_id = record["executionId"]
    answer = {
        "executionId": execution_id,
        "status": PENDING,
        "message": (
            "Execution started - check status with operation: "
            "get_execution_details"
        ),
        "statusUrl": f"/executions/{execution_id}",
    }
    return _with_plan(answer, waves, checked, jobs, accept)


def _with_plan(
    answer: Dict[str, Any],
    waves: List[Dict[str, Any]],
    checked: Preflight,
    jobs: List[int],
    accept: List[str],
) -> Dict[str, Any]:
    """The answer with each wave's servers and planned DRS jobs (issue
    16) and, when risks were accepted, what they left out."""
    views = {int(w["waveNumber"]): w for w in answer.get("waves") or []}
    shown = []
    for index, wave in enumerate(waves):
        number = int(wave["waveNumber"])
        view = dict(views.get(number) or {"waveNumber": number})
        view["serverCount"] = len(checked.waves[index].server_ids)
        view["plannedJobs"] = jobs[index]
        if checked.excluded[index]:
            view["excludedServers"] = checked.excluded[index]
        shown.append(view)
    answer["waves"] = shown
    answer["plannedJobs"] = sum(jobs)
    # "preflight", not "readiness": a dry run's "readiness" is the plan's
    # last scheduled report (execution_dry_run).
    answer["preflight"] = {
        "status": checked.report["status"],
        "checkedAt": checked.report["checkedAt"],
        "checks": [
            {"name": c["name"], "status": c["status"]}
            for c in checked.report["checks"]
        ],
    }
    if accept:
        answer["acceptedRisks"] = list(accept)
        answer["excludedServerCount"] = checked.excluded_count
    return to_jsonable(answer)


def _check_own_execution(plan_id: str, executions: List[Dict]) -> None:
    """409 EXECUTION_CONFLICT while the plan has an active execution."""
    for execution in executions:
        if execution.get("planId") == plan_id:
            raise ExecutionConflictError(
                f"recovery plan {plan_id} already has an active execution "
                f"({execution['executionId']})",
                planId=plan_id,
                activeExecutionId=execution["executionId"],
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
                "protectionGroupIds": wave_group_ids(wave),
                "status": WAVE_PENDING,
                "servers": [],
                **resolved[index].as_record(),
                # As saved (issue 17): the view's waitingFor reads it.
                **(
                    {"dependsOnWaves": wave["dependsOnWaves"]}
                    if wave.get("dependsOnWaves") is not None
                    else {}
                ),
            }
            for index, wave in enumerate(waves)
        ],
    }


def _create(record: Dict[str, Any], tables: Dict[str, Any]) -> None:
    """Write the waves' planned servers (``shared.wave_plan_store``),
    then the record; when the record is refused its partition of the
    servers table (only those parts yet) is deleted again."""
    execution_id = record["executionId"]
    planned = take_planned(record)
    store_planned(execution_id, planned, tables.get("servers"))
    try:
        create_execution(to_jsonable(record), tables.get("executions"))
    except Exception:
        delete_execution_servers(execution_id, tables.get("servers"))
        raise


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
