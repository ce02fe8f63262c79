"""Readiness resolution of waves of several protection groups (issue 20).

``shared.readiness_inventory.resolve_plan`` resolves one group per wave.
:func:`resolve_plan_groups` takes the same arguments and answers the
same shape for waves of any number of groups (``protectionGroupIds``):
each group resolved by the one membership rule over the account/region
listings (still one per account/region), then one :class:`GroupedMembers`
per wave, the union of its groups' servers without repeats, with which
group each server came from. A wave whose groups are in different
accounts or regions is a wave error (the plan validation refuses it; a
group edited since would reach here).
"""

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from shared.readiness_inventory import (
    ClientFactory,
    Inventory,
    LocationKey,
    WaveMembers,
    default_clients,
    resolve_plan,
)
from shared.wave_servers import (
    per_group_waves,
    union_by_group,
    wave_group_ids,
)


@dataclass
class GroupedMembers(WaveMembers):
    """A wave's members with the group each server came from (None: a
    wave of one group)."""

    group_server_ids: Optional[Dict[str, List[str]]] = None
    # server id -> its group (launch settings are each group's own).
    server_groups: Optional[Dict[str, Dict[str, Any]]] = None


def _merge(group_ids: List[str], parts: List[WaveMembers]) -> GroupedMembers:
    """One wave's members from its groups' (same order)."""
    first = parts[0]
    merged = GroupedMembers(
        first.wave_number,
        first.wave_name,
        first.group,
        first.location,
        list(first.server_ids),
        first.error,
        first.context,
    )
    if len(parts) == 1:
        return merged
    merged.error = next((p.error for p in parts if p.error), None)
    locations = {p.location for p in parts if p.location is not None}
    if merged.error is None and len(locations) > 1:
        where = ", ".join(
            f"{g} in account {(p.location or ('hub', ''))[0] or 'hub'} "
            f"{(p.location or ('', ''))[1]}"
            for g, p in zip(group_ids, parts)
        )
        merged.error = (
            "the protection groups of one wave must be in one account "
            f"and region ({where})"
        )
    merged.server_ids, merged.group_server_ids = union_by_group(
        (group_id, part.server_ids) for group_id, part in zip(group_ids, parts)
    )
    group_of = {g: p.group for g, p in zip(group_ids, parts)}
    merged.server_groups = {
        sid: group_of[g]
        for g, sids in merged.group_server_ids.items()
        for sid in sids
    }
    return merged


def resolve_plan_groups(
    waves: List[Dict[str, Any]],
    groups: Dict[str, Dict[str, Any]],
    accounts_table: Optional[Any] = None,
    clients: ClientFactory = default_clients,
) -> Tuple[List[WaveMembers], Dict[LocationKey, Inventory]]:
    """``resolve_plan`` for waves of one or several groups: one entry
    per wave (``waves`` order), the union of its groups' servers."""
    members, inventories = resolve_plan(
        per_group_waves(waves), groups, accounts_table, clients
    )
    merged: List[WaveMembers] = []
    position = 0
    for wave in waves:
        group_ids = wave_group_ids(wave) or [""]
        parts = members[position : position + len(group_ids)]  # noqa: E203
        position += len(group_ids)
        merged.append(_merge(group_ids, parts))
    return merged, inventories
