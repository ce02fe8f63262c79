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


def caller_topic(
    topic: Any, own_topic: Optional[str], prefix: str
) -> Optional[str]:
    """The console's ``topicArn``: None when empty or this deployment's
    execution topic (every execution is published there); else an SNS
    topic in the deployment's account and region whose name starts with
    ``<prefix>-`` (the project name: the functions may publish to those
    topics only, so a caller cannot make this API publish anywhere).
    Anything else: 400 naming the rule."""
    if topic in (None, "") or topic == own_topic:
        return None
    own = (own_topic or "").split(":")
    where = (
        f"an SNS topic of account {own[4]} in {own[3]} named {prefix}-..."
        if len(own) == 6
        else "nothing: no execution topic is configured"
    )
    parts = topic.split(":") if isinstance(topic, str) else []
    ok = (
        len(own) == 6
        and len(parts) == 6
        and parts[0] == "arn"
        and parts[1] == own[1]
        and parts[2] == "sns"
        and parts[3:5] == own[3:5]
        and parts[5].startswith(f"{prefix}-")
        and len(parts[5]) <= 256
    )
    if not ok:
        raise ValidationError(
            f"topicArn must be {where}; every execution is also published "
            f"to the deployment's execution topic"
            + (f" ({own_topic})" if own_topic else "")
            + ", whose subscriptions can filter on the planId attribute",
            field="topicArn",
        )
    return topic


def start_input(
    body: Body, own_topic: Optional[str], prefix: str
) -> Tuple[Body, bool, Optional[str]]:
    """The console's start body: ``dryRun`` (a bool) and ``topicArn``
    (:func:`caller_topic`: the execution's own topic or None) are
    returned apart."""
    body = dict(body)
    dry_run = body.pop("dryRun", False)
    if not isinstance(dry_run, bool):
        raise ValidationError("dryRun must be true or false", field="dryRun")
    topic = caller_topic(body.pop("topicArn", None), own_topic, prefix)
    return body, dry_run, topic


def bulk_server_input(entry: Body, where: str) -> Body:
    """An entry of the console's bulk launch-config body ``{serverId,
    useGroupDefaults, launchTemplate?}``: ``serverId`` is the seeds'
    ``sourceServerId`` of a group's ``servers[]`` entry."""
    return _alias(entry, "sourceServerId", "serverId", f"{where}.")


def import_input(body: Body) -> Body:
    """The import body as ``{manifest, dryRun}``: the console posts the
    exported document as ``config``; the export document posted as the
    body itself is the manifest too."""
    body = _alias(body, "manifest", "config")
    if "manifest" in body:
        return body
    body = dict(body)
    dry_run = body.pop("dryRun", False)
    return {"manifest": body, "dryRun": dry_run}
