"""Protection groups: create, read, list, update, delete, resolve tags."""

from typing import Any, Dict, List, Optional

import drs_lookup
from crud_routes import register_crud, sorted_by
from data_routes import router
from dm_store import (
    check_unique_name,
    in_account_only,
    check_version,
    create_claimed,
    delete_unless_used,
    get_item,
    list_items,
    new_id,
    stamp_new,
    stamp_update,
    strip_fields,
    update_claimed,
)
from group_validation import (
    GROUP_FIELDS,
    validate_against_ec2,
    validate_group_shape,
)
from plan_validation import check_groups_and_sizes
from shared.api import Request
from shared.aws_errors import aws_errors
from shared.clock import epoch
from shared.console_inputs import resolve_tags_input
from shared.console_shapes import group_view, resolve_answer
from shared.errors import DomainError, ServerConflictError
from shared.name_claims import is_name_claim
from shared.tables import protection_groups_table, recovery_plans_table
from shared.validation import (
    reject_unknown,
    validate_account_id,
    validate_region,
    validate_tags,
)
from shared.wave_servers import wave_group_ids

KEY = "groupId"
# Name claims (shared.name_claims): kind and name field.
CLAIM = ("group", "groupName")
INTERNAL_FIELDS = ("groupNameLower",)
# Written by launch-config applies without the version: never replaced.
KEPT_FIELDS = ("launchConfigStatus",)


def public_group(item: Dict[str, Any]) -> Dict[str, Any]:
    """A stored group as the API answers it (with the console's id)."""
    return group_view(strip_fields(item, INTERNAL_FIELDS))


def get_group(group_id: str, table: Optional[Any] = None) -> Dict[str, Any]:
    """The stored group; 404 when unknown."""
    table = table if table is not None else protection_groups_table()
    return get_item(table, KEY, group_id, "protection group")


def same_place(group: Dict[str, Any], other: Dict[str, Any]) -> bool:
    """Whether two groups are in one account and region (one DRS)."""
    return group.get("region") == other.get("region") and (
        group.get("accountId") or ""
    ) == (other.get("accountId") or "")


def check_server_conflicts(
    group: Dict[str, Any],
    others: List[Dict[str, Any]],
    servers: Optional[List[Dict[str, Any]]] = None,
) -> None:
    """409 SERVER_CONFLICT when a server already belongs to another group.

    Members are explicit ids or, for tag groups, what the tags match in
    ``servers`` (the DRS listing of ``group``'s account and region; a tag
    group elsewhere cannot hold a server of that region).
    """
    listing = servers or []
    wanted = set(drs_lookup.members_in(group, listing))
    for other in others:
        place = listing if same_place(group, other) else []
        taken = sorted(wanted & set(drs_lookup.members_in(other, place)))
        if taken:
            raise ServerConflictError(
                f"server(s) {', '.join(taken)} already belong to protection "
                f"group {other.get('groupName')!r}",
                conflictingGroupId=other.get(KEY),
                conflictingGroupName=other.get("groupName"),
                serverIds=taken,
            )


def _check_drs(
    group: Dict[str, Any], others: List[Dict[str, Any]], drs: Any
) -> None:
    """Listed servers exist in DRS; no server is in two groups.

    One listing of the account/region resolves every tag group there.
    """
    region, account = group["region"], group.get("accountId")
    ids = list(group.get("sourceServerIds") or [])
    extra = [
        s["sourceServerId"]
        for s in group.get("servers") or []
        if s["sourceServerId"] not in ids
    ]
    tag_groups = [
        g
        for g in [group] + others
        if not g.get("sourceServerIds")
        and g.get("serverSelectionTags")
        and same_place(group, g)
    ]
    drs = drs or drs_lookup.drs_client(region, account)
    with aws_errors("DRS", account, region):
        drs_lookup.verify_servers_exist(drs, ids)
        drs_lookup.verify_servers_exist(drs, extra, "servers")
        listing = drs_lookup.describe_servers(drs) if tag_groups else []
    check_server_conflicts(group, others, listing)


def prepare_group(
    group: Dict[str, Any],
    existing: List[Dict[str, Any]],
    own_id: str,
    drs: Any = None,
    ec2: Any = None,
) -> Dict[str, Any]:
    """Check a shaped group against the others, DRS and EC2.

    Used by create, update and import (one rule set).
    """
    check_unique_name(existing, group["groupName"], "groupName", KEY, own_id)
    others = [g for g in existing if g.get(KEY) != own_id]
    _check_drs(group, others, drs)
    if group.get("launchConfig") or group.get("servers"):
        region, account = group["region"], group.get("accountId")
        ec2 = ec2 or drs_lookup.ec2_client(region, account)
        with aws_errors("EC2", account, region):
            validate_against_ec2(group, ec2)
    group["groupNameLower"] = group["groupName"].lower()
    return group


def create_group(
    body: Dict[str, Any],
    caller: str,
    table: Optional[Any] = None,
    drs: Any = None,
    ec2: Any = None,
) -> Dict[str, Any]:
    """Validate and store a new protection group."""
    table = table if table is not None else protection_groups_table()
    group = validate_group_shape(body)
    group_id = new_id()
    prepare_group(group, list_items(table), group_id, drs, ec2)
    item = stamp_new({KEY: group_id, **group}, caller)
    create_claimed(table, item, KEY, *CLAIM)
    return public_group(item)


def merged_update(
    current: Dict[str, Any], body: Dict[str, Any]
) -> Dict[str, Any]:
    """The group's fields after a PUT (given fields replace stored ones)."""
    reject_unknown(body, GROUP_FIELDS + ("version", KEY))
    merged = {k: current[k] for k in GROUP_FIELDS if k in current}
    changes = {k: v for k, v in body.items() if k in GROUP_FIELDS}
    if "sourceServerIds" in changes:
        merged.pop("serverSelectionTags", None)
    if "serverSelectionTags" in changes:
        merged.pop("sourceServerIds", None)
    merged.update(changes)
    return {k: v for k, v in merged.items() if v is not None}


def update_group(
    group_id: str,
    body: Dict[str, Any],
    caller: str,
    table: Optional[Any] = None,
    drs: Any = None,
    ec2: Any = None,
) -> Dict[str, Any]:
    """Replace a group's fields, conditional on the version read."""
    table = table if table is not None else protection_groups_table()
    current = get_group(group_id, table)
    check_version(body, current)
    group = validate_group_shape(merged_update(current, body))
    prepare_group(group, list_items(table), group_id, drs, ec2)
    item = {KEY: group_id, **group}
    check_plans_still_valid(item, table, drs)
    stamp_update(item, current, caller)
    # Field-wise, so a launchConfigStatus recorded meanwhile (no version
    # bump) is kept, not overwritten by the copy read above.
    stored = update_claimed(table, item, current, KEY, CLAIM, KEPT_FIELDS)
    return public_group(stored)


def plans_on_group(
    group_id: str, plans_table: Optional[Any] = None
) -> List[Dict[str, Any]]:
    """Every stored plan with a wave on the group."""
    table = plans_table if plans_table is not None else recovery_plans_table()
    return [
        plan
        for plan in list_items(table)
        if any(
            group_id in wave_group_ids(wave)
            for wave in plan.get("waves") or []
        )
    ]


def plans_using_group(
    group_id: str, plans_table: Optional[Any] = None
) -> List[Dict[str, Any]]:
    """``{planId, planName}`` of every plan with a wave on the group."""
    return [
        {"planId": plan["planId"], "planName": plan.get("planName")}
        for plan in plans_on_group(group_id, plans_table)
    ]


def check_plans_still_valid(
    group: Dict[str, Any],
    table: Any,
    drs: Any = None,
    plans_table: Optional[Any] = None,
) -> None:
    """Every plan using ``group`` passes the plan validation with the
    group as it would be stored (one account, wave sizes); otherwise the
    plan validation's error, naming the plan (nothing is written)."""
    group_id = group[KEY]

    def lookup(wanted: str) -> Optional[Dict[str, Any]]:
        if wanted == group_id:
            return group
        found = table.get_item(Key={KEY: wanted}, ConsistentRead=True)
        item = found.get("Item")
        return None if item is None or is_name_claim(item) else item

    members = {group_id: drs_lookup.group_server_ids(group, drs)}
    for plan in plans_on_group(group_id, plans_table):
        try:
            check_groups_and_sizes(
                {"waves": plan.get("waves") or []}, lookup, members
            )
        except DomainError as error:
            error.message = (
                f"protection group {group.get('groupName')!r} is used by "
                f"recovery plan {plan.get('planName')!r}: {error.message}"
            )
            error.details.update(
                planId=plan["planId"], planName=plan.get("planName")
            )
            raise


def delete_group(
    group_id: str,
    table: Optional[Any] = None,
    plans_table: Optional[Any] = None,
) -> Dict[str, Any]:
    """Delete a group no recovery plan uses."""
    table = table if table is not None else protection_groups_table()
    current = get_group(group_id, table)
    plans = plans_using_group(group_id, plans_table)
    return delete_unless_used(
        table, KEY, current, plans, "planName", "protection group", CLAIM
    )


def list_groups(account_id: Optional[str] = None) -> List[Dict[str, Any]]:
    """Every protection group (of one account when given), by name."""
    groups = in_account_only(list_items(protection_groups_table()), account_id)
    return sorted_by([public_group(g) for g in groups], "groupName")


register_crud(
    "protection_group",
    "groups",
    list_groups,
    create_group,
    lambda group_id: public_group(get_group(group_id)),
    update_group,
    delete_group,
    account_scoped=True,
)


@router.operation("resolve_protection_group_tags")
def resolve_protection_group_tags(request: Request) -> Dict[str, Any]:
    """The servers that tags select now, with hostname and replication."""
    body = request.body
    reject_unknown(
        body, ("region", "accountId", "serverSelectionTags", "tags")
    )
    region = validate_region(body.get("region"))
    field, raw_tags = resolve_tags_input(body)
    tags = validate_tags(raw_tags, field)
    account = body.get("accountId")
    if account:
        validate_account_id(account)
    drs = drs_lookup.drs_client(region, account)
    with aws_errors("DRS", account, region):
        servers = drs_lookup.resolve_tags(drs, tags)
    return resolve_answer(region, tags, servers, epoch())
