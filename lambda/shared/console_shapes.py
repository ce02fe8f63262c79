"""The answer shapes the reference web console reads (issue 20).

The console of the public reference implementation
(``frontend/src/services/api.ts``) reads some answers under other names
or envelopes than the seeds and CONTRACTS give. This module is the one
place those compatibility shapes are made: every function adds the
console's names beside the seeds' fields (never instead of them), so the
seeds' documented answers keep every field they document.
``docs/DEVELOPING.md`` lists each shape with the screen that needs it.
"""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple, Union

from shared.api import Caller

Item = Dict[str, Any]

# A registered account is usable once its role was assumed (or it is the
# hub): the console's account table shows this status.
ACCOUNT_STATUS_ACTIVE = "ACTIVE"


def target_account_view(item: Item) -> Item:
    """A target account with the console's ``status`` beside its fields."""
    return {**item, "status": item.get("status", ACCOUNT_STATUS_ACTIVE)}


def target_account_list(
    items: List[Item], caller: Caller
) -> Union[List[Item], Item]:
    """``GET /accounts/targets``: a JSON array for the console (REST).

    The seeds document no envelope for this list. The console reads the
    REST answer as an array (its "Setup Required" guard counts it), so
    REST answers one; a direct invocation keeps ``{accounts, count}``
    (CONTRACTS §2: the direct answer is a dict, and scripts read it).
    """
    views = [target_account_view(item) for item in items]
    if caller.via == "api":
        return views
    return {"accounts": views, "count": len(views)}


def group_view(item: Item) -> Item:
    """A protection group with ``protectionGroupId`` beside ``groupId``.

    The console identifies groups by ``protectionGroupId`` (its links
    would otherwise go to ``/protection-groups/undefined``)."""
    if "groupId" not in item:
        return item
    return {**item, "protectionGroupId": item["groupId"]}


def resolve_answer(
    region: str, tags: Dict[str, str], servers: List[Item], now: int
) -> Item:
    """The tag preview: our ``servers`` and ``serverSelectionTags`` and
    the console's ``resolvedServers``, ``tags`` and ``resolvedAt``."""
    return {
        "region": region,
        "serverSelectionTags": tags,
        "servers": servers,
        "serverCount": len(servers),
        "tags": tags,
        "resolvedServers": servers,
        "resolvedAt": now,
    }


@dataclass
class PlanFacts:
    """What a plan answer shows beside the stored plan.

    ``wave_servers``: group id -> its servers now; ``latest``: the plan's
    most recent execution record; ``conflicts``: (active execution of
    another plan, the servers it shares with this plan)."""

    wave_servers: Dict[str, List[str]]
    latest: Optional[Item] = None
    conflicts: List[Tuple[Item, List[str]]] = field(default_factory=list)


def _conflict_info(conflicts: List[Tuple[Item, List[str]]]) -> Item:
    if not conflicts:
        return {"hasConflict": False, "conflictingServers": []}
    execution, _ = conflicts[0]
    servers = sorted({s for _, shared in conflicts for s in shared})
    return {
        "hasConflict": True,
        "conflictingServers": servers,
        "conflictingExecutionId": execution.get("executionId"),
        "conflictingPlanId": execution.get("planId"),
        "conflictingStatus": execution.get("status"),
        "reason": f"{len(servers)} server(s) are in use by execution "
        f"{execution.get('executionId')} of plan "
        f"{execution.get('planName') or execution.get('planId')}",
    }


def plan_view(plan: Item, facts: PlanFacts) -> Item:
    """A recovery plan with the console's names beside the seeds' ones:
    ``name``; per wave ``protectionGroupIds`` and ``serverIds`` (its
    group's servers now) and ``serverCount``; the last execution
    (``lastExecutionId``, ``lastExecutionStatus``, ``lastStartTime``,
    ``lastEndTime``) and ``hasServerConflict`` / ``conflictInfo``."""
    waves = []
    for wave in plan.get("waves") or []:
        servers = facts.wave_servers.get(wave.get("protectionGroupId"), [])
        waves.append(
            {
                **wave,
                "protectionGroupIds": [wave.get("protectionGroupId")],
                "serverIds": list(servers),
                "serverCount": len(servers),
            }
        )
    view = {**plan, "name": plan.get("planName"), "waves": waves}
    latest = facts.latest or {}
    for ours, theirs in (
        ("executionId", "lastExecutionId"),
        ("status", "lastExecutionStatus"),
        ("startTime", "lastStartTime"),
        ("endTime", "lastEndTime"),
    ):
        if latest.get(ours) is not None:
            view[theirs] = latest[ours]
    info = _conflict_info(facts.conflicts)
    view["hasServerConflict"] = info["hasConflict"]
    view["conflictInfo"] = info
    return view


def plan_list(items: List[Item], caller: Caller) -> Item:
    """``GET /recovery-plans``: the seeds' ``{plans, count}`` and the
    console's ``recoveryPlans`` (the same items)."""
    return {"plans": items, "count": len(items), "recoveryPlans": items}
