"""Data access shared by the data-management operations.

Conditional writes make every change all-or-nothing: a create never
overwrites (``attribute_not_exists``), an update only lands on the version
it read (``VERSION_CONFLICT`` otherwise). Groups and plans also write
their name claim (``shared.name_claims``) in the same transaction, so
names stay unique under concurrent writes (``NAME_CONFLICT``).
"""

import uuid
from typing import Any, Dict, Iterable, List, Optional, Tuple

from botocore.exceptions import ClientError

from shared import clock
from shared.errors import (
    InvalidStateError,
    NameConflictError,
    NotFoundError,
    ValidationError,
    VersionConflictError,
)
from shared.name_claims import (
    claim_delete,
    claim_key,
    claim_owner,
    claim_put,
    is_name_claim,
    without_claims,
)
from shared.aws_errors import aws_errors
from shared.ddb_updates import condition_failed
from shared.tables import scan_all
from shared.target_accounts import current_account_id, in_account
from shared.validation import validate_account_id


def new_id() -> str:
    """A new resource id (UUID4)."""
    return str(uuid.uuid4())


def get_item(table: Any, key: str, value: str, kind: str) -> Dict[str, Any]:
    """The item of ``key=value``; 404 naming the ``kind`` otherwise."""
    item = table.get_item(Key={key: value}, ConsistentRead=True).get("Item")
    if not item or is_name_claim(item):
        raise NotFoundError(f"{kind} {value} not found", **{key: value})
    return item


def list_items(table: Any) -> List[Dict[str, Any]]:
    """Every item of a table (name claims skipped)."""
    return without_claims(scan_all(table, ConsistentRead=True))


def in_account_only(
    items: List[Dict[str, Any]], account_id: Optional[str]
) -> List[Dict[str, Any]]:
    """The items of one account (all without one); items stored without
    ``accountId`` are the hub's (the account the API runs in)."""
    if not account_id:
        return items
    validate_account_id(account_id)
    with aws_errors("STS"):
        hub = current_account_id()
    return [
        i for i in items if in_account(i.get("accountId"), account_id, hub)
    ]


def check_unique_name(
    items: Iterable[Dict[str, Any]],
    name: str,
    name_field: str,
    key: str,
    own_id: Optional[str] = None,
) -> None:
    """409 NAME_CONFLICT when another item has ``name`` (case-insensitive)."""
    lowered = name.strip().lower()
    for item in items:
        if item.get(key) == own_id:
            continue
        existing = str(item.get(name_field, "")).strip().lower()
        if existing == lowered:
            raise NameConflictError(
                f"{name_field} {name!r} is already used",
                field=name_field,
                **{key: item.get(key)},
            )


def check_version(body: Dict[str, Any], current: Dict[str, Any]) -> int:
    """The version the caller read; it must be the stored one."""
    given = body.get("version")
    if given is None:
        return int(current.get("version", 1))
    if isinstance(given, bool) or not isinstance(given, int):
        raise ValidationError("version must be an integer", field="version")
    if given != int(current.get("version", 1)):
        raise VersionConflictError(
            f"version {given} is stale; current version is "
            f"{int(current.get('version', 1))}",
            currentVersion=int(current.get("version", 1)),
        )
    return given


def stamp_new(item: Dict[str, Any], caller: str) -> Dict[str, Any]:
    """Bookkeeping of a new item (version 1, dates, createdBy)."""
    now = clock.epoch()
    item.update(
        {
            "createdDate": now,
            "lastModifiedDate": now,
            "createdBy": caller,
            "updatedBy": caller,
            "version": 1,
        }
    )
    return item


def stamp_update(
    item: Dict[str, Any], previous: Dict[str, Any], caller: str
) -> Dict[str, Any]:
    """Bookkeeping of a replaced item (next version, updatedBy)."""
    for kept in ("createdDate", "createdBy"):
        if kept in previous:
            item[kept] = previous[kept]
    item["lastModifiedDate"] = clock.epoch()
    item["updatedBy"] = caller
    item["version"] = int(previous.get("version", 1)) + 1
    return item


def _changed_elsewhere(key: str, value: Any) -> VersionConflictError:
    return VersionConflictError(
        f"{key} {value} was changed by someone else; read it again",
        **{key: value},
    )


def put_new(table: Any, item: Dict[str, Any], key: str) -> None:
    """Create ``item``; never overwrite an existing key."""
    try:
        table.put_item(
            Item=item, ConditionExpression=f"attribute_not_exists({key})"
        )
    except ClientError as error:
        if condition_failed(error):
            raise NameConflictError(
                f"{key} {item[key]} already exists", **{key: item[key]}
            ) from None
        raise


def put_versioned(
    table: Any, item: Dict[str, Any], key: str, expected_version: int
) -> None:
    """Replace ``item`` only if the stored version is still the expected."""
    try:
        table.put_item(
            Item=item,
            ConditionExpression="attribute_exists(#k) AND #v = :v",
            ExpressionAttributeNames={"#k": key, "#v": "version"},
            ExpressionAttributeValues={":v": expected_version},
        )
    except ClientError as error:
        if condition_failed(error):
            raise _changed_elsewhere(key, item[key]) from None
        raise


def replace_update(
    item: Dict[str, Any],
    previous: Dict[str, Any],
    key: str,
    keep: Iterable[str] = (),
) -> Dict[str, Any]:
    """UpdateItem arguments turning ``previous`` into ``item`` field by
    field: every field of ``item`` is set, every other field of
    ``previous`` removed, and the ``keep`` fields are left as stored
    (bookkeeping others write without a version, e.g. a group's
    ``launchConfigStatus``)."""
    skip = {key, *keep}
    names: Dict[str, str] = {}
    values: Dict[str, Any] = {}
    sets, removes = [], []
    for number, field in enumerate(sorted(set(item) - skip)):
        names[f"#a{number}"] = field
        values[f":a{number}"] = item[field]
        sets.append(f"#a{number} = :a{number}")
    for number, field in enumerate(sorted(set(previous) - skip - set(item))):
        names[f"#r{number}"] = field
        removes.append(f"#r{number}")
    expression = "SET " + ", ".join(sets)
    if removes:
        expression += " REMOVE " + ", ".join(removes)
    return {
        "Key": {key: item[key]},
        "UpdateExpression": expression,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def version_condition(
    update: Dict[str, Any], key: str, expected_version: int
) -> Dict[str, Any]:
    """``update`` made conditional on the item existing at a version."""
    update["ConditionExpression"] = "attribute_exists(#key) AND #ver = :ver"
    update["ExpressionAttributeNames"].update({"#key": key, "#ver": "version"})
    update["ExpressionAttributeValues"][":ver"] = expected_version
    return update


def update_versioned(
    table: Any,
    item: Dict[str, Any],
    previous: Dict[str, Any],
    key: str,
    keep: Iterable[str] = (),
) -> Dict[str, Any]:
    """Replace ``previous`` by ``item`` (``keep`` fields untouched) only
    if the stored version is still ``previous``'s; the stored result."""
    update = version_condition(
        replace_update(item, previous, key, keep),
        key,
        int(previous.get("version", 1)),
    )
    try:
        return table.update_item(ReturnValues="ALL_NEW", **update)[
            "Attributes"
        ]
    except ClientError as error:
        if condition_failed(error):
            raise _changed_elsewhere(key, item[key]) from None
        raise


def delete_versioned(
    table: Any, key: str, value: str, expected_version: Optional[int]
) -> None:
    """Delete an item; conditional on its version when one is known."""
    kwargs: Dict[str, Any] = {"Key": {key: value}}
    if expected_version is not None:
        kwargs.update(
            ConditionExpression="#v = :v",
            ExpressionAttributeNames={"#v": "version"},
            ExpressionAttributeValues={":v": expected_version},
        )
    try:
        table.delete_item(**kwargs)
    except ClientError as error:
        if condition_failed(error):
            raise VersionConflictError(
                f"{key} {value} was changed by someone else",
                **{key: value},
            ) from None
        raise


def strip_fields(item: Dict[str, Any], fields: Iterable[str]) -> Dict:
    """``item`` without internal ``fields`` (what the API answers)."""
    hidden = set(fields)
    return {k: v for k, v in item.items() if k not in hidden}


def delete_unless_used(
    table: Any,
    key: str,
    current: Dict[str, Any],
    users: List[Dict[str, Any]],
    users_field: str,
    what: str,
    claim: Optional[Tuple[str, str]] = None,
) -> Dict[str, Any]:
    """Delete ``current`` unless something uses it (409 INVALID_STATE
    naming the users, e.g. the plans that use a group); with ``claim``
    (kind, name field) its name claim goes in the same transaction."""
    item_id = current[key]
    if users:
        names = ", ".join(str(u.get(users_field)) for u in users)
        raise InvalidStateError(
            f"{what} is used by: {names}", **{key: item_id, "usedBy": users}
        )
    if claim is None:
        delete_versioned(table, key, item_id, int(current.get("version", 1)))
    else:
        delete_claimed(table, current, key, *claim)
    return {key: item_id, "deleted": True}


def _transact(
    table: Any,
    ops: List[Dict[str, Any]],
    item: Dict[str, Any],
    key: str,
    claim: Optional[Tuple[str, str]] = None,
) -> None:
    """Write ``ops`` in one transaction. With ``claim`` (kind, name
    field) ``ops[0]`` is the claim Put: its failure is NAME_CONFLICT
    naming the holder; any other failure VERSION_CONFLICT."""
    try:
        table.meta.client.transact_write_items(TransactItems=ops)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code != "TransactionCanceledException":
            raise
        reasons = error.response.get("CancellationReasons") or [{}]
        if claim and reasons[0].get("Code") == "ConditionalCheckFailed":
            raise _name_taken(table, key, item, *claim) from None
        raise _changed_elsewhere(key, item[key]) from None


def _name_taken(
    table: Any, key: str, item: Dict[str, Any], kind: str, field: str
) -> NameConflictError:
    owner = claim_owner(table, key, kind, item[field])
    details: Dict[str, Any] = {"field": field}
    if owner:
        details[key] = owner
    return NameConflictError(
        f"{field} {item[field]!r} is already used", **details
    )


def claim_ops(
    table: Any,
    item: Dict[str, Any],
    previous: Optional[Dict[str, Any]],
    key: str,
    kind: str,
    field: str,
) -> List[Dict[str, Any]]:
    """Transaction items claiming ``item``'s name (first) and, on a
    rename, releasing the old name's claim when ``item`` holds it (an
    item stored before claims existed holds none: it gets one here)."""
    ops = [claim_put(table.name, key, kind, item[field], item[key])]
    old = (previous or {}).get(field)
    if (
        old is not None
        and claim_key(kind, old) != claim_key(kind, item[field])
        and claim_owner(table, key, kind, old) == item[key]
    ):
        ops.append(claim_delete(table.name, key, kind, old, item[key]))
    return ops


def create_claimed(
    table: Any, item: Dict[str, Any], key: str, kind: str, field: str
) -> None:
    """Create ``item`` and the claim on its name, atomically (409
    NAME_CONFLICT when another item holds the name)."""
    put = {
        "TableName": table.name,
        "Item": item,
        "ConditionExpression": f"attribute_not_exists({key})",
    }
    ops = claim_ops(table, item, None, key, kind, field) + [{"Put": put}]
    _transact(table, ops, item, key, (kind, field))


def update_claimed(
    table: Any,
    item: Dict[str, Any],
    previous: Dict[str, Any],
    key: str,
    claim: Tuple[str, str],
    keep: Iterable[str] = (),
) -> Dict[str, Any]:
    """``update_versioned`` moving the name claim (kind, name field) in
    the same transaction; the stored result."""
    update = version_condition(
        replace_update(item, previous, key, keep),
        key,
        int(previous.get("version", 1)),
    )
    ops = claim_ops(table, item, previous, key, *claim)
    ops.append({"Update": dict(update, TableName=table.name)})
    _transact(table, ops, item, key, claim)
    return get_item(table, key, item[key], claim[0])


def delete_claimed(
    table: Any, current: Dict[str, Any], key: str, kind: str, field: str
) -> None:
    """Delete ``current`` (at its version) and release its name claim."""
    item_id = current[key]
    ops: List[Dict[str, Any]] = [
        {
            "Delete": {
                "TableName": table.name,
                "Key": {key: item_id},
                "ConditionExpression": "#v = :v",
                "ExpressionAttributeNames": {"#v": "version"},
                "ExpressionAttributeValues": {
                    ":v": int(current.get("version", 1))
                },
            }
        }
    ]
    name = current.get(field)
    if name is not None and claim_owner(table, key, kind, name) == item_id:
        ops.append(claim_delete(table.name, key, kind, name, item_id))
    _transact(table, ops, current, key)
