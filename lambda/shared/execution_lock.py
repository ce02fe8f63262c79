"""One active execution per recovery plan: a lock item per plan.

The execution history table has only ``executionId`` as key, so the lock
is an item of that table keyed ``lock#<planId>``. It carries no
``planId``/``status`` attribute, so it never shows in the ``PlanIdIndex`` or
``StatusIndex`` queries. ``execute_recovery_plan`` writes the lock and the
PENDING record in one transaction (two concurrent starts: one wins).

Release is derived, not remembered: ``transition_status`` releases the lock
whenever an execution reaches a terminal status, and a start that finds a
lock whose owner is terminal (or gone) takes it over conditionally. So a
lost release can never block a plan forever.
"""

from typing import Any, Dict, Optional

from botocore.exceptions import ClientError

from shared.ddb_updates import condition_failed

from shared.tables import execution_history_table

LOCK_PREFIX = "lock#"


def lock_key(plan_id: str) -> str:
    """The ``executionId`` key of a plan's lock item."""
    return f"{LOCK_PREFIX}{plan_id}"


def is_lock_item(item: Dict[str, Any]) -> bool:
    """True for lock items (scans must skip them)."""
    return str(item.get("executionId", "")).startswith(LOCK_PREFIX)


def get_plan_lock(
    plan_id: str, table: Optional[Any] = None
) -> Optional[Dict[str, Any]]:
    """The plan's lock item, or None."""
    table = table or execution_history_table()
    return table.get_item(
        Key={"executionId": lock_key(plan_id)}, ConsistentRead=True
    ).get("Item")


def lock_put(
    table_name: str,
    plan_id: str,
    execution_id: str,
    now: int,
    previous_owner: Optional[str] = None,
) -> Dict[str, Any]:
    """A ``TransactWriteItems`` Put taking the plan's lock, in the
    resource-client form (plain values: ``table.meta.client``).

    Without ``previous_owner`` the lock must not exist; with it, the lock
    must still belong to that (finished) execution.
    """
    put: Dict[str, Any] = {
        "TableName": table_name,
        "Item": {
            "executionId": lock_key(plan_id),
            "lockedPlanId": plan_id,
            "ownerExecutionId": execution_id,
            "lockedTime": int(now),
        },
    }
    if previous_owner is None:
        put["ConditionExpression"] = "attribute_not_exists(executionId)"
    else:
        put["ConditionExpression"] = "ownerExecutionId = :previous"
        put["ExpressionAttributeValues"] = {":previous": previous_owner}
    return {"Put": put}


def release_plan_lock(
    plan_id: Optional[str], execution_id: str, table: Optional[Any] = None
) -> bool:
    """Delete the plan's lock if ``execution_id`` still owns it.

    Called by ``shared.execution_records.transition_status`` on every
    terminal transition; safe to call twice. True when it was released.
    """
    if not plan_id:
        return False
    table = table or execution_history_table()
    try:
        table.delete_item(
            Key={"executionId": lock_key(plan_id)},
            ConditionExpression="ownerExecutionId = :owner",
            ExpressionAttributeValues={":owner": execution_id},
        )
    except ClientError as error:
        if condition_failed(error):
            return False
        raise
    return True
