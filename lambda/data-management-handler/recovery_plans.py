"""Recovery plans: create, read, list, update, delete."""

from typing import Any, Dict, List, Optional

from boto3.dynamodb.conditions import Key

from crud_routes import register_crud, sorted_by
from dm_store import (
    check_unique_name,
    in_account_only,
    check_version,
    create_claimed,
    delete_claimed,
    get_item,
    list_items,
    new_id,
    stamp_new,
    stamp_update,
    strip_fields,
    update_claimed,
)
from plan_summaries import plan_answers
from plan_validation import (
    CONSOLE_PLAN_FIELDS,
    PLAN_FIELDS,
    STORED_CONSOLE_FIELDS,
    check_groups_and_sizes,
    check_requested_account,
    validate_plan_shape,
)
from shared.aws_errors import aws_errors
from shared.console_inputs import plan_input
from shared.console_shapes import plan_list
from shared.errors import ExecutionConflictError
from shared.name_claims import is_name_claim
from shared.notifications import (
    remove_plan_subscription,
    sync_plan_subscription,
)
from shared.responses import to_jsonable
from shared.statuses import ACTIVE_STATUSES
from shared.target_accounts import current_account_id
from shared.tables import (
    execution_history_table,
    protection_groups_table,
    query_all,
    recovery_plans_table,
)
from shared.validation import reject_unknown

KEY = "planId"
# Name claims (shared.name_claims): kind and name field.
CLAIM = ("plan", "planName")
# notificationSubscriptionArn: the SNS subscription of the plan's
# notificationEmail (shared.notifications), bookkeeping only.
INTERNAL_FIELDS = ("planNameLower", "notificationSubscriptionArn")
SUBSCRIPTION = "notificationSubscriptionArn"


def public_plan(item: Dict[str, Any]) -> Dict[str, Any]:
    """A stored plan as the API answers it."""
    return strip_fields(item, INTERNAL_FIELDS)


def get_plan(plan_id: str, table: Optional[Any] = None) -> Dict[str, Any]:
    """The stored plan; 404 when unknown."""
    table = table if table is not None else recovery_plans_table()
    return get_item(table, KEY, plan_id, "recovery plan")


def group_lookup(groups_table: Optional[Any] = None):
    """A ``groupId -> group or None`` function over the groups table."""
    table = (
        groups_table
        if groups_table is not None
        else (protection_groups_table())
    )

    def lookup(group_id: str) -> Optional[Dict[str, Any]]:
        item = table.get_item(
            Key={"groupId": group_id}, ConsistentRead=True
        ).get("Item")
        return None if item is None or is_name_claim(item) else item

    return lookup


def _hub_account() -> str:
    with aws_errors("STS"):
        return current_account_id()


def prepare_plan(
    plan: Dict[str, Any],
    existing: List[Dict[str, Any]],
    own_id: str,
    lookup,
) -> Dict[str, Any]:
    """Check a shaped plan: unique name, groups, account, wave sizes."""
    check_unique_name(existing, plan["planName"], "planName", KEY, own_id)
    check_groups_and_sizes(plan, lookup)
    check_requested_account(plan, _hub_account)
    plan["planNameLower"] = plan["planName"].lower()
    return plan


def answer(item: Dict[str, Any], groups_table: Optional[Any] = None):
    """One stored plan as the API answers it (console facts included)."""
    return plan_answers([public_plan(item)], group_lookup(groups_table))[0]


def active_executions(
    plan_id: str, executions_table: Optional[Any] = None
) -> List[Dict[str, Any]]:
    """Executions of the plan that have not finished."""
    table = (
        executions_table
        if executions_table is not None
        else (execution_history_table())
    )
    items = query_all(
        table,
        IndexName="PlanIdIndex",
        KeyConditionExpression=Key("planId").eq(plan_id),
    )
    return [i for i in items if i.get("status") in ACTIVE_STATUSES]


def refuse_if_running(
    plan_id: str, executions_table: Optional[Any] = None
) -> None:
    """409 EXECUTION_CONFLICT while an execution of the plan is active."""
    active = active_executions(plan_id, executions_table)
    if active:
        raise ExecutionConflictError(
            f"recovery plan {plan_id} has an active execution",
            planId=plan_id,
            executions=[
                {"executionId": e["executionId"], "status": e["status"]}
                for e in active
            ],
        )


def _subscribe(item: Dict[str, Any], current: Dict[str, Any]) -> None:
    """The plan's ``notificationEmail`` as an SNS email subscription of
    the execution topic filtered to the plan (``shared.notifications``);
    its ARN is kept on the item. An SNS refusal saves nothing."""
    with aws_errors("SNS"):
        arn = sync_plan_subscription(
            item[KEY], item.get("notificationEmail"), current
        )
    item.pop(SUBSCRIPTION, None)
    if arn:
        item[SUBSCRIPTION] = arn


def create_plan(
    body: Dict[str, Any],
    caller: str,
    table: Optional[Any] = None,
    groups_table: Optional[Any] = None,
) -> Dict[str, Any]:
    """Validate and store a new recovery plan."""
    table = table if table is not None else recovery_plans_table()
    plan = validate_plan_shape(plan_input(body))
    plan_id = new_id()
    prepare_plan(plan, list_items(table), plan_id, group_lookup(groups_table))
    item = stamp_new({KEY: plan_id, **plan}, caller)
    _subscribe(item, {})
    try:
        create_claimed(table, item, KEY, *CLAIM)
    except Exception:
        remove_plan_subscription(item)  # nothing saved: nothing to mail
        raise
    return answer(item, groups_table)


def update_plan(
    plan_id: str,
    body: Dict[str, Any],
    caller: str,
    table: Optional[Any] = None,
    groups_table: Optional[Any] = None,
    executions_table: Optional[Any] = None,
) -> Dict[str, Any]:
    """Replace a plan's fields, unless it runs; conditional on version."""
    table = table if table is not None else recovery_plans_table()
    body = plan_input(body)
    settable = PLAN_FIELDS + CONSOLE_PLAN_FIELDS
    reject_unknown(body, settable + ("version", KEY))
    current = get_plan(plan_id, table)
    check_version(body, current)
    refuse_if_running(plan_id, executions_table)
    # Stored numbers come back as Decimal: the stored fields re-enter the
    # validation as the JSON a client would send (waveNumber 1, not 1.0).
    kept = PLAN_FIELDS + STORED_CONSOLE_FIELDS
    merged = to_jsonable({k: current[k] for k in kept if k in current})
    merged.update({k: v for k, v in body.items() if k in settable})
    plan = validate_plan_shape(merged)
    prepare_plan(plan, list_items(table), plan_id, group_lookup(groups_table))
    item = stamp_update({KEY: plan_id, **plan}, current, caller)
    _subscribe(item, current)
    try:
        stored = update_claimed(table, item, current, KEY, CLAIM)
    except Exception:
        if item.get(SUBSCRIPTION) != current.get(SUBSCRIPTION):
            remove_plan_subscription(item)
        raise
    if item.get(SUBSCRIPTION) != current.get(SUBSCRIPTION):
        remove_plan_subscription(current)
    return answer(stored, groups_table)


def delete_plan(
    plan_id: str,
    table: Optional[Any] = None,
    executions_table: Optional[Any] = None,
) -> Dict[str, Any]:
    """Delete a plan that has no active execution."""
    table = table if table is not None else recovery_plans_table()
    current = get_plan(plan_id, table)
    refuse_if_running(plan_id, executions_table)
    delete_claimed(table, current, KEY, *CLAIM)
    remove_plan_subscription(current)
    return {"planId": plan_id, "deleted": True}


def list_plans(account_id: Optional[str] = None) -> List[Dict[str, Any]]:
    """Every recovery plan (of one account when given), by name."""
    plans = in_account_only(list_items(recovery_plans_table()), account_id)
    ordered = sorted_by([public_plan(p) for p in plans], "planName")
    return plan_answers(ordered, group_lookup())


register_crud(
    "recovery_plan",
    "plans",
    list_plans,
    create_plan,
    lambda plan_id: answer(get_plan(plan_id)),
    update_plan,
    delete_plan,
    list_shape=plan_list,
    account_scoped=True,
)
