"""What the last launch-config apply did, per server, on the group record.

``shared.launch_config.apply_launch_configs`` records here when given a
``source``: ``"apply-launch-configs"`` (the data-management endpoint) or
``"recovery:<executionId>"`` (the wave engine before a recovery). Each
server's entry in the group item's ``launchConfigStatus`` map::

    {status: APPLIED | FAILED | ROLLED_BACK, appliedAt: epoch seconds,
     source, appliedBy?, groupVersion, config, configHash?,
     launchTemplateId?, templateVersion?, launchTemplateVersion?,
     unchanged?, error?}

``configHash`` fingerprints ``config``
(``shared.launch_config_applied.config_fingerprint``); ``templateVersion``
is the launch template's default version after the apply (the version it
created, ``launchTemplateVersion``, or the one it found already right);
``unchanged`` marks a server skipped because both were still in force
(``shared.launch_config_applied``, which reads these entries).

Status is bookkeeping, not configuration: only the map entries of the
servers applied are set (never the group's optimistic-lock ``version``
and with no condition on it), so a recovery never conflicts with a user
editing the group; ``groupVersion`` names the configuration applied.
Recording never raises: a failure is logged and reported as ``False``.
"""

from typing import Any, Dict, List, Optional

from botocore.exceptions import BotoCoreError, ClientError

from shared import clock
from shared.config_merge import get_effective_launch_config
from shared.logging_setup import get_logger
from shared.tables import protection_groups_table

logger = get_logger("launch-config")

STATUS_ATTRIBUTE = "launchConfigStatus"
SOURCE_API = "apply-launch-configs"
# Keeps each UpdateExpression well under DynamoDB's 4 KB limit.
SERVERS_PER_UPDATE = 50
OUTCOME_FIELDS = (
    "configHash",
    "launchTemplateId",
    "launchTemplateVersion",
    "unchanged",
    "error",
)


def recovery_source(execution_id: Optional[str]) -> str:
    """The ``source`` of an apply made before a recovery."""
    return f"recovery:{execution_id or ''}"


def status_entry(
    group: Dict[str, Any],
    outcome: Dict[str, Any],
    source: str,
    now: int,
    applied_by: Optional[str] = None,
) -> Dict[str, Any]:
    """The stored status of one server's apply ``outcome``."""
    entry: Dict[str, Any] = {
        "status": outcome["status"],
        "appliedAt": now,
        "source": source,
        "groupVersion": int(group.get("version", 1)),
        "config": get_effective_launch_config(
            group, outcome["sourceServerId"]
        ),
    }
    if applied_by:
        entry["appliedBy"] = applied_by
    for key in OUTCOME_FIELDS:
        if outcome.get(key) is not None:
            entry[key] = outcome[key]
    for key in ("launchTemplateVersion", "defaultTemplateVersion"):
        if outcome.get(key) is not None:
            entry["templateVersion"] = outcome[key]
            break
    return entry


def _set_entries(
    table: Any, group_id: str, entries: Dict[str, Dict[str, Any]]
) -> None:
    names: Dict[str, str] = {"#m": STATUS_ATTRIBUTE}
    values: Dict[str, Any] = {}
    clauses = []
    for number, (server_id, entry) in enumerate(entries.items()):
        names[f"#s{number}"] = server_id
        values[f":s{number}"] = entry
        clauses.append(f"#m.#s{number} = :s{number}")
    table.update_item(
        Key={"groupId": group_id},
        UpdateExpression="SET " + ", ".join(clauses),
        ConditionExpression="attribute_exists(groupId)",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def record_launch_config_status(
    group: Dict[str, Any],
    outcomes: List[Dict[str, Any]],
    source: str,
    *,
    applied_by: Optional[str] = None,
    table: Optional[Any] = None,
) -> bool:
    """Store each outcome as its server's entry; False when not stored.

    A deleted group is not re-created (the writes are conditional on the
    item existing).
    """
    if not outcomes:
        return True
    now = clock.epoch()
    entries = {
        o["sourceServerId"]: status_entry(group, o, source, now, applied_by)
        for o in outcomes
    }
    ids = list(entries)
    try:
        table = table if table is not None else protection_groups_table()
        table.update_item(
            Key={"groupId": group["groupId"]},
            UpdateExpression="SET #m = if_not_exists(#m, :empty)",
            ConditionExpression="attribute_exists(groupId)",
            ExpressionAttributeNames={"#m": STATUS_ATTRIBUTE},
            ExpressionAttributeValues={":empty": {}},
        )
        for start in range(0, len(ids), SERVERS_PER_UPDATE):
            chunk = ids[start : start + SERVERS_PER_UPDATE]  # noqa: E203
            _set_entries(
                table, group["groupId"], {sid: entries[sid] for sid in chunk}
            )
    except (ClientError, BotoCoreError, KeyError) as error:
        logger.warning(
            "launch config status not recorded",
            extra={
                "groupId": group.get("groupId"),
                "source": source,
                "error": str(error),
            },
        )
        return False
    return True
