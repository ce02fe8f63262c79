"""Who changed a server's launch configuration, and what (issue 20).

Every change of a per-server entry (``PUT`` and ``DELETE
.../servers/{serverId}/launch-config``, ``POST .../bulk-launch-config``)
appends an entry to that server's audit, after the group was written::

    {"timestamp": ISO-8601 UTC, "user": <the caller's identity: the
     authorizer's claims, never a body value>, "action": UPDATE |
     RESET_TO_DEFAULTS | BULK_UPDATE, "protectionGroupId", "serverId",
     "groupVersion", "changes": [{"field", "oldValue", "newValue"}]}

Storage: one item per server in the protection groups table, keyed
``audit#<groupId>#<serverId>`` (a reserved prefix every listing skips,
``shared.name_claims``), read with one GetItem (no scan), so the group
item itself never grows. It keeps the last ``MAX_ENTRIES`` entries, fewer
when they would pass ``MAX_ITEM_BYTES`` (far below DynamoDB's 400 KB);
each value is cut to ``MAX_VALUE_CHARS``. Writes are conditional on the
item's ``seq`` (two concurrent changes both land). The change is stored
before its record: a failed record is logged with the whole entry, the
change stands. A deleted group's audit items stay (the trail outlives
the group; a new group gets a new id).
"""

import json
from datetime import datetime, time, timezone
from typing import Any, Dict, List, Optional, Tuple

from botocore.exceptions import BotoCoreError, ClientError

from shared import clock
from shared.ddb_updates import condition_failed
from shared.errors import ValidationError
from shared.logging_setup import get_logger
from shared.name_claims import AUDIT_PREFIX
from shared.responses import to_jsonable

logger = get_logger("server-config-audit")

MAX_ENTRIES = 100
MAX_ITEM_BYTES = 64 * 1024
MAX_VALUE_CHARS = 1024
WRITE_ATTEMPTS = 5
UPDATE, RESET, BULK = "UPDATE", "RESET_TO_DEFAULTS", "BULK_UPDATE"
KEY = "groupId"

Entry = Dict[str, Any]


def audit_key(group_id: str, server_id: str) -> str:
    """The key value of one server's audit item."""
    return f"{AUDIT_PREFIX}{group_id}#{server_id}"


def _text(value: Any) -> Optional[str]:
    if value is None:
        return None
    if not isinstance(value, str):
        value = json.dumps(to_jsonable(value), sort_keys=True)
    return value[:MAX_VALUE_CHARS]


def _flat(entry: Optional[Entry]) -> Dict[str, Any]:
    """An override entry's fields, objects one level down
    (``launchTemplate.subnetId``); ``useGroupDefaults`` defaults true."""
    flat: Dict[str, Any] = {"useGroupDefaults": True}
    for key, value in (entry or {}).items():
        if key == "sourceServerId":
            continue
        if isinstance(value, dict):
            for inner, item in value.items():
                flat[f"{key}.{inner}"] = item
        else:
            flat[key] = value
    return flat


def changes_between(old: Optional[Entry], new: Optional[Entry]) -> List:
    """``[{field, oldValue, newValue}]`` from one override entry (None:
    none, the group defaults) to another, by field name."""
    before, after = _flat(old), _flat(new)
    changes = []
    for field in sorted(set(before) | set(after)):
        was, now = to_jsonable(before.get(field)), to_jsonable(
            after.get(field)
        )
        if was != now:
            changes.append(
                {
                    "field": field,
                    "oldValue": _text(was),
                    "newValue": _text(now),
                }
            )
    return changes


def _bounded(entries: List[Entry]) -> List[Entry]:
    """The newest entries within the count and size bounds."""
    kept = entries[-MAX_ENTRIES:]
    while (
        len(kept) > 1 and len(json.dumps(to_jsonable(kept))) > MAX_ITEM_BYTES
    ):
        kept = kept[1:]
    return kept


def _append(table: Any, key: str, entry: Entry) -> None:
    for _ in range(WRITE_ATTEMPTS):
        stored = table.get_item(Key={KEY: key}, ConsistentRead=True)
        item = stored.get("Item") or {}
        seq = int(item.get("seq", 0))
        entries = _bounded(list(item.get("entries") or []) + [entry])
        try:
            table.put_item(
                Item={KEY: key, "seq": seq + 1, "entries": entries},
                ConditionExpression="attribute_not_exists(#k) OR #s = :s",
                ExpressionAttributeNames={"#k": KEY, "#s": "seq"},
                ExpressionAttributeValues={":s": seq},
            )
            return
        except ClientError as error:
            if not condition_failed(error):
                raise
    raise RuntimeError(f"{key}: {WRITE_ATTEMPTS} concurrent writes won")


def record_changes(
    table: Any,
    group: Dict[str, Any],
    changed: List[Tuple[str, Optional[Entry], Optional[Entry]]],
    action: str,
    user: str,
) -> None:
    """Append an entry per ``(serverId, old entry, new entry)`` whose
    fields differ; ``group`` is the group as stored by the change."""
    for server_id, old, new in changed:
        changes = changes_between(old, new)
        if not changes:
            continue
        entry = {
            "timestamp": clock.iso_now(),
            "user": user,
            "action": action,
            "protectionGroupId": group[KEY],
            "serverId": server_id,
            "groupVersion": int(group.get("version", 1)),
            "changes": changes,
        }
        try:
            _append(table, audit_key(group[KEY], server_id), entry)
        except (ClientError, BotoCoreError, RuntimeError) as error:
            logger.error(
                "launch-config audit not recorded",
                extra={"entry": entry, "error": str(error)},
            )


def _moment(value: Any, field: str, end: bool) -> Optional[datetime]:
    """An ISO date or date-time (UTC when naive); a date alone is the
    start of that day (``startDate``) or its end (``endDate``)."""
    if value in (None, ""):
        return None
    text = str(value).strip().replace("Z", "+00:00")
    try:
        if len(text) == 10:
            day = datetime.fromisoformat(text).date()
            moment = datetime.combine(day, time.max if end else time.min)
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"{field} must be an ISO-8601 date or date-time", field=field
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def audit_entries(
    table: Any,
    group_id: str,
    server_id: str,
    start: Any = None,
    end: Any = None,
) -> Tuple[bool, List[Entry]]:
    """Whether the server has an audit, and its entries between
    ``start`` and ``end`` (inclusive), oldest first."""
    since = _moment(start, "startDate", end=False)
    until = _moment(end, "endDate", end=True)
    stored = table.get_item(
        Key={KEY: audit_key(group_id, server_id)}, ConsistentRead=True
    ).get("Item")
    entries = []
    for entry in (stored or {}).get("entries") or []:
        moment = _moment(entry["timestamp"], "timestamp", end=False)
        if since and moment < since or until and moment > until:
            continue
        entries.append(to_jsonable(entry))
    return stored is not None, entries
