"""Unique names: a claim item per (kind, lower-cased trimmed name).

The groups and plans tables have only their id as key, so a name is
claimed by an item of the same table keyed ``name#<kind>#<lower name>``
in the id attribute, carrying the owner's id in ``claimOwner``. The claim
is written in the same ``TransactWriteItems`` as the item (create: Put
claim with ``attribute_not_exists``; rename: Put new claim + Delete the
old one; delete: Delete item + claim), so two concurrent writes of one
name cannot both succeed. Claims carry no name or other attribute: every
scan or listing of these tables must skip them (``is_name_claim``).

The groups table also holds the launch-configuration audit of each
server (``audit#<groupId>#<serverId>``, data-management
``server_config_audit``, issue 20): bookkeeping under a reserved prefix
too, skipped by the same rule.
"""

from typing import Any, Dict, Iterable, List

CLAIM_PREFIX = "name#"
AUDIT_PREFIX = "audit#"
# Key prefixes of bookkeeping items (not resources) in the id attribute.
RESERVED_PREFIXES = (CLAIM_PREFIX, AUDIT_PREFIX)
OWNER_FIELD = "claimOwner"
CLAIM_KEYS = ("groupId", "planId")


def claim_key(kind: str, name: str) -> str:
    """The key value of the claim on ``name`` for items of ``kind``."""
    return f"{CLAIM_PREFIX}{kind}#{str(name).strip().lower()}"


def is_name_claim(item: Dict[str, Any]) -> bool:
    """True for claim items and the other bookkeeping items under a
    reserved prefix (listings must skip them)."""
    return any(
        str(item.get(key, "")).startswith(RESERVED_PREFIXES)
        for key in CLAIM_KEYS
    )


def without_claims(items: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """``items`` minus the claim items."""
    return [item for item in items if not is_name_claim(item)]


def claim_put(
    table_name: str, key: str, kind: str, name: str, owner: str
) -> Dict[str, Any]:
    """A transaction Put taking the claim on ``name`` for ``owner``; it
    fails when another item holds it (holding it already is fine)."""
    return {
        "Put": {
            "TableName": table_name,
            "Item": {key: claim_key(kind, name), OWNER_FIELD: owner},
            "ConditionExpression": "attribute_not_exists(#k) OR #o = :o",
            "ExpressionAttributeNames": {"#k": key, "#o": OWNER_FIELD},
            "ExpressionAttributeValues": {":o": owner},
        }
    }


def claim_delete(
    table_name: str, key: str, kind: str, name: str, owner: str
) -> Dict[str, Any]:
    """A transaction Delete releasing ``owner``'s claim on ``name`` (no
    effect when the claim is gone; fails when another item holds it)."""
    return {
        "Delete": {
            "TableName": table_name,
            "Key": {key: claim_key(kind, name)},
            "ConditionExpression": "attribute_not_exists(#k) OR #o = :o",
            "ExpressionAttributeNames": {"#k": key, "#o": OWNER_FIELD},
            "ExpressionAttributeValues": {":o": owner},
        }
    }


def claim_owner(table: Any, key: str, kind: str, name: str) -> Any:
    """The id holding the claim on ``name``, or None."""
    item = table.get_item(
        Key={key: claim_key(kind, name)}, ConsistentRead=True
    ).get("Item")
    return (item or {}).get(OWNER_FIELD)
