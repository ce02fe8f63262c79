"""The request names the reference web console sends (issue 20).

The console of the public reference implementation sends some fields
under other names than the seeds. This module is the one place they are
mapped onto the seeds' names before validation; a value sent under both
names must agree. What the names mean (types, rules) stays with the
validation of each resource. ``docs/DEVELOPING.md`` lists each mapping
with the screen that sends it.
"""

from typing import Any, Dict, Optional, Tuple

from shared.errors import ValidationError

Body = Dict[str, Any]


def _alias(body: Body, ours: str, theirs: str, where: str = "") -> Body:
    """``theirs`` copied to ``ours`` (both: equal), ``theirs`` removed."""
    if theirs not in body:
        return body
    body = dict(body)
    value = body.pop(theirs)
    if ours in body and body[ours] != value:
        field = f"{where}{theirs}"
        raise ValidationError(
            f"{field} and {where}{ours} differ: send one of them",
            field=field,
        )
    body[ours] = value
    return body


def resolve_tags_input(body: Body) -> Tuple[str, Any]:
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


def plan_input(body: Body) -> Body:
    """A plan body with the console's names mapped: ``name`` is
    ``planName``. A wave's ``protectionGroupIds`` is a field of its own
    (a wave of several groups, ``plan_validation``), not a name."""
    return _alias(body, "planName", "name")


def start_input(body: Body, own_topic: Optional[str]) -> Tuple[Body, bool]:
    """The console's start body: ``dryRun`` (a bool) is returned apart;
    ``topicArn`` empty or naming this deployment's execution topic needs
    nothing (every execution is published there). Another topic is
    refused (400): this API does not publish to callers' topics, which
    would let any user make it publish anywhere."""
    body = dict(body)
    dry_run = body.pop("dryRun", False)
    if not isinstance(dry_run, bool):
        raise ValidationError("dryRun must be true or false", field="dryRun")
    topic = body.pop("topicArn", None)
    if topic not in (None, "") and topic != own_topic:
        raise ValidationError(
            "topicArn: per-execution topics are not supported; every "
            "execution is published to the deployment's execution topic"
            + (f" ({own_topic})" if own_topic else "")
            + ", whose subscriptions can filter on the planId attribute",
            field="topicArn",
        )
    return body, dry_run
