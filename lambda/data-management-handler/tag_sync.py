"""Tag sync: copy EC2 instance tags to the DRS source servers replicating
those instances, and the tag-sync settings (TAG_SYNC_CONFIG_TABLE).

A source server is matched to its instance through
``sourceProperties.identificationHints.awsInstanceID``. Instances are read
in batches; a run records what it changed on the settings record
(``lastRun``).
"""

import re
from typing import Any, Dict, List, Optional

from botocore.exceptions import ClientError

import drs_lookup
from data_routes import router
from dm_store import check_version
from shared import clock
from shared.api import Request
from shared.aws_clients import resolve_region
from shared.aws_errors import aws_errors
from shared.ddb_updates import condition_failed
from shared.errors import (
    DomainError,
    ValidationError,
    VersionConflictError,
)
from shared.logging_setup import get_logger
from shared.tables import tag_sync_config_table
from shared.validation import (
    check_text,
    reject_unknown,
    validate_account_id,
    validate_bool,
    validate_region,
)

logger = get_logger("tag-sync")

CONFIG_ID = "default"
SETTINGS_FIELDS = ("enabled", "regions", "schedule")
DEFAULT_SCHEDULE = "rate(1 hour)"
SCHEDULE = re.compile(
    r"^(rate\(\d{1,4} (minute|minutes|hour|hours|day|days)\)"
    r"|cron\([^()]{9,200}\))$"
)
INSTANCE_BATCH = 100
MAX_RECORDED_CHANGES = 200
# Tags EC2/CloudFormation manage themselves; DRS rejects the aws: prefix.
RESERVED_PREFIX = "aws:"


def _settings_table(table: Optional[Any]) -> Any:
    return table if table is not None else tag_sync_config_table()


def read_settings(table: Optional[Any] = None) -> Dict[str, Any]:
    """The stored settings, or the defaults (disabled, own region)."""
    item = (
        _settings_table(table)
        .get_item(Key={"configId": CONFIG_ID}, ConsistentRead=True)
        .get("Item")
    )
    if item:
        return item
    return {
        "configId": CONFIG_ID,
        "enabled": False,
        "regions": [resolve_region()],
        "schedule": DEFAULT_SCHEDULE,
        "version": 0,
    }


def validate_settings(body: Dict[str, Any]) -> Dict[str, Any]:
    """The settings fields of a PUT (400 naming the field)."""
    reject_unknown(body, SETTINGS_FIELDS + ("version",))
    settings: Dict[str, Any] = {}
    if "enabled" in body:
        settings["enabled"] = validate_bool(body["enabled"], "enabled")
    if "regions" in body:
        regions = body["regions"]
        if not isinstance(regions, list) or not regions:
            raise ValidationError(
                "regions must be a non-empty list", field="regions"
            )
        settings["regions"] = sorted(
            {validate_region(r, "regions") for r in regions}
        )
    if "schedule" in body:
        schedule = check_text(body["schedule"], "schedule", 256)
        if not SCHEDULE.match(schedule):
            raise ValidationError(
                "schedule must be rate(N unit) or cron(...)",
                field="schedule",
            )
        settings["schedule"] = schedule
    return settings


def update_settings(
    body: Dict[str, Any], caller: str, table: Optional[Any] = None
) -> Dict[str, Any]:
    """Change the settings, conditional on the version read."""
    table = _settings_table(table)
    changes = validate_settings(body)
    current = read_settings(table)
    version = check_version(body, current)
    item = {**current, **changes}
    item.update(
        {
            "version": version + 1,
            "updatedBy": caller,
            "lastModifiedDate": clock.epoch(),
        }
    )
    try:
        table.put_item(
            Item=item,
            ConditionExpression="attribute_not_exists(configId) OR #v = :v",
            ExpressionAttributeNames={"#v": "version"},
            ExpressionAttributeValues={":v": version},
        )
    except ClientError as error:
        if condition_failed(error):
            raise VersionConflictError(
                "tag-sync settings changed meanwhile; read them again"
            ) from None
        raise
    return item


def _instance_id(server: Dict[str, Any]) -> Optional[str]:
    hints = (server.get("sourceProperties") or {}).get(
        "identificationHints"
    ) or {}
    return hints.get("awsInstanceID")


def instance_tags(ec2: Any, instance_ids: List[str]) -> Dict[str, Dict]:
    """``instanceId -> {key: value}`` read in batches of 100."""
    tags: Dict[str, Dict[str, str]] = {}
    for start in range(0, len(instance_ids), INSTANCE_BATCH):
        batch = instance_ids[start : start + INSTANCE_BATCH]  # noqa: E203
        pages = ec2.get_paginator("describe_instances").paginate(
            Filters=[{"Name": "instance-id", "Values": batch}]
        )
        for page in pages:
            for reservation in page.get("Reservations", []):
                for instance in reservation.get("Instances", []):
                    tags[instance["InstanceId"]] = {
                        t["Key"]: t["Value"]
                        for t in instance.get("Tags") or []
                        if not t["Key"].lower().startswith(RESERVED_PREFIX)
                    }
    return tags


def sync_region(
    region: str,
    account_id: Optional[str] = None,
    dry_run: bool = False,
    drs: Any = None,
    ec2: Any = None,
    changes: Optional[List[Dict[str, Any]]] = None,
) -> Dict[str, Any]:
    """Copy instance tags to the matching source servers of one region.

    Each change is appended to ``changes`` as soon as DRS took it, so a
    run failing midway still knows what it wrote.
    """
    drs = drs or drs_lookup.drs_client(region, account_id)
    ec2 = ec2 or drs_lookup.ec2_client(region, account_id)
    with aws_errors("DRS", account_id, region):
        servers = drs_lookup.describe_servers(drs)
    linked = {s["sourceServerID"]: _instance_id(s) for s in servers}
    ids = sorted({i for i in linked.values() if i})
    with aws_errors("EC2", account_id, region):
        tags = instance_tags(ec2, ids)
    changes = [] if changes is None else changes
    done = len(changes)
    for server in servers:
        instance = linked[server["sourceServerID"]]
        if not instance or instance not in tags:
            continue
        have = server.get("tags") or {}
        wanted = {k: v for k, v in tags[instance].items() if have.get(k) != v}
        if not wanted:
            continue
        if not dry_run:
            with aws_errors("DRS", account_id, region):
                drs.tag_resource(resourceArn=server["arn"], tags=wanted)
        changes.append(
            {
                "sourceServerId": server["sourceServerID"],
                "instanceId": instance,
                "region": region,
                "tags": wanted,
            }
        )
    return {
        "region": region,
        "serversChecked": len(servers),
        "serversMatched": sum(1 for i in linked.values() if i in tags),
        "serversUpdated": len(changes) - done,
        "changes": changes[done:],
    }


def _error_of(error: Exception, region: Optional[str]) -> Dict[str, Any]:
    """What ``lastRun`` says of the error that stopped a run."""
    if isinstance(error, DomainError):
        recorded = {"code": error.code, "message": error.message}
    else:
        recorded = {"code": "INTERNAL_ERROR", "message": type(error).__name__}
    if region:
        recorded["region"] = region
    return recorded


def run_tag_sync(
    body: Dict[str, Any], caller: str, table: Optional[Any] = None
) -> Dict[str, Any]:
    """One run over the configured (or given) regions; records lastRun."""
    reject_unknown(body, ("regions", "accountId", "dryRun", "trigger"))
    settings = read_settings(table)
    if body.get("trigger") == "schedule" and not settings.get("enabled"):
        return {"skipped": True, "reason": "tag sync is disabled"}
    if "regions" in body:
        regions = validate_settings({"regions": body["regions"]})["regions"]
    else:
        regions = list(settings.get("regions") or [resolve_region()])
    account_id = body.get("accountId")
    if account_id:
        validate_account_id(account_id)
    dry_run = validate_bool(body.get("dryRun", False), "dryRun")
    run: Dict[str, Any] = {
        "startedAt": clock.epoch(),
        "initiatedBy": caller,
        "dryRun": dry_run,
        "regions": regions,
        "status": "FAILED",
    }
    changes: List[Dict[str, Any]] = []
    checked = 0
    current: Optional[str] = None
    try:
        for current in regions:
            result = sync_region(current, account_id, dry_run, changes=changes)
            checked += result["serversChecked"]
        run["status"] = "SUCCEEDED"
    except Exception as error:  # recorded on lastRun, then re-raised
        run["error"] = _error_of(error, current)
        raise
    finally:
        # A run stopped midway is recorded too: what it changed is real.
        run.update(
            {
                "finishedAt": clock.epoch(),
                "serversChecked": checked,
                "serversUpdated": len(changes),
                "changes": changes,
            }
        )
        if not dry_run:
            _record_run(run, settings, table)
    logger.info(
        "tag sync run",
        extra={"regions": regions, "serversUpdated": len(changes)},
    )
    return run


def _record_run(
    run: Dict[str, Any], settings: Dict[str, Any], table: Optional[Any]
) -> None:
    """Store ``lastRun``; bookkeeping that leaves the settings' version
    (and any settings changed meanwhile) alone."""
    recorded = dict(run)
    recorded["changes"] = run["changes"][:MAX_RECORDED_CHANGES]
    recorded["changesTruncated"] = len(run["changes"]) > MAX_RECORDED_CHANGES
    _settings_table(table).update_item(
        Key={"configId": CONFIG_ID},
        UpdateExpression=(
            "SET lastRun = :r, enabled = if_not_exists(enabled, :e), "
            "regions = if_not_exists(regions, :g), "
            "#s = if_not_exists(#s, :s), #v = if_not_exists(#v, :z)"
        ),
        ExpressionAttributeNames={"#s": "schedule", "#v": "version"},
        ExpressionAttributeValues={
            ":r": recorded,
            ":e": bool(settings.get("enabled", False)),
            ":g": list(settings.get("regions") or []),
            ":s": settings.get("schedule") or DEFAULT_SCHEDULE,
            ":z": 0,
        },
    )


@router.operation("handle_drs_tag_sync")
def handle_drs_tag_sync(request: Request) -> Dict[str, Any]:
    """POST /drs/tag-sync: run now (``dryRun`` reports only)."""
    return run_tag_sync(request.body, request.caller.name)


@router.operation("get_tag_sync_settings")
def get_tag_sync_settings(request: Request) -> Dict[str, Any]:
    """GET /config/tag-sync."""
    return read_settings()


@router.operation("update_tag_sync_settings")
def update_tag_sync_settings(request: Request) -> Dict[str, Any]:
    """PUT /config/tag-sync."""
    return update_settings(request.body, request.caller.name)
