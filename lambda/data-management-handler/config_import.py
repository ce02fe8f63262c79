"""Import a configuration manifest (``shared.config_manifest``).

Everything is validated first, with the same rules as create/update (names,
server conflicts, DRS, EC2, waves); a ``dryRun`` stops there and reports
``create`` / ``update`` / ``skip`` per item. A real import is all-or-nothing:
DynamoDB transactions of up to 100 conditional puts; if a later chunk
fails, the chunks already written are rolled back, each undo conditional
on the version the import wrote (a change made since is kept and
reported), a failed undo not stopping the others. Each change carries its
name claim (``shared.name_claims``) in its transaction; the rollback
releases the claims it took and re-takes a renamed item's old name.

Matching: a manifest group (plan) updates the stored one with the same id,
else the one with the same name (case-insensitive); otherwise it is
created. Plan waves referring to a manifest group id are re-pointed at the
group it matched or created.
"""

from typing import Any, Callable, Dict, List, Optional, Tuple

from botocore.exceptions import BotoCoreError, ClientError

from data_routes import router
from dm_store import (
    claim_ops,
    list_items,
    new_id,
    replace_update,
    stamp_new,
    stamp_update,
    version_condition,
)
from group_validation import validate_group_shape
from plan_validation import STORED_CONSOLE_FIELDS, validate_plan_shape
from protection_groups import CLAIM as GROUP_CLAIM
from protection_groups import KEPT_FIELDS, prepare_group
from recovery_plans import CLAIM as PLAN_CLAIM
from recovery_plans import SUBSCRIPTION as PLAN_SUBSCRIPTION
from recovery_plans import group_lookup, prepare_plan, refuse_if_running
from shared.api import Request
from shared.config_manifest import export_group, export_plan, validate_manifest
from shared.console_inputs import import_input
from shared.console_shapes import import_answer
from shared.ddb_updates import condition_failed
from shared.errors import DomainError, ValidationError, VersionConflictError
from shared.logging_setup import get_logger
from shared.name_claims import claim_delete, claim_key, claim_put
from shared.responses import to_jsonable
from shared.tables import protection_groups_table, recovery_plans_table
from shared.validation import check_text, reject_unknown, validate_bool

logger = get_logger("config-import")

TRANSACTION_LIMIT = 100
MAX_ID_LENGTH = 128
CREATE, UPDATE, SKIP = "create", "update", "skip"
# Name claims (shared.name_claims) per table key: kind, name field.
CLAIMS = {"groupId": GROUP_CLAIM, "planId": PLAN_CLAIM}

Change = Dict[str, Any]


def _check_ids(manifest: Dict[str, Any]) -> None:
    """The manifest's ``groupId`` / ``planId``: text, when given (they are
    matched against stored ids; an object there is a 400, not a crash)."""
    for items, key in (
        ("protectionGroups", "groupId"),
        ("recoveryPlans", "planId"),
    ):
        for index, raw in enumerate(manifest.get(items) or []):
            value = raw.get(key)
            if value is None:
                continue
            field = f"{items}[{index}].{key}"
            if not isinstance(value, str) or not value.strip():
                raise ValidationError(
                    f"{field} must be a non-empty string", field=field
                )
            check_text(value, field, MAX_ID_LENGTH)


def _match(
    item: Dict[str, Any], stored: List[Dict[str, Any]], key: str, name: str
) -> Optional[Dict[str, Any]]:
    by_id = {s[key]: s for s in stored}
    if item.get(key) in by_id:
        return by_id[item[key]]
    wanted = str(item.get(name, "")).strip().lower()
    for existing in stored:
        if str(existing.get(name, "")).strip().lower() == wanted:
            return existing
    return None


def _same(existing: Dict[str, Any], shaped: Dict[str, Any], export) -> bool:
    current = to_jsonable(export(existing))
    wanted = to_jsonable(export(shaped))
    for values in (current, wanted):
        values.pop("groupId", None)
        values.pop("planId", None)
    return current == wanted


def _guard(where: str, fn: Callable[[], Any]) -> Any:
    """Run a validation step; errors name the manifest item."""
    try:
        return fn()
    except DomainError as error:
        field = error.details.get("field")
        error.details["item"] = where
        if field:
            error.details["field"] = f"{where}.{field}"
        error.message = f"{where}: {error.message}"
        error.args = (error.message,)
        raise


def _plan_groups(
    manifest: Dict[str, Any], caller: str
) -> Tuple[List[Change], Dict[str, str], Dict[str, Dict[str, Any]]]:
    stored = list_items(protection_groups_table())
    pending = list(stored)
    changes: List[Change] = []
    id_map: Dict[str, str] = {}
    for index, raw in enumerate(manifest.get("protectionGroups") or []):
        where = f"protectionGroups[{index}]"
        body = {k: v for k, v in raw.items() if k != "groupId"}
        shaped = _guard(where, lambda: validate_group_shape(body))
        existing = _match(raw, stored, "groupId", "groupName")
        group_id = existing["groupId"] if existing else new_id()
        others = [g for g in pending if g["groupId"] != group_id]
        _guard(where, lambda: prepare_group(shaped, others, group_id))
        item = {"groupId": group_id, **shaped}
        pending = others + [item]
        if raw.get("groupId"):
            id_map[str(raw["groupId"])] = group_id
        changes.append(_change(where, item, existing, export_group, caller))
    return changes, id_map, {g["groupId"]: g for g in pending}


def _change(
    where: str,
    item: Dict[str, Any],
    existing: Optional[Dict[str, Any]],
    export,
    caller: str,
) -> Change:
    if existing is None:
        return {
            "where": where,
            "action": CREATE,
            "item": stamp_new(item, caller),
        }
    if _same(existing, item, export):
        return {"where": where, "action": SKIP, "item": existing}
    for kept in KEPT_FIELDS:
        if kept in existing:
            item[kept] = existing[kept]
    expected = int(existing.get("version", 1))
    stamp_update(item, existing, caller)
    return {
        "where": where,
        "action": UPDATE,
        "item": item,
        "previous": existing,
        "expectedVersion": expected,
    }


def _mapped_wave(
    wave: Dict[str, Any], id_map: Dict[str, str]
) -> Dict[str, Any]:
    """A manifest wave naming the groups as imported (ids of the
    manifest mapped to the stored groups matched or created)."""
    mapped = dict(wave)
    group_id = wave.get("protectionGroupId")
    mapped["protectionGroupId"] = id_map.get(str(group_id), group_id)
    if isinstance(wave.get("protectionGroupIds"), list):
        mapped["protectionGroupIds"] = [
            id_map.get(str(g), g) for g in wave["protectionGroupIds"]
        ]
    return mapped


def _plan_plans(
    manifest: Dict[str, Any],
    caller: str,
    id_map: Dict[str, str],
    groups: Dict[str, Dict[str, Any]],
) -> List[Change]:
    stored = list_items(recovery_plans_table())
    pending = list(stored)
    stored_lookup = group_lookup()

    def lookup(group_id: str) -> Optional[Dict[str, Any]]:
        return groups.get(group_id) or stored_lookup(group_id)

    changes: List[Change] = []
    for index, raw in enumerate(manifest.get("recoveryPlans") or []):
        where = f"recoveryPlans[{index}]"
        body = {k: v for k, v in raw.items() if k not in ("planId",)}
        body.pop("accountId", None)
        body["waves"] = [
            _mapped_wave(wave, id_map) for wave in raw.get("waves") or []
        ]
        shaped = _guard(where, lambda: validate_plan_shape(body))
        existing = _match(raw, stored, "planId", "planName")
        plan_id = existing["planId"] if existing else new_id()
        others = [p for p in pending if p["planId"] != plan_id]
        _guard(where, lambda: prepare_plan(shaped, others, plan_id, lookup))
        item = {"planId": plan_id, **shaped}
        # What the manifest does not carry (the console's role and
        # email, the email's SNS subscription) stays as stored.
        for kept in STORED_CONSOLE_FIELDS + (PLAN_SUBSCRIPTION,):
            if existing and kept in existing and kept not in item:
                item[kept] = existing[kept]
        pending = others + [item]
        change = _change(where, item, existing, export_plan, caller)
        if change["action"] == UPDATE:
            _guard(where, lambda: refuse_if_running(plan_id))
        changes.append(change)
    return changes


def _ops(table: Any, change: Change, key: str) -> List[Dict[str, Any]]:
    """The transaction items of a change: its name claim (and the old
    name's release on a rename), then the item's conditional write."""
    item = change["item"]
    previous = change.get("previous")
    ops = claim_ops(table, item, previous, key, *CLAIMS[key])
    if change["action"] == CREATE:
        put = {
            "TableName": table.name,
            "Item": item,
            "ConditionExpression": f"attribute_not_exists({key})",
        }
        return ops + [{"Put": put}]
    # Field-wise: a launchConfigStatus recorded since the read is kept.
    update = replace_update(item, previous, key, KEPT_FIELDS)
    version_condition(update, key, change["expectedVersion"])
    return ops + [{"Update": dict(update, TableName=table.name)}]


def _chunks(
    ops: List[Tuple[Any, Change, str]],
) -> List[List[Tuple[Any, Change, str, List[Dict[str, Any]]]]]:
    """The changes in transactions of at most ``TRANSACTION_LIMIT``
    items, a change's items never split."""
    chunks: List[List[Tuple[Any, Change, str, List[Dict]]]] = [[]]
    size = 0
    for table, change, key in ops:
        items = _ops(table, change, key)
        if chunks[-1] and size + len(items) > TRANSACTION_LIMIT:
            chunks.append([])
            size = 0
        chunks[-1].append((table, change, key, items))
        size += len(items)
    return [chunk for chunk in chunks if chunk]


def _plain(op: Dict[str, Any]) -> Dict[str, Any]:
    """A transaction item's arguments for the single-item call."""
    (body,) = op.values()
    return {k: v for k, v in body.items() if k != "TableName"}


def _undo_claims(table: Any, change: Change, key: str) -> None:
    """Release the claim the change took; on a rename take the old name
    back (fails when someone took it since)."""
    kind, field = CLAIMS[key]
    item = change["item"]
    previous = change.get("previous") or {}
    new, old = item[field], previous.get(field)
    if old is not None and claim_key(kind, old) == claim_key(kind, new):
        return
    release = claim_delete(table.name, key, kind, new, item[key])
    table.delete_item(**_plain(release))
    if old is not None:
        take = claim_put(table.name, key, kind, old, item[key])
        table.put_item(**_plain(take))


def _undo(table: Any, change: Change, key: str) -> None:
    """Undo one written change, only if the item is still as the import
    wrote it (its version); a ConditionalCheckFailed otherwise."""
    item = change["item"]
    if change["action"] == CREATE:
        # Gone already is as good as undone.
        table.delete_item(
            Key={key: item[key]},
            ConditionExpression="attribute_not_exists(#k) OR #v = :v",
            ExpressionAttributeNames={"#k": key, "#v": "version"},
            ExpressionAttributeValues={":v": item["version"]},
        )
    else:
        restore = replace_update(change["previous"], item, key, KEPT_FIELDS)
        table.update_item(**version_condition(restore, key, item["version"]))
    _undo_claims(table, change, key)


def _roll_back(written: List[Tuple[Any, Change, str]]) -> List[Dict]:
    """Undo every written change, newest first; the ones not undone.

    One failed undo does not stop the others. An item changed by someone
    else since the import wrote it keeps their change (``CHANGED_SINCE``).
    """
    failures: List[Dict[str, Any]] = []
    for table, change, key in reversed(written):
        try:
            _undo(table, change, key)
        except (ClientError, BotoCoreError) as error:
            changed = isinstance(error, ClientError) and condition_failed(
                error
            )
            failures.append(
                {
                    key: change["item"][key],
                    "item": change["where"],
                    "action": change["action"],
                    "reason": "CHANGED_SINCE" if changed else "UNDO_FAILED",
                    "detail": str(error),
                }
            )
    if failures:
        logger.error("import rollback incomplete", extra={"left": failures})
    return failures


def _rollback_note(failures: List[Dict[str, Any]]) -> str:
    if not failures:
        return "nothing was imported"
    return (
        f"the rollback left {len(failures)} item(s) as imported or as "
        "changed since (see rollbackFailures)"
    )


def write_changes(
    group_changes: List[Change], plan_changes: List[Change]
) -> None:
    """Write every change in transactions; roll back on a failed chunk."""
    groups, plans = protection_groups_table(), recovery_plans_table()
    ops = [(groups, c, "groupId") for c in group_changes] + [
        (plans, c, "planId") for c in plan_changes
    ]
    ops = [op for op in ops if op[1]["action"] != SKIP]
    client = groups.meta.client
    written: List[Tuple[Any, Change, str]] = []
    for chunk in _chunks(ops):
        try:
            client.transact_write_items(
                TransactItems=[op for *_, items in chunk for op in items]
            )
        except ClientError as error:
            logger.warning(
                "import chunk failed; rolling back",
                extra={"written": len(written), "error": str(error)},
            )
            failures = _roll_back(written)
            extra = {"rollbackFailures": failures} if failures else {}
            code = error.response.get("Error", {}).get("Code")
            if code == "TransactionCanceledException":
                raise VersionConflictError(
                    "configuration changed during the import; "
                    f"{_rollback_note(failures)}, try again",
                    **extra,
                ) from None
            if failures:
                raise DomainError(
                    f"import failed ({code}); {_rollback_note(failures)}",
                    **extra,
                ) from error
            raise
        written.extend((t, c, k) for t, c, k, _ in chunk)


def _report(changes: List[Change], key: str, name: str) -> List[Dict]:
    return [
        {
            key: c["item"][key],
            name: c["item"][name],
            "action": c["action"],
        }
        for c in changes
    ]


def import_manifest(body: Dict[str, Any], caller: str) -> Dict[str, Any]:
    """Validate a manifest, then (unless ``dryRun``) write it all."""
    reject_unknown(body, ("manifest", "dryRun"))
    dry_run = validate_bool(body.get("dryRun", False), "dryRun")
    manifest = validate_manifest(body.get("manifest"))
    _check_ids(manifest)
    group_changes, id_map, groups = _plan_groups(manifest, caller)
    plan_changes = _plan_plans(manifest, caller, id_map, groups)
    if not dry_run:
        write_changes(group_changes, plan_changes)
    every = group_changes + plan_changes
    summary = {
        action: sum(1 for c in every if c["action"] == action)
        for action in (CREATE, UPDATE, SKIP)
    }
    return {
        "dryRun": dry_run,
        "imported": not dry_run,
        "summary": summary,
        "protectionGroups": _report(group_changes, "groupId", "groupName"),
        "recoveryPlans": _report(plan_changes, "planId", "planName"),
    }


@router.operation("import_configuration")
def import_configuration(request: Request) -> Dict[str, Any]:
    """POST /config/import: ``{"manifest": {...}, "dryRun": bool}``, the
    console's ``{"config": {...}, "dryRun": bool}`` or the export document
    itself (``shared.console_inputs.import_input``); the answer adds the
    console's fields (``shared.console_shapes.import_answer``)."""
    result = import_manifest(import_input(request.body), request.caller.name)
    correlation = router.logger.get_correlation_id() or new_id()
    return import_answer(result, str(correlation))
