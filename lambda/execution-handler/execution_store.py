"""Data access of the execution lifecycle: plans, groups, records, lock."""

from typing import Any, Callable, Dict, Iterable, List, Optional

from botocore.exceptions import ClientError

from shared import clock, metrics
from shared.ddb_updates import condition_failed
from shared.errors import (
    ExecutionConflictError,
    InvalidStateError,
    NotFoundError,
    ValidationError,
)
from shared.execution_lock import get_plan_lock, is_lock_item, lock_put
from shared.execution_records import get_execution
from shared.name_claims import is_name_claim
from shared.page_tokens import decode_token, encode_token
from shared.statuses import TERMINAL_STATUSES
from shared.tables import (
    execution_history_table,
    protection_groups_table,
    recovery_plans_table,
    scan_all,
)

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100


def load_plan(plan_id: str, table: Optional[Any] = None) -> Dict[str, Any]:
    """The recovery plan, or NotFoundError."""
    table = table or recovery_plans_table()
    item = table.get_item(Key={"planId": plan_id}).get("Item")
    # A plan name's claim item shares the table: it is not a plan.
    if not item or is_name_claim(item):
        raise NotFoundError(
            f"recovery plan {plan_id} not found", planId=plan_id
        )
    return item


def sorted_waves(plan: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The plan's waves ordered by ``waveNumber``."""
    return sorted(plan.get("waves") or [], key=lambda w: int(w["waveNumber"]))


def load_groups(
    plan: Dict[str, Any], table: Optional[Any] = None
) -> Dict[str, Dict[str, Any]]:
    """The protection groups of every wave; a 400 naming a missing one."""
    table = table or protection_groups_table()
    groups: Dict[str, Dict[str, Any]] = {}
    for wave in sorted_waves(plan):
        group_id = wave.get("protectionGroupId")
        if group_id in groups:
            continue
        item = table.get_item(Key={"groupId": group_id}).get("Item")
        if not item or is_name_claim(item):
            raise ValidationError(
                f"wave {wave['waveNumber']} uses protection group "
                f"{group_id}, which does not exist",
                field="waves",
                protectionGroupId=group_id,
            )
        groups[group_id] = item
    return groups


def create_execution(
    record: Dict[str, Any], table: Optional[Any] = None
) -> Dict[str, Any]:
    """Write the PENDING record and take the plan's lock, atomically.

    A lock held by an active execution -> EXECUTION_CONFLICT naming it; a
    lock left by a finished execution is taken over conditionally.
    """
    table = table or execution_history_table()
    plan_id = record["planId"]
    lock = get_plan_lock(plan_id, table)
    previous = None
    if lock:
        previous = lock["ownerExecutionId"]
        if _is_active(previous, table):
            raise _conflict(plan_id, previous)
    # The resource's client serializes plain values itself.
    client = table.meta.client
    try:
        client.transact_write_items(
            TransactItems=[
                lock_put(
                    table.name,
                    plan_id,
                    record["executionId"],
                    clock.epoch(),
                    previous,
                ),
                {
                    "Put": {
                        "TableName": table.name,
                        "Item": record,
                        "ConditionExpression": (
                            "attribute_not_exists(executionId)"
                        ),
                    }
                },
            ]
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        lock = get_plan_lock(plan_id, table) or {}
        raise _conflict(plan_id, lock.get("ownerExecutionId")) from None
    # Counted once the record exists: one count per accepted execution.
    metrics.execution_started()
    return record


def _is_active(execution_id: str, table: Any) -> bool:
    try:
        status = get_execution(execution_id, table).get("status")
    except NotFoundError:
        return False
    return status not in TERMINAL_STATUSES


def _conflict(plan_id: str, owner: Optional[str]) -> ExecutionConflictError:
    return ExecutionConflictError(
        f"recovery plan {plan_id} already has an active execution"
        + (f" ({owner})" if owner else ""),
        planId=plan_id,
        activeExecutionId=owner,
    )


def update_execution(
    execution_id: str,
    updates: Dict[str, Any],
    expected_statuses: Optional[Iterable[str]] = None,
    table: Optional[Any] = None,
) -> Dict[str, Any]:
    """Set attributes of a record, conditional on its current status.

    Raises InvalidStateError naming the current status, or NotFoundError.
    """
    table = table or execution_history_table()
    names: Dict[str, str] = {}
    values: Dict[str, Any] = {":now": clock.epoch()}
    sets = ["updatedTime = :now"]
    for index, (key, value) in enumerate(updates.items()):
        names[f"#u{index}"] = key
        values[f":u{index}"] = value
        sets.append(f"#u{index} = :u{index}")
    condition = "attribute_exists(executionId)"
    statuses = sorted(expected_statuses or [])
    if statuses:
        names["#status"] = "status"
        keys = []
        for index, status in enumerate(statuses):
            values[f":s{index}"] = status
            keys.append(f":s{index}")
        condition += " AND #status IN (" + ", ".join(keys) + ")"
    try:
        return table.update_item(
            Key={"executionId": execution_id},
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )["Attributes"]
    except ClientError as error:
        if not condition_failed(error):
            raise
    current = get_execution(execution_id, table)
    raise InvalidStateError(
        f"execution {execution_id} is {current.get('status')}",
        executionId=execution_id,
        currentStatus=current.get("status"),
    )


def list_page(
    plan_id: Optional[str],
    status: Optional[str],
    limit: int,
    token: Optional[str],
    table: Optional[Any] = None,
    keep: Optional[Callable[[Dict[str, Any]], bool]] = None,
) -> Dict[str, Any]:
    """One page of executions, newest first, and the next token; ``keep``
    selects the records listed (pages still hold up to ``limit``)."""
    table = table or execution_history_table()
    start = decode_token(token)
    if plan_id or status:
        return _query_page(table, plan_id, status, limit, start, keep)
    items = [
        i
        for i in scan_all(table)
        if not is_lock_item(i) and (keep is None or keep(i))
    ]
    items.sort(key=lambda i: (i.get("startTime", 0), i["executionId"]))
    items.reverse()
    offset = int((start or {}).get("offset", 0))
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    return {
        "items": page,
        "nextToken": (
            encode_token({"offset": offset + limit}) if more else None
        ),
    }


def _query_page(
    table, plan_id, status, limit, start, keep=None
) -> Dict[str, Any]:
    if plan_id:
        kwargs = {
            "IndexName": "PlanIdIndex",
            "KeyConditionExpression": "planId = :v",
            "ExpressionAttributeValues": {":v": plan_id},
        }
        if status:
            kwargs["FilterExpression"] = "#s = :s"
            kwargs["ExpressionAttributeNames"] = {"#s": "status"}
            kwargs["ExpressionAttributeValues"][":s"] = status
    else:
        kwargs = {
            "IndexName": "StatusIndex",
            "KeyConditionExpression": "#s = :s",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":s": status},
        }
    items: List[Dict[str, Any]] = []
    while len(items) < limit:
        page_kwargs = dict(kwargs, ScanIndexForward=False)
        page_kwargs["Limit"] = limit - len(items)
        if start:
            page_kwargs["ExclusiveStartKey"] = start
        page = table.query(**page_kwargs)
        items.extend(
            i for i in page.get("Items", []) if keep is None or keep(i)
        )
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    return {
        "items": items,
        "nextToken": encode_token(start) if start else None,
    }
