"""Each wave's planned servers, outside the execution item.

``execute_recovery_plan`` resolves each wave's servers once
(``shared.wave_servers``). The ids are kept in the
``EXECUTION_SERVERS_TABLE`` beside the per-server records, as "plan
parts" of at most ``PART_SIZE`` ids::

    {"executionId": E, "serverKey": "plan#0003#0000", "waveIndex": 3,
     "part": 0, "serverIds": [...], "groupServerIds"?: {group: [...]},
     "updatedTime": epoch}

and the execution item's ``waves[i]`` says how many parts it has
(``serverIdsParts``). Why: the item is read and updated on every poll
and every chunk start; with the ids inline a 4,000-server plan's item
was ~91 KB, each update billed (and, on the local cloud, copied) at that
size. The parts are written once and read only where the ids are needed
(the wave start, the server-conflict check, the answers that show them).

Readers call :func:`with_planned`: a copy of the record whose waves
carry ``serverIds`` (and ``groupServerIds``) again, as a record written
before this change held them inline (such a record is answered as is).
A recorded empty wave has one empty part: it recovers nothing, it is
not resolved again.
"""

from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

from boto3.dynamodb.conditions import Key

from shared import clock
from shared.tables import execution_servers_table, query_all
from shared.wave_servers import execution_server_ids

PLAN_PREFIX = "plan#"
# 1,000 ids of ~20 bytes: a part stays near 25 KB, far under 400 KB.
PART_SIZE = 1000
PARTS_FIELD = "serverIdsParts"
# The wave attributes that live in the parts, never in the item.
PLANNED_FIELDS = ("serverIds", "groupServerIds")

# wave index -> (its server ids, group -> its servers or None)
Planned = Dict[int, Tuple[List[str], Optional[Dict[str, List[str]]]]]


def _table(table: Optional[Any]) -> Any:
    return table if table is not None else execution_servers_table()


def plan_prefix(index: Optional[int] = None) -> str:
    """The ``serverKey`` prefix of wave ``index``'s parts (None: all)."""
    return PLAN_PREFIX if index is None else f"{PLAN_PREFIX}{int(index):04d}#"


def _parts(
    execution_id: str,
    index: int,
    ids: List[str],
    by_group: Optional[Dict[str, List[str]]],
) -> List[Dict[str, Any]]:
    """The items of one wave's ids (one, empty, for an empty wave)."""
    items = []
    for part, start in enumerate(range(0, max(len(ids), 1), PART_SIZE)):
        chunk = ids[start : start + PART_SIZE]  # noqa: E203
        item: Dict[str, Any] = {
            "executionId": execution_id,
            "serverKey": f"{plan_prefix(index)}{part:04d}",
            "waveIndex": int(index),
            "part": part,
            "serverIds": chunk,
            "updatedTime": clock.epoch(),
        }
        if by_group is not None:
            members = set(chunk)
            item["groupServerIds"] = {
                group: [s for s in servers if s in members]
                for group, servers in by_group.items()
            }
        items.append(item)
    return items


def part_count(servers: int) -> int:
    """How many parts hold a wave of ``servers`` ids (an empty wave has
    one, empty)."""
    return max(-(-int(servers) // PART_SIZE), 1)


def take_planned(record: Dict[str, Any]) -> Planned:
    """Remove the planned ids from the waves of a record about to be
    written, counting each wave's parts on it (``serverIdsParts``); what
    to store (waves naming no servers are left as they are)."""
    planned: Planned = {}
    for index, wave in enumerate(record.get("waves") or []):
        if wave.get("serverIds") is None:
            continue
        ids = [str(i) for i in wave.pop("serverIds")]
        planned[index] = (ids, wave.pop("groupServerIds", None))
        wave[PARTS_FIELD] = part_count(len(ids))
    return planned


def store_planned(
    execution_id: str, planned: Planned, table: Optional[Any] = None
) -> None:
    """Write the parts of each wave in ``planned`` (a rewrite of the same
    wave writes the same keys: idempotent)."""
    with _table(table).batch_writer(
        overwrite_by_pkeys=["executionId", "serverKey"]
    ) as batch:
        for index, (ids, by_group) in sorted(planned.items()):
            for item in _parts(execution_id, index, ids, by_group):
                batch.put_item(Item=item)


def _query(
    execution_id: str, index: Optional[int], table: Any
) -> List[Dict[str, Any]]:
    return query_all(
        table,
        KeyConditionExpression=Key("executionId").eq(execution_id)
        & Key("serverKey").begins_with(plan_prefix(index)),
        ConsistentRead=True,
    )


def planned_from(items: Iterable[Dict[str, Any]]) -> Planned:
    """Plan part items (of one execution) as wave index -> ids."""
    ordered = sorted(
        (i for i in items if str(i["serverKey"]).startswith(PLAN_PREFIX)),
        key=lambda i: i["serverKey"],
    )
    planned: Planned = {}
    for item in ordered:
        ids, by_group = planned.setdefault(
            int(item["waveIndex"]),
            ([], {} if item.get("groupServerIds") is not None else None),
        )
        ids.extend(str(i) for i in item.get("serverIds") or [])
        for group, servers in (item.get("groupServerIds") or {}).items():
            if by_group is not None:
                by_group.setdefault(str(group), []).extend(
                    str(s) for s in servers
                )
    return planned


def _stored(wave: Dict[str, Any]) -> bool:
    """The wave's ids are in parts (not inline, as older records)."""
    return wave.get("serverIds") is None and bool(wave.get(PARTS_FIELD))


def fill_planned(record: Dict[str, Any], planned: Planned) -> Dict:
    """A copy of ``record`` whose waves with parts carry their ids."""
    waves = []
    for index, wave in enumerate(record.get("waves") or []):
        if _stored(wave) and index in planned:
            ids, by_group = planned[index]
            wave = {**wave, "serverIds": list(ids)}
            if by_group is not None:
                wave["groupServerIds"] = by_group
        waves.append(wave)
    return {**record, "waves": waves}


def with_planned(
    record: Dict[str, Any],
    table: Optional[Any] = None,
    index: Optional[int] = None,
) -> Dict[str, Any]:
    """A copy of the execution ``record`` whose waves (``index``: only
    that wave) carry their planned ``serverIds`` again. No read when no
    wave keeps its ids in parts."""
    waves = record.get("waves") or []
    wanted = range(len(waves)) if index is None else [int(index)]
    if not any(0 <= i < len(waves) and _stored(waves[i]) for i in wanted):
        return record
    items = _query(record["executionId"], index, _table(table))
    return fill_planned(record, planned_from(items))


def planned_server_ids(
    record: Dict[str, Any], table: Optional[Any] = None
) -> Set[str]:
    """The source servers an execution uses (planned and recorded): what
    the server-conflict checks compare."""
    return execution_server_ids(with_planned(record, table))
