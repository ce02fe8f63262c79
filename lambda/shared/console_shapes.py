"""The answer shapes the reference web console reads (issue 20).

The console of the public reference implementation
(``frontend/src/services/api.ts``) reads some answers under other names
or envelopes than the seeds and CONTRACTS give. This module is the one
place those compatibility shapes are made: every function adds the
console's names beside the seeds' fields (never instead of them), so the
seeds' documented answers keep every field they document.
``docs/DEVELOPING.md`` lists each shape with the screen that needs it.
"""

from typing import Any, Dict, List, Tuple, Union

from shared.api import Caller
from shared.errors import ValidationError

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


def resolve_tags_input(body: Item) -> Tuple[str, Any]:
    """The tags of a tag preview and the field they came in: the seeds'
    ``serverSelectionTags`` or the console's ``tags`` (both only when
    equal)."""
    console, ours = body.get("tags"), body.get("serverSelectionTags")
    if console is not None and ours is not None and console != ours:
        raise ValidationError(
            "tags and serverSelectionTags differ: send one of them",
            field="tags",
        )
    if ours is None and console is not None:
        return "tags", console
    return "serverSelectionTags", ours


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
