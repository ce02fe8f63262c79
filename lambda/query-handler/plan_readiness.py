"""``GET /recovery-plans/{id}/readiness`` and the scheduled evaluation.

The checks are ``shared.readiness``; this module loads the plan, its
groups and the running executions, and (``evaluate_readiness`` action)
stores each plan's last result and notifies a change of status.
"""

from typing import Any, Dict, List, Optional

from botocore.exceptions import ClientError

from query_routes import router
from shared.api import Request
from shared.ddb_updates import condition_failed
from shared.errors import NotFoundError
from shared.execution_records import active_executions
from shared.logging_setup import get_logger
from shared.wave_servers import wave_group_ids
from shared.name_claims import is_name_claim, without_claims
from shared.notifications import publish_message
from shared.readiness import evaluate_plan, sorted_waves
from shared.readiness_result import summary
from shared.tables import (
    protection_groups_table,
    recovery_plans_table,
    scan_all,
    target_accounts_table,
)

logger = get_logger("plan-readiness")
CHANGE_EVENT = "PLAN_READINESS_CHANGED"


def plan_groups(
    plan: Dict[str, Any], table: Optional[Any] = None
) -> Dict[str, Dict[str, Any]]:
    """The plan's protection groups by id (a missing one is absent: the
    membership check names it)."""
    table = table if table is not None else protection_groups_table()
    groups: Dict[str, Dict[str, Any]] = {}
    for wave in sorted_waves(plan):
        for group_id in wave_group_ids(wave):
            if group_id in groups:
                continue
            item = table.get_item(Key={"groupId": group_id}).get("Item")
            if item and not is_name_claim(item):
                groups[group_id] = item
    return groups


def plan_report(
    plan: Dict[str, Any],
    tables: Optional[Dict[str, Any]] = None,
    executions: Optional[List[Dict[str, Any]]] = None,
) -> Dict[str, Any]:
    """Every readiness check of one stored plan."""
    tables = tables or {}
    if executions is None:
        executions = active_executions(tables.get("executions"))
    accounts = tables.get("accounts")
    return evaluate_plan(
        plan,
        plan_groups(plan, tables.get("groups")),
        active_executions=executions,
        accounts_table=(
            accounts if accounts is not None else target_accounts_table()
        ),
    )


def load_plan(plan_id: str, table: Optional[Any] = None) -> Dict[str, Any]:
    """The stored plan, or a 404."""
    table = table if table is not None else recovery_plans_table()
    item = table.get_item(Key={"planId": plan_id}).get("Item")
    if not item or is_name_claim(item):
        raise NotFoundError(
            f"recovery plan {plan_id} not found", planId=plan_id
        )
    return item


@router.operation("get_plan_readiness")
def get_plan_readiness(request: Request) -> Dict[str, Any]:
    """The plan's readiness now: overall, per check, per server."""
    return plan_report(load_plan(request.path_param("id")))


def store_readiness(
    plan_id: str, stored: Dict[str, Any], table: Any
) -> Optional[str]:
    """Write ``readiness`` on the plan; answer the previous status.

    Only that attribute changes (no version bump: the plan's content is
    not edited); the condition skips a plan deleted meanwhile.
    """
    try:
        answer = table.update_item(
            Key={"planId": plan_id},
            UpdateExpression="SET readiness = :r",
            ConditionExpression="attribute_exists(planId)",
            ExpressionAttributeValues={":r": stored},
            ReturnValues="UPDATED_OLD",
        )
    except ClientError as error:
        if condition_failed(error):
            return None
        raise
    old = (answer.get("Attributes") or {}).get("readiness") or {}
    return old.get("status")


def _notify(plan: Dict[str, Any], previous: str, report: Dict[str, Any]):
    failing = [
        f"{c['name']} {c['status']}: {c['message']}"
        for c in report["checks"]
        if c["status"] != "READY"
    ]
    publish_message(
        CHANGE_EVENT,
        {
            "planId": plan["planId"],
            "planName": plan.get("planName"),
            "status": f"{previous} -> {report['status']}",
            "checkedAt": report["checkedAt"],
            "checks": "; ".join(failing) or "all checks READY",
        },
    )


@router.action("evaluate_readiness")
def evaluate_readiness(
    event: Dict[str, Any], tables: Optional[Dict[str, Any]] = None
) -> Dict[str, Any]:
    """Evaluate every plan, store its result, notify each change once."""
    tables = tables or {}
    plans_table = tables.get("plans")
    if plans_table is None:
        plans_table = recovery_plans_table()
    executions = active_executions(tables.get("executions"))
    results = []
    for plan in without_claims(scan_all(plans_table)):
        try:
            report = plan_report(plan, tables, executions)
        except Exception:  # noqa: BLE001 - one plan never stops the rest
            logger.exception(
                "readiness evaluation failed",
                extra={"planId": plan.get("planId")},
            )
            results.append({"planId": plan.get("planId"), "error": True})
            continue
        stored = {
            "status": report["status"],
            "checkedAt": report["checkedAt"],
            "summary": summary(report),
        }
        previous = store_readiness(plan["planId"], stored, plans_table)
        changed = previous is not None and previous != report["status"]
        if changed:
            _notify(plan, previous, report)
        results.append(
            {
                "planId": plan["planId"],
                "status": report["status"],
                "previous": previous,
                "notified": changed,
            }
        )
    logger.info("readiness evaluated", extra={"plans": len(results)})
    return {"evaluated": len(results), "plans": results}
