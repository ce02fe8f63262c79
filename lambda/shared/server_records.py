"""Per-server records of an execution, outside the execution item.

The execution item keeps each wave's summary (status, ``serverCount``,
``serverCounts`` per status, its jobs); what DRS says of each server
(status, phase, recovery instance, IP, launch time, error) lives in the
``EXECUTION_SERVERS_TABLE``, one item per server and wave::

    {"executionId": E, "serverKey": "w0003#s-...", "waveIndex": 3,
     "sourceServerId": "s-...", "status": "LAUNCHED", "phase"?,
     "recoveryInstanceId"?, "instanceId"?, "privateIp"?, "launchTime"?,
     "hostname"?, "error"?, "rank": 2, "updatedTime": epoch}

``waveIndex`` is the position of the wave in the record's ``waves`` (the
poll's index), zero-padded in ``serverKey`` so a query returns a wave's
servers together and the waves in order. A record only moves forward:
each write is conditional on the record's ``rank`` (the rank of its
status), so an older poll or a late settlement never turns a LAUNCHED or
FAILED server back into IN_PROGRESS. Readers get the seeds' server rows
(``sourceServerId, status, ...``) without the store's own attributes.
"""

from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any, Callable, Dict, Iterable, List, Optional

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from shared import clock
from shared.ddb_updates import condition_failed
from shared.errors import ValidationError
from shared.logging_setup import get_logger
from shared.page_tokens import decode_token as decode_any_token
from shared.page_tokens import encode_token
from shared.responses import to_jsonable
from shared.tables import execution_servers_table, query_all
from shared.wave_plan_store import fill_planned, planned_from

logger = get_logger("shared")

SORT_KEY = "serverKey"
# The store's own attributes, never shown as server fields.
STORE_FIELDS = ("executionId", SORT_KEY, "waveIndex", "rank", "updatedTime")
# The server fields a record holds (the seeds' ``servers`` rows).
SERVER_FIELDS = (
    "sourceServerId",
    "hostname",
    "status",
    "phase",
    "recoveryInstanceId",
    "instanceId",
    "privateIp",
    "launchTime",
    "jobId",
    "error",
    "errorCode",
)
# A server's DRS launch status, in the order it can only move forward.
RANKS = {
    "PENDING": 0,
    "IN_PROGRESS": 1,
    "LAUNCHED": 2,
    "FAILED": 2,
    "TERMINATED": 3,
}
MAX_PAGE = 1000
# Every record's ``serverKey`` starts so (``wave_prefix``).
RECORD_PREFIX = "w"
# Record writes of one poll run at once, at most this many (under
# botocore's pool of 10 connections per client).
WRITE_WORKERS = 8


def rank(status: Optional[str]) -> int:
    """How far a status is (unknown: 0)."""
    return RANKS.get(str(status or ""), 0)


def wave_prefix(index: int) -> str:
    """The ``serverKey`` prefix of wave ``index``."""
    return f"w{int(index):04d}#"


def server_key(index: int, source_server_id: str) -> str:
    return wave_prefix(index) + str(source_server_id)


def _table(table: Optional[Any]) -> Any:
    return table if table is not None else execution_servers_table()


def as_server(item: Dict[str, Any]) -> Dict[str, Any]:
    """A stored record as the seeds' server row."""
    return {
        k: v
        for k, v in item.items()
        if k not in STORE_FIELDS and v is not None
    }


def _request(
    execution_id: str,
    index: int,
    server: Dict[str, Any],
    old: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """The conditional ``UpdateItem`` of :func:`write_server` (the
    Table resource's arguments). With ``old`` (the record as read) only
    the fields that changed are set, on a record that must exist: a
    shorter expression costs DynamoDB less, and a poll of a big wave
    writes hundreds of records."""
    fields = {
        k: server[k]
        for k in SERVER_FIELDS
        if k in server and server[k] is not None
    }
    fields.setdefault("status", "PENDING")
    names = {"#rank": "rank", "#status": "status", "#key": SORT_KEY}
    values: Dict[str, Any] = {
        ":rank": rank(fields["status"]),
        ":now": clock.epoch(),
        ":status": fields["status"],
    }
    sets = ["updatedTime = :now"]
    forward = "#rank < :rank OR (#rank = :rank AND #status = :status)"
    if old is None:
        sets += ["#rank = :rank", "waveIndex = :index"]
        values[":index"] = int(index)
        condition = f"attribute_not_exists(#key) OR {forward}"
    else:
        fields = {k: v for k, v in fields.items() if old.get(k) != v}
        if "status" in fields:
            sets.append("#rank = :rank")
        condition = f"attribute_exists(#key) AND ({forward})"
    for position, (name, value) in enumerate(fields.items()):
        names[f"#f{position}"] = name
        values[f":f{position}"] = to_jsonable(value)
        sets.append(f"#f{position} = :f{position}")
    return {
        "Key": {
            "executionId": execution_id,
            SORT_KEY: server_key(index, server["sourceServerId"]),
        },
        "UpdateExpression": "SET " + ", ".join(sets),
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def _apply(
    update: Callable[..., Any],
    execution_id: str,
    index: int,
    server: Dict[str, Any],
    old: Optional[Dict[str, Any]] = None,
) -> bool:
    """Run the record's conditional update; False when refused. A
    refused change of a record thought to exist is tried once more in
    full: it may be absent (a row an older record held inline)."""
    try:
        update(**_request(execution_id, index, server, old))
    except ClientError as error:
        if not condition_failed(error):
            raise
        if old is not None:
            return _apply(update, execution_id, index, server)
        logger.debug(
            "server record already further",
            extra={
                "executionId": execution_id,
                "sourceServerId": server.get("sourceServerId"),
            },
        )
        return False
    return True


def write_server(
    execution_id: str,
    index: int,
    server: Dict[str, Any],
    table: Optional[Any] = None,
) -> bool:
    """Record ``server`` (a row with ``sourceServerId``) of wave
    ``index``. Conditional: the stored record is absent, of a lower rank,
    or of the same status (details added); a record already further is
    kept. Only the fields given (not None) are set, none is removed.
    False when the stored record was further."""
    return _apply(_table(table).update_item, execution_id, index, server)


def _client_update(table: Any) -> Optional[Callable[..., Any]]:
    """``update_item`` through the table's low-level client: thread-safe,
    unlike the Table resource, and taking the resource's arguments (the
    resource's type serialization is registered on its client); None
    when ``table`` has no client."""
    client = getattr(getattr(table, "meta", None), "client", None)
    name = getattr(table, "name", None)
    if client is None or not name:
        return None

    def update(**request: Any) -> Any:
        return client.update_item(TableName=name, **request)

    return update


def write_servers(
    execution_id: str,
    index: int,
    servers: Iterable[Dict[str, Any]],
    before: Optional[Iterable[Dict[str, Any]]] = None,
    table: Optional[Any] = None,
    workers: int = WRITE_WORKERS,
) -> int:
    """Record the servers of wave ``index`` that differ from ``before``
    (what was read; None: write them all), each with its own conditional
    update (:func:`write_server`), up to ``workers`` at a time. A record
    already further is kept and the others still written; any other
    error is raised once every write has ended. Returns how many were
    written."""
    known = {s.get("sourceServerId"): s for s in before or []}

    def old(server: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        return known.get(server.get("sourceServerId"))

    changed = [server for server in servers if not _same(old(server), server)]
    table = _table(table)
    update = _client_update(table) if len(changed) > 1 else None
    if update is None or workers <= 1:
        return sum(
            int(_apply(table.update_item, execution_id, index, s, old(s)))
            for s in changed
        )
    with ThreadPoolExecutor(max_workers=min(workers, len(changed))) as pool:
        futures = [
            pool.submit(
                _apply, update, execution_id, index, server, old(server)
            )
            for server in changed
        ]
        wait(futures)
    errors = [f.exception() for f in futures if f.exception() is not None]
    for error in errors:
        logger.warning("server record not written: %s", error)
    if errors:
        raise errors[0]
    return sum(int(f.result()) for f in futures)


def _same(old: Optional[Dict[str, Any]], new: Dict[str, Any]) -> bool:
    return old is not None and all(
        old.get(k) == new.get(k) for k in SERVER_FIELDS
    )


def put_servers(
    execution_id: str,
    index: int,
    servers: Iterable[Dict[str, Any]],
    table: Optional[Any] = None,
) -> None:
    """Batch-write records of wave ``index`` known not to exist yet (a
    wave's servers as it starts, PENDING): unconditional, so only for
    records no one else writes yet; later changes use
    :func:`write_server`."""
    with _table(table).batch_writer(
        overwrite_by_pkeys=["executionId", SORT_KEY]
    ) as batch:
        for server in servers:
            item = {
                k: to_jsonable(server[k])
                for k in SERVER_FIELDS
                if server.get(k) is not None
            }
            item.setdefault("status", "PENDING")
            item.update(
                executionId=execution_id,
                serverKey=server_key(index, server["sourceServerId"]),
                waveIndex=int(index),
                rank=rank(item["status"]),
                updatedTime=clock.epoch(),
            )
            batch.put_item(Item=item)


def _condition(execution_id: str, index: Optional[int]) -> Any:
    """The records of wave ``index`` (None: of every wave; the plan parts
    sharing the partition, ``shared.wave_plan_store``, are not records)."""
    prefix = wave_prefix(index) if index is not None else RECORD_PREFIX
    return Key("executionId").eq(execution_id) & Key(SORT_KEY).begins_with(
        prefix
    )


def wave_servers(
    execution_id: str, index: int, table: Optional[Any] = None
) -> List[Dict[str, Any]]:
    """Every server row of wave ``index`` (consistent read)."""
    items = query_all(
        _table(table),
        KeyConditionExpression=_condition(execution_id, index),
        ConsistentRead=True,
    )
    return [as_server(i) for i in items]


def execution_servers(
    execution_id: str, table: Optional[Any] = None
) -> Dict[int, List[Dict[str, Any]]]:
    """Every server row of the execution, by wave index."""
    items = query_all(
        _table(table),
        KeyConditionExpression=_condition(execution_id, None),
        ConsistentRead=True,
    )
    return _by_wave(items)


def _by_wave(items: Iterable[Dict[str, Any]]) -> Dict[int, List[Dict]]:
    by_wave: Dict[int, List[Dict[str, Any]]] = {}
    for item in items:
        if str(item[SORT_KEY]).startswith(RECORD_PREFIX):
            by_wave.setdefault(int(item["waveIndex"]), []).append(
                as_server(item)
            )
    return by_wave


def decode_token(token: Optional[str], execution_id: str) -> Optional[Dict]:
    """The key in a ``nextToken`` of this execution's records; a 400
    otherwise (a token of another execution or listing)."""
    value = decode_any_token(token)
    if value is None:
        return None
    if (
        value.get("executionId") != execution_id
        or not isinstance(value.get(SORT_KEY), str)
        or set(value) != {"executionId", SORT_KEY}
    ):
        raise ValidationError("nextToken is not valid", field="nextToken")
    return value


def servers_page(
    execution_id: str,
    index: Optional[int] = None,
    limit: int = 100,
    token: Optional[str] = None,
    table: Optional[Any] = None,
) -> Dict[str, Any]:
    """One page of server rows (of wave ``index``, or of every wave in
    wave order): ``{"servers": [...], "nextToken"?}``; each row carries
    ``waveIndex``. ``limit`` 1..1000."""
    if not 1 <= int(limit) <= MAX_PAGE:
        raise ValidationError(
            f"limit must be between 1 and {MAX_PAGE}", field="limit"
        )
    kwargs: Dict[str, Any] = {
        "KeyConditionExpression": _condition(execution_id, index),
        # One more than shown: a token only when more rows follow.
        "Limit": int(limit) + 1,
        "ConsistentRead": True,
    }
    start = decode_token(token, execution_id)
    if start:
        prefix = wave_prefix(index) if index is not None else RECORD_PREFIX
        if not start[SORT_KEY].startswith(prefix):
            raise ValidationError("nextToken is not valid", field="nextToken")
        kwargs["ExclusiveStartKey"] = start
    items = _table(table).query(**kwargs).get("Items", [])
    shown = items[: int(limit)]
    rows = [{**as_server(i), "waveIndex": int(i["waveIndex"])} for i in shown]
    result: Dict[str, Any] = {"servers": rows}
    if len(items) > len(shown):
        result["nextToken"] = page_token(execution_id, shown[-1][SORT_KEY])
    return result


def page_token(execution_id: str, last_key: str) -> str:
    """The ``nextToken`` of the rows after the record ``last_key`` (its
    ``serverKey``), as :func:`decode_token` reads it."""
    return encode_token({"executionId": execution_id, SORT_KEY: last_key})


def delete_execution_servers(
    execution_id: str, table: Optional[Any] = None
) -> int:
    """Delete every item of the execution in the table (its server
    records and its plan parts, batch); how many."""
    table = _table(table)
    keys = [
        {"executionId": i["executionId"], SORT_KEY: i[SORT_KEY]}
        for i in query_all(
            table,
            KeyConditionExpression=Key("executionId").eq(execution_id),
            ProjectionExpression="executionId, serverKey",
        )
    ]
    with table.batch_writer() as batch:
        for key in keys:
            batch.delete_item(Key=key)
    return len(keys)


def status_counts(servers: Iterable[Dict[str, Any]]) -> Dict[str, int]:
    """``status -> number of servers`` (a wave's summary)."""
    counts: Dict[str, int] = {}
    for server in servers:
        status = str(server.get("status") or "PENDING")
        counts[status] = counts.get(status, 0) + 1
    return counts


def last_launch_time(servers: Iterable[Dict[str, Any]]) -> Optional[str]:
    """The latest ``launchTime`` of the LAUNCHED servers (for the RTO)."""
    times = [
        str(s["launchTime"])
        for s in servers
        if s.get("status") == "LAUNCHED" and s.get("launchTime")
    ]
    return max(times) if times else None


def attach_servers(
    record: Dict[str, Any], table: Optional[Any] = None
) -> Dict[str, Any]:
    """A copy of the execution record whose ``waves[i].servers`` are the
    wave's server records (over any rows an older record held inline),
    in ``sourceServerId`` order (the records' order), and whose waves
    carry their planned ``serverIds`` (``shared.wave_plan_store``): one
    query of the execution's partition, for readers that show or act on
    every server."""
    items = query_all(
        _table(table),
        KeyConditionExpression=Key("executionId").eq(record["executionId"]),
        ConsistentRead=True,
    )
    stored = _by_wave(items)
    record = fill_planned(record, planned_from(items))
    waves = []
    for index, wave in enumerate(record.get("waves") or []):
        rows = merged_rows(wave, stored.get(index, []))
        ordered = sorted(rows, key=lambda s: s["sourceServerId"])
        waves.append({**wave, "servers": ordered})
    return {**record, "waves": waves}


def merged_rows(
    wave: Dict[str, Any], stored: Iterable[Dict[str, Any]]
) -> List[Dict[str, Any]]:
    """A wave's server rows: the records ``stored`` over any rows an
    older record held inline (``wave["servers"]``), as copies."""
    rows = {
        s.get("sourceServerId"): dict(s) for s in wave.get("servers") or []
    }
    for server in stored:
        rows[server["sourceServerId"]] = dict(server)
    return list(rows.values())


def summarize(wave: Dict[str, Any]) -> Dict[str, Any]:
    """What the execution item keeps of a wave whose ``servers`` are
    known: the wave without them, with ``serverCount``, ``serverCounts``
    (per status) and ``lastLaunchTime`` (when a server launched)."""
    summary = {k: v for k, v in wave.items() if k != "servers"}
    servers = wave.get("servers") or []
    if servers:
        summary["serverCount"] = max(
            len(servers),
            len(wave.get("serverIds") or []),
            int(wave.get("serverCount") or 0),
        )
        summary["serverCounts"] = status_counts(servers)
        launched = last_launch_time(servers)
        if launched:
            summary["lastLaunchTime"] = launched
    return summary


def record_waves(
    execution_id: str,
    waves: List[Dict[str, Any]],
    before: List[List[Dict[str, Any]]],
    table: Optional[Any] = None,
) -> List[Dict[str, Any]]:
    """Write each wave's ``servers`` that changed since ``before`` (per
    wave, what was read) and answer the waves' summaries."""
    for index, wave in enumerate(waves):
        previous = before[index] if index < len(before) else []
        write_servers(
            execution_id, index, wave.get("servers") or [], previous, table
        )
    return [summarize(wave) for wave in waves]
