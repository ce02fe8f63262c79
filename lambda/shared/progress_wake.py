"""Event-driven wave progress (issue 18): wake the state machine's wait.

In ``WaveProgressMode=events`` the state machine waits for progress in a
``.waitForTaskToken`` task (``store_progress_token``) whose timeout is
the poll interval; a DRS launch-result event (``drs_event``), a cancel
or a resume sends the recorded token, and the wait ends at once. Either
way the next state is the same poll: an event is a hint, never truth.

Two kinds of item in the execution history table, keyed under the
``lock#`` prefix so the executions listing skips them (``is_lock_item``)
and with no ``planId``/``status`` so no index shows them:

* ``lock#job#<jobId>`` -> ``ownerExecutionId``, ``region``: the job ->
  execution map, written when a chunk's job is recorded (no scan);
* ``lock#wake#<executionId>``: the stored ``taskToken`` of the current
  wait, or ``pending`` when a wake found no wait (the next wait then
  ends at once: a wake during a poll is never lost).

Both expire through the table's TTL attribute ``expiresAt``
(``TimeToLiveSpecification`` in ``cfn/database-stack.yaml``) a few days
after they can last matter: a job's map once its wave's longest wait
(``WAVE_MAX_WAIT_SECONDS``) is over, a wait item after its last wait or
wake (each refreshes it). Deleting an execution's history
(``forget_execution``) removes both at once, by key.

Only a *decisive* event wakes: a failed launch, or the result of the
last server of its job (the job then ends: capacity frees, the wave may
be complete). The map item counts the job's servers (``servers``) and
the distinct servers it heard of (``seen``, a set: duplicates count
once); earlier results only add to the set. A wave of 1,000 servers then
wakes its wait about once per job, not once per server: every wake costs
a poll that reads the whole wave. A job mapped without its size wakes on
every event, as does an event naming no server.

Nothing here raises to its caller: a lost wake costs one poll interval.
"""

from typing import Any, Dict, Iterable, List, Optional

from botocore.exceptions import BotoCoreError, ClientError

from shared import clock
from shared.aws_clients import get_client
from shared.config import get_settings
from shared.ddb_updates import condition_failed
from shared.engine_state import EngineState
from shared.errors import ConfigurationError
from shared.execution_lock import LOCK_PREFIX
from shared.logging_setup import get_logger
from shared.responses import dumps
from shared.statuses import CANCELLING, RUNNING, TERMINAL_STATUSES
from shared.tables import execution_history_table
from shared.wave_jobs import wave_job_ids

logger = get_logger("progress-wake")

JOB_PREFIX = f"{LOCK_PREFIX}job#"
WAKE_PREFIX = f"{LOCK_PREFIX}wake#"
STORE_ACTION = "store_progress_token"
EVENT_ACTION = "drs_event"
ACTIONS = frozenset({STORE_ACTION, EVENT_ACTION})
# SendTaskSuccess errors meaning that wait is over (timed out, stopped).
TASK_GONE_CODES = frozenset(
    {"TaskDoesNotExist", "InvalidToken", "TaskTimedOut"}
)
# Only a running (or cancelling, still polled) execution has a wait.
WAKEABLE = frozenset({RUNNING, CANCELLING})
WAKE_ATTEMPTS = 3
# The table's TTL attribute (cfn/database-stack.yaml).
TTL_ATTRIBUTE = "expiresAt"
# Kept this long after they can last matter (TTL deletes within days).
EXPIRY_GRACE_SECONDS = 3 * 24 * 3600
# A launch result that ends its server in failure: always decisive.
FAILED_RESULTS = frozenset({"RECOVERY_LAUNCH_FAILED"})
# When WAVE_MAX_WAIT_SECONDS cannot be read (shared.config's default).
DEFAULT_WAVE_MAX_WAIT_SECONDS = 14400


def job_key(job_id: str) -> str:
    """The ``executionId`` key of a job's map item."""
    return f"{JOB_PREFIX}{job_id}"


def wake_key(execution_id: str) -> str:
    """The ``executionId`` key of an execution's wait item."""
    return f"{WAKE_PREFIX}{execution_id}"


def job_expiry(now: Optional[int] = None) -> int:
    """``expiresAt`` of a job's map item: its wave waits at most
    ``WAVE_MAX_WAIT_SECONDS`` for it, then the grace."""
    try:
        longest = get_settings().wave_max_wait_seconds
    except ConfigurationError:
        longest = DEFAULT_WAVE_MAX_WAIT_SECONDS
    start = clock.epoch() if now is None else now
    return start + longest + EXPIRY_GRACE_SECONDS


def wake_expiry(now: Optional[int] = None) -> int:
    """``expiresAt`` of a wait item (refreshed by every wait and wake)."""
    return (clock.epoch() if now is None else now) + EXPIRY_GRACE_SECONDS


def _table(table: Optional[Any]) -> Any:
    return table if table is not None else execution_history_table()


def _code(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return type(error).__name__


def register_job(
    execution_id: str,
    job_id: str,
    region: Optional[str] = None,
    table: Optional[Any] = None,
    servers: Optional[int] = None,
) -> bool:
    """Map ``job_id`` -> ``execution_id`` (idempotent; ``servers``: how
    many servers the job launches, so that only its last result wakes);
    never raises."""
    item: Dict[str, Any] = {
        "executionId": job_key(job_id),
        "ownerExecutionId": execution_id,
        "registeredAt": clock.epoch(),
        TTL_ATTRIBUTE: job_expiry(),
    }
    if region:
        item["region"] = region
    if servers:
        item["servers"] = int(servers)
    try:
        _table(table).put_item(Item=item)
        return True
    except (ClientError, BotoCoreError) as error:
        # The poll still follows the job: events for it wake nothing.
        logger.warning(
            "job not mapped to its execution",
            extra={"jobId": job_id, "error": _code(error)},
        )
        return False


def _take_token(execution_id: str, table: Any) -> Optional[str]:
    """Remove and return the stored token (one taker wins)."""
    try:
        old = table.update_item(
            Key={"executionId": wake_key(execution_id)},
            UpdateExpression="REMOVE taskToken",
            ConditionExpression="attribute_exists(taskToken)",
            ReturnValues="ALL_OLD",
        )
    except ClientError as error:
        if condition_failed(error):
            return None
        raise
    return (old.get("Attributes") or {}).get("taskToken")


def _mark_pending(execution_id: str, reason: str, table: Any) -> bool:
    """``pending`` while no wait is stored; False when one appeared."""
    try:
        table.update_item(
            Key={"executionId": wake_key(execution_id)},
            UpdateExpression="SET pending = :r, expiresAt = :e",
            ConditionExpression="attribute_not_exists(taskToken)",
            ExpressionAttributeValues={
                ":r": reason,
                ":e": wake_expiry(),
            },
        )
        return True
    except ClientError as error:
        if condition_failed(error):
            return False
        raise


def _send(token: str, reason: str, sfn: Optional[Any]) -> bool:
    """SendTaskSuccess; False when that wait is already over."""
    client = sfn if sfn is not None else get_client("stepfunctions")
    try:
        client.send_task_success(
            taskToken=token, output=dumps({"wokenBy": reason})
        )
        return True
    except ClientError as error:
        if _code(error) in TASK_GONE_CODES:
            return False
        raise


def wake_execution(
    execution_id: str,
    reason: str,
    table: Optional[Any] = None,
    sfn: Optional[Any] = None,
) -> bool:
    """End the execution's progress wait now (an event, a cancel, a
    resume); with no wait stored, the next one ends at once. True when a
    wait was woken. Never raises."""
    table = _table(table)
    try:
        for _attempt in range(WAKE_ATTEMPTS):
            token = _take_token(execution_id, table)
            if token is not None:
                if _send(token, reason, sfn):
                    return True
                continue  # a timed-out wait's token: mark pending
            if _mark_pending(execution_id, reason, table):
                return False
    except (ClientError, BotoCoreError) as error:
        logger.warning(
            "progress wait not woken",
            extra={"executionId": execution_id, "error": _code(error)},
        )
    return False


def store_progress_token(
    event: Dict[str, Any],
    table: Optional[Any] = None,
    sfn: Optional[Any] = None,
) -> Dict[str, Any]:
    """The ``WaitForProgress`` task: record its token; a wake that came
    while no wait was stored (``pending``) ends this wait at once."""
    state = EngineState.from_json(event.get("application") or {})
    execution_id = state.execution_id
    token = event.get("taskToken")
    if not execution_id or not token:
        # Nothing can wake it: the task's timeout (the poll) ends it.
        return {"stored": False}
    table = _table(table)
    old = table.update_item(
        Key={"executionId": wake_key(execution_id)},
        UpdateExpression="SET taskToken = :t, expiresAt = :e REMOVE pending",
        ExpressionAttributeValues={
            ":t": token,
            ":e": wake_expiry(),
        },
        ReturnValues="ALL_OLD",
    )
    pending = (old.get("Attributes") or {}).get("pending")
    woken = bool(pending) and wake_execution(
        execution_id, str(pending), table, sfn
    )
    return {"stored": True, "wokenAtOnce": woken}


def _heard(detail: Dict[str, Any], event: Dict[str, Any], table: Any):
    """Add the event's server to its job's map item; the item as it is
    now, or None when the job is not ours (unknown, another region)."""
    job_id = detail.get("job-id")
    if not isinstance(job_id, str) or not job_id:
        return None
    condition = "attribute_exists(ownerExecutionId)"
    values: Dict[str, Any] = {}
    region = event.get("region")
    if isinstance(region, str) and region:
        # Another region's job with the same id is not ours.
        condition += " AND (attribute_not_exists(#r) OR #r = :r)"
        values[":r"] = region
    server = detail.get("source-server-id")
    if isinstance(server, str) and server:
        update = "ADD seen :s"
        values[":s"] = {server}
    else:
        update = "SET heardAt = :h"
        values[":h"] = clock.epoch()
    request: Dict[str, Any] = {
        "Key": {"executionId": job_key(job_id)},
        "UpdateExpression": update,
        "ConditionExpression": condition,
        "ExpressionAttributeValues": values,
        "ReturnValues": "ALL_NEW",
    }
    if ":r" in values:
        request["ExpressionAttributeNames"] = {"#r": "region"}
    try:
        return table.update_item(**request).get("Attributes")
    except ClientError as error:
        if condition_failed(error):
            return None
        raise


def decisive(detail: Dict[str, Any], item: Dict[str, Any]) -> bool:
    """Whether the event may change a decision: a failed launch, the
    last server of its job, or a job or event we cannot count."""
    if detail.get("state") in FAILED_RESULTS:
        return True
    size = int(item.get("servers") or 0)
    server = detail.get("source-server-id")
    if not size or not isinstance(server, str) or not server:
        return True
    return len(item.get("seen") or ()) >= size


def handle_drs_event(
    event: Dict[str, Any],
    table: Optional[Any] = None,
    sfn: Optional[Any] = None,
) -> Dict[str, Any]:
    """``{"action": "drs_event", "event": <EventBridge event>}``: wake the
    execution whose job the event names. Unknown or foreign jobs,
    finished executions, duplicates and stale tokens change nothing
    (a finished execution's map item is dropped) and raise nothing."""
    body = event.get("event") if isinstance(event.get("event"), dict) else {}
    detail = body.get("detail") if isinstance(body.get("detail"), dict) else {}
    table = _table(table)
    try:
        item = _heard(detail, body, table)
        if item is None:
            return {"woken": False, "reason": "unknown job"}
        if not decisive(detail, item):
            return {"woken": False, "reason": "job still running"}
        execution_id = item["ownerExecutionId"]
        record = table.get_item(
            Key={"executionId": execution_id},
            ProjectionExpression="#s",
            ExpressionAttributeNames={"#s": "status"},
        ).get("Item")
        status = (record or {}).get("status")
        if status not in WAKEABLE:
            if record is None or status in TERMINAL_STATUSES:
                # Its jobs' later events can wake nothing: drop the map.
                table.delete_item(Key={"executionId": item["executionId"]})
            return {"woken": False, "reason": f"execution {status}"}
    except (ClientError, BotoCoreError) as error:
        logger.warning("DRS event not matched", extra={"error": _code(error)})
        return {"woken": False, "reason": "not readable"}
    state = detail.get("state") or "event"
    woken = wake_execution(execution_id, f"drs {state}", table, sfn)
    return {"woken": woken, "executionId": execution_id}


def _record_job_ids(record: Dict[str, Any]) -> List[str]:
    ids: List[str] = []
    for wave in record.get("waves") or []:
        if isinstance(wave, dict):
            ids.extend(wave_job_ids(wave))
    return list(dict.fromkeys(ids))


def forget_execution(
    execution_id: str,
    record: Dict[str, Any],
    table: Optional[Any] = None,
    job_ids: Iterable[str] = (),
) -> int:
    """Delete the execution's wait item and its jobs' map items (the
    jobs of ``record``'s waves and ``job_ids``; each only while it maps
    to this execution), by key. How many were deleted; never raises
    (TTL removes what is left)."""
    table = _table(table)
    deleted = 0
    jobs = list(dict.fromkeys([*_record_job_ids(record), *job_ids]))
    keys = [(wake_key(execution_id), None)]
    keys += [(job_key(job_id), execution_id) for job_id in jobs]
    for key, owner in keys:
        request: Dict[str, Any] = {
            "Key": {"executionId": key},
            "ReturnValues": "ALL_OLD",
        }
        if owner:
            request["ConditionExpression"] = "ownerExecutionId = :o"
            request["ExpressionAttributeValues"] = {":o": owner}
        try:
            if table.delete_item(**request).get("Attributes"):
                deleted += 1
        except (ClientError, BotoCoreError) as error:
            # A job now mapped to another execution is not ours to delete.
            if not (
                isinstance(error, ClientError) and condition_failed(error)
            ):
                logger.warning(
                    "lock item not deleted",
                    extra={"key": key, "error": _code(error)},
                )
    return deleted


def handle(event: Dict[str, Any]) -> Dict[str, Any]:
    """Dispatch one of :data:`ACTIONS` (the orchestration functions)."""
    if event.get("action") == STORE_ACTION:
        return store_progress_token(event)
    return handle_drs_event(event)
