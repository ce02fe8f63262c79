"""Execution history records: reads and conditional status transitions."""

from typing import Any, Dict, List, Optional

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from shared import clock, metrics
from shared.ddb_updates import condition_failed
from shared.errors import InvalidStateError, NotFoundError
from shared.execution_lock import release_plan_lock
from shared.statuses import (
    ACTIVE_STATUSES,
    LEGAL_PREDECESSORS,
    TERMINAL_STATUSES,
)
from shared.tables import execution_history_table, query_all


def get_execution(
    execution_id: str, table: Optional[Any] = None
) -> Dict[str, Any]:
    """The execution record, or NotFoundError."""
    table = table or execution_history_table()
    item = table.get_item(
        Key={"executionId": execution_id}, ConsistentRead=True
    ).get("Item")
    if not item:
        raise NotFoundError(
            f"execution {execution_id} not found", executionId=execution_id
        )
    return item


def active_executions(table: Optional[Any] = None) -> List[Dict[str, Any]]:
    """Every execution in an active status, of any plan (StatusIndex)."""
    table = table if table is not None else execution_history_table()
    return [
        item
        for status in sorted(ACTIVE_STATUSES)
        for item in query_all(
            table,
            IndexName="StatusIndex",
            KeyConditionExpression=Key("status").eq(status),
        )
    ]


def transition_status(
    execution_id: str,
    new_status: str,
    updates: Optional[Dict[str, Any]] = None,
    table: Optional[Any] = None,
    allowed_from: Optional[frozenset] = None,
    expected: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """Move an execution to ``new_status`` from a legal predecessor.

    The write is conditional, so two racing transitions cannot both win.
    ``updates`` sets further attributes in the same write; ``expected``
    attributes must still hold the values read before. Returns the new
    record; raises InvalidStateError naming the current status, or
    NotFoundError.
    """
    table = table or execution_history_table()
    sources = allowed_from or LEGAL_PREDECESSORS[new_status]
    names = {"#status": "status", "#version": "version"}
    values: Dict[str, Any] = {
        ":new": new_status,
        ":one": 1,
        ":zero": 0,
        ":now": clock.epoch(),
    }
    placeholders = []
    for index, status in enumerate(sorted(sources)):
        values[f":from{index}"] = status
        placeholders.append(f":from{index}")
    sets = [
        "#status = :new",
        "updatedTime = :now",
        "#version = if_not_exists(#version, :zero) + :one",
    ]
    for index, (key, value) in enumerate((updates or {}).items()):
        names[f"#u{index}"] = key
        values[f":u{index}"] = value
        sets.append(f"#u{index} = :u{index}")
    conditions = [
        "attribute_exists(executionId)",
        "#status IN (" + ", ".join(placeholders) + ")",
    ]
    for index, (key, value) in enumerate((expected or {}).items()):
        names[f"#e{index}"] = key
        values[f":e{index}"] = value
        conditions.append(f"#e{index} = :e{index}")
    try:
        result = table.update_item(
            Key={"executionId": execution_id},
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression=" AND ".join(conditions),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
    except ClientError as error:
        if not condition_failed(error):
            raise
        current = get_execution(execution_id, table)
        raise InvalidStateError(
            f"execution {execution_id} is {current.get('status')}; "
            f"cannot become {new_status}",
            executionId=execution_id,
            currentStatus=current.get("status"),
            requestedStatus=new_status,
        ) from None
    record = result["Attributes"]
    if new_status in TERMINAL_STATUSES:
        # A finished execution frees its plan for the next start.
        release_plan_lock(record.get("planId"), execution_id, table)
        # Counted here, where the conditional write lets one caller win.
        metrics.execution_ended(record)
    return record
