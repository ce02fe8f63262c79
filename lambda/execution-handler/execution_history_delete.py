"""``DELETE /executions?ids=a,b,c``: delete finished executions' history.

The reference console's history page deletes the executions a user
selected. Only a finished execution (COMPLETED, FAILED, CANCELLED,
TIMEOUT) is deleted, and each delete is conditional on that status, so
an execution that is running, paused or cancelling is never deleted,
even one that changes status meanwhile. A finished drill whose recovery
instances were not terminated is kept too: terminate-instances needs its
record. Every id is answered: deleted, not found, or kept with the
reason (the console's counters and lists). A deleted execution's
``lock#wake#``/``lock#job#`` items (``shared.progress_wake``) go with it.
"""

from typing import Any, Dict, List, Optional

from botocore.exceptions import ClientError

from execution_routes import router
from shared.api import Request
from shared.console_shapes import termination_metadata
from shared.ddb_updates import condition_failed
from shared.errors import ValidationError
from shared.execution_lock import LOCK_PREFIX
from shared.logging_setup import get_logger
from shared.progress_wake import forget_execution
from shared.server_records import attach_servers, delete_execution_servers
from shared.statuses import TERMINAL_STATUSES
from shared.tables import execution_history_table
from shared.validation import check_text, reject_unknown

logger = get_logger("execution-history-delete")
MAX_IDS = 100
MAX_ID_LENGTH = 128
ACCESS_DENIED = (
    "this deployment's execution-handler role may not delete execution "
    "history (dynamodb:DeleteItem on the execution table)"
)


def parse_ids(raw: Any) -> List[str]:
    """The ``ids`` parameter: 1-100 comma-separated execution ids."""
    if isinstance(raw, list):
        raw = ",".join(str(v) for v in raw)
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationError(
            "ids is required: the comma-separated execution ids to delete",
            field="ids",
        )
    ids = list(dict.fromkeys(i.strip() for i in raw.split(",") if i.strip()))
    if not ids or len(ids) > MAX_IDS:
        raise ValidationError(
            f"ids must list 1 to {MAX_IDS} execution ids", field="ids"
        )
    for value in ids:
        check_text(value, "ids", MAX_ID_LENGTH)
    return ids


def _kept_reason(record: Dict[str, Any]) -> Optional[str]:
    """Why a stored execution is not deleted (None: it may be)."""
    status = record.get("status")
    if status not in TERMINAL_STATUSES:
        return f"the execution is {status}: only a finished one is deleted"
    meta = termination_metadata(record, terminal=True)
    if record.get("executionType") != "RECOVERY" and meta["canTerminate"]:
        return (
            "its drill recovery instances are not terminated: terminate "
            "them first (terminate-instances needs this record)"
        )
    return None


def _delete(table: Any, execution_id: str) -> Optional[str]:
    """Delete if still finished: None, else why it was not deleted."""
    try:
        table.delete_item(
            Key={"executionId": execution_id},
            ConditionExpression="#s IN ("
            + ", ".join(f":s{i}" for i in range(len(TERMINAL_STATUSES)))
            + ")",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                f":s{i}": s for i, s in enumerate(sorted(TERMINAL_STATUSES))
            },
        )
    except ClientError as error:
        if condition_failed(error):
            return "the execution changed status: it was not deleted"
        if error.response.get("Error", {}).get("Code") == (
            "AccessDeniedException"
        ):
            # A deployment whose role may not delete execution items.
            return ACCESS_DENIED
        raise
    return None


def delete_executions(
    ids: List[str],
    caller: str,
    table: Optional[Any] = None,
    servers_table: Optional[Any] = None,
) -> Dict[str, Any]:
    """Delete the finished executions among ``ids`` with their server
    records (``shared.server_records``); report every id."""
    table = table if table is not None else execution_history_table()
    deleted: List[str] = []
    not_found: List[str] = []
    kept: List[Dict[str, Any]] = []
    failed: List[Dict[str, Any]] = []
    for execution_id in ids:
        record = None
        if not execution_id.startswith(LOCK_PREFIX):
            record = table.get_item(
                Key={"executionId": execution_id}, ConsistentRead=True
            ).get("Item")
        if not record or not record.get("status"):
            not_found.append(execution_id)
            continue
        # Its servers' recovery instances decide whether it is kept.
        record = attach_servers(record, servers_table)
        reason = _kept_reason(record) or _delete(table, execution_id)
        if reason == ACCESS_DENIED:
            failed.append({"executionId": execution_id, "error": reason})
            continue
        if reason:
            kept.append(
                {
                    "executionId": execution_id,
                    "status": record.get("status"),
                    "reason": reason,
                }
            )
            continue
        delete_execution_servers(execution_id, servers_table)
        # Its progress wait and job -> execution items (issue 18), by key.
        forget_execution(execution_id, record, table)
        deleted.append(execution_id)
    logger.info(
        "execution history deleted",
        extra={"by": caller, "deleted": deleted, "kept": len(kept)},
    )
    return {
        "message": f"{len(deleted)} of {len(ids)} execution(s) deleted",
        "deletedCount": len(deleted),
        "deletedIds": deleted,
        "totalRequested": len(ids),
        "notFound": len(not_found),
        "notFoundIds": not_found,
        "activeSkipped": len(kept),
        "activeExecutionsSkipped": kept,
        "failed": len(failed),
        "failedDeletes": failed,
    }


@router.operation("delete_executions")
def delete_executions_operation(request: Request) -> Dict[str, Any]:
    """``ids`` from the query (REST) or the body (direct invocation)."""
    reject_unknown(request.body, ("ids",), "body")
    raw = request.query.get("ids")
    if raw is None:
        raw = request.body.get("ids")
    return delete_executions(parse_ids(raw), request.caller.name)
