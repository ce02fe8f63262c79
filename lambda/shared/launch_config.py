"""Apply a protection group's launch configuration to its DRS servers.

ONE code path, used by the wave engine before every recovery
(``wave_recovery.start_wave_recovery``) and by the data-management-handler's
``apply_launch_configs`` endpoint: call :func:`apply_launch_configs`.

For every server, the effective configuration
(``shared.config_merge.get_effective_launch_config``: group ``launchConfig``
overlaid with the server's overrides) is applied in the TARGET account:

* DRS launch settings (``update_launch_configuration``):
  ``launchDisposition``, ``targetInstanceTypeRightSizingMethod``,
  ``copyPrivateIp``, ``copyTags``, ``licensing``, ``postLaunchEnabled``;
* the server's EC2 launch template (the one DRS owns, from
  ``get_launch_configuration``): a new version with ``subnetId``,
  ``securityGroupIds``, ``instanceType``, ``staticPrivateIp`` and
  ``instanceProfileName`` / ``instanceProfileArn``, set as default.

A server whose effective configuration was already applied (the group's
``launchConfigStatus``: same ``configHash``) and whose launch template's
default version is still the one recorded is skipped without any DRS call
(``shared.launch_config_applied``; the template defaults are read in
batches), so an unchanged wave start costs no call per server.

Servers run in parallel on a bounded thread pool. When any server fails,
the servers already changed, and the changes a failed server made before
failing, are rolled back (previous DRS settings and previous default
template version restored), so a failed apply leaves DRS as it found it.

Given a ``source``, the outcome of every server is recorded on the group
(``shared.launch_config_status``) whatever it was; a failure to record is
logged, never raised. :meth:`LaunchConfigResult.failure` is the domain
error a caller raises for a failed apply (per-server results included).
"""

import copy
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from botocore.exceptions import BotoCoreError, ClientError

from shared.aws_clients import create_drs_client, create_ec2_client
from shared.aws_errors import translate_client_error
from shared.config_merge import get_effective_launch_config
from shared.errors import DomainError, InvalidStateError, NotFoundError
from shared.launch_config_applied import (
    APPLIED,
    already_applied,
    config_fingerprint,
    unchanged_outcome,
    uses_template,
)
from shared.launch_config_status import record_launch_config_status
from shared.logging_setup import get_logger

logger = get_logger("launch-config")

DEFAULT_MAX_WORKERS = 8
DRS_FIELDS = (
    "launchDisposition",
    "targetInstanceTypeRightSizingMethod",
    "copyPrivateIp",
    "copyTags",
    "licensing",
    "postLaunchEnabled",
)
FAILED = "FAILED"


@dataclass
class LaunchConfigResult:
    """Per-server outcome of one apply (``servers`` in input order)."""

    servers: List[Dict[str, Any]] = field(default_factory=list)
    rolled_back: bool = False
    # The exception of each failed server (not part of ``to_dict``).
    errors: Dict[str, Exception] = field(default_factory=dict)
    # None when no ``source`` asked for the status to be recorded.
    status_recorded: Optional[bool] = None

    @property
    def failed(self) -> List[Dict[str, Any]]:
        return [s for s in self.servers if s["status"] == FAILED]

    @property
    def ok(self) -> bool:
        return not self.failed

    def error_summary(self) -> str:
        """One line naming every failed server and its error."""
        return "; ".join(
            f"{s['sourceServerId']}: {s.get('error')}" for s in self.failed
        )

    def to_dict(self) -> Dict[str, Any]:
        return {
            "applied": sum(1 for s in self.servers if s["status"] == APPLIED),
            "failed": len(self.failed),
            "rolledBack": self.rolled_back,
            "servers": copy.deepcopy(self.servers),
        }

    def failure(
        self,
        account_id: Optional[str] = None,
        region: Optional[str] = None,
        **details: Any,
    ) -> DomainError:
        """The domain error of a failed apply, with per-server results.

        The first failed server's AWS error is mapped by
        ``shared.aws_errors`` (403 refused, 429 throttled, 409 busy);
        anything else, including a resource named by the configuration
        that EC2 or DRS does not find, is a 409 ``INVALID_STATE``: the
        request was valid, the group's configuration cannot be applied.
        """
        undone = [
            s["sourceServerId"] for s in self.servers if "rollbackError" in s
        ]
        message = "launch configuration failed for " + self.error_summary()
        if undone:
            message += "; rollback failed for " + ", ".join(undone)
        elif self.rolled_back:
            message += "; every change was rolled back"
        body = dict(details, **self.to_dict())
        body.update(rollbackFailed=undone)
        error = (
            self.errors.get(self.failed[0]["sourceServerId"])
            if self.failed
            else None
        )
        mapped = None
        if isinstance(error, ClientError):
            mapped = translate_client_error(error, "AWS", account_id, region)
        if mapped is None or isinstance(mapped, NotFoundError):
            return InvalidStateError(
                message, reason="LAUNCH_CONFIG_FAILED", **body
            )
        return type(mapped)(message, **dict(mapped.details, **body))


def drs_settings(config: Dict[str, Any]) -> Dict[str, Any]:
    """The DRS ``update_launch_configuration`` members of a config.

    A fixed instance type only sticks with right-sizing off, and a static
    private IP only with ``copyPrivateIp`` off, so those are implied.
    """
    settings = {k: config[k] for k in DRS_FIELDS if k in config}
    if config.get("instanceType"):
        settings.setdefault("targetInstanceTypeRightSizingMethod", "NONE")
    if config.get("staticPrivateIp"):
        settings["copyPrivateIp"] = False
    return settings


def template_data(
    config: Dict[str, Any], current: Dict[str, Any]
) -> Dict[str, Any]:
    """Launch template data: ``current`` with the config's EC2 fields."""
    data = copy.deepcopy(current)
    if config.get("instanceType"):
        data["InstanceType"] = config["instanceType"]
    if config.get("instanceProfileArn"):
        data["IamInstanceProfile"] = {"Arn": config["instanceProfileArn"]}
    elif config.get("instanceProfileName"):
        data["IamInstanceProfile"] = {"Name": config["instanceProfileName"]}
    nic_fields = ("subnetId", "securityGroupIds", "staticPrivateIp")
    if any(config.get(k) for k in nic_fields):
        nics = data.get("NetworkInterfaces") or [{"DeviceIndex": 0}]
        nic = dict(nics[0])
        nic.setdefault("DeviceIndex", 0)
        if config.get("subnetId"):
            nic["SubnetId"] = config["subnetId"]
        if config.get("securityGroupIds"):
            nic["Groups"] = list(config["securityGroupIds"])
        if config.get("staticPrivateIp"):
            nic["PrivateIpAddress"] = config["staticPrivateIp"]
            nic.pop("PrivateIpAddresses", None)
        data["NetworkInterfaces"] = [nic] + list(nics[1:])
    return data


def _default_version(ec2: Any, template_id: str) -> Dict[str, Any]:
    """The template's default version (the one DRS launches with)."""
    versions = ec2.describe_launch_template_versions(
        LaunchTemplateId=template_id, Versions=["$Default"]
    )["LaunchTemplateVersions"]
    return versions[0] if versions else {}


def _apply_one(
    drs: Any,
    ec2: Any,
    config: Dict[str, Any],
    server_id: str,
    outcome: Dict[str, Any],
) -> None:
    """Apply one server's effective ``config``, recording in ``outcome``
    each change as soon as it is made, so a failure later on leaves what
    to undo, and the default template version in force at the end."""
    outcome["configHash"] = config_fingerprint(config)
    previous = drs.get_launch_configuration(sourceServerID=server_id)
    template_id = previous.get("ec2LaunchTemplateID")
    outcome["launchTemplateId"] = template_id
    settings = drs_settings(config)
    if settings:
        before = {k: previous[k] for k in settings if k in previous}
        drs.update_launch_configuration(sourceServerID=server_id, **settings)
        outcome.update(previousDrs=before, drsUpdated=sorted(settings))
    if template_id and uses_template(config):
        # Built on the DEFAULT version, not the latest: a default set back
        # to an older version in the console is drift to correct.
        default = _default_version(ec2, template_id)
        current = default.get("LaunchTemplateData") or {}
        wanted = template_data(config, current)
        outcome["defaultTemplateVersion"] = default.get("VersionNumber")
        if wanted != current:
            # Recorded before the change: restoring this default is
            # harmless when the new version never became the default.
            outcome["previousDefaultVersion"] = default.get("VersionNumber")
            created = ec2.create_launch_template_version(
                LaunchTemplateId=template_id,
                LaunchTemplateData=wanted,
                VersionDescription="DRS orchestration launch config",
            )["LaunchTemplateVersion"]["VersionNumber"]
            outcome["launchTemplateVersion"] = created
            ec2.modify_launch_template(
                LaunchTemplateId=template_id, DefaultVersion=str(created)
            )
            outcome["defaultTemplateVersion"] = created
    outcome["status"] = APPLIED


def _sets_nothing(config: Dict[str, Any]) -> bool:
    """A configuration with no DRS setting and no template field: applying
    it would only read the server's launch configuration (a DRS call per
    server when a wave of servers without launch settings starts)."""
    return not drs_settings(config) and not uses_template(config)


def _changed(outcome: Dict[str, Any]) -> bool:
    """True when ``outcome`` records a change to undo."""
    return bool(
        outcome.get("previousDrs") or outcome.get("previousDefaultVersion")
    )


def _safe_apply(
    drs: Any, ec2: Any, config: Dict[str, Any], server_id: str
) -> Dict[str, Any]:
    outcome: Dict[str, Any] = {"sourceServerId": server_id}
    try:
        _apply_one(drs, ec2, config, server_id, outcome)
    except (ClientError, BotoCoreError, KeyError, ValueError) as error:
        logger.warning(
            "launch config failed",
            extra={"sourceServerId": server_id, "error": str(error)},
        )
        outcome.update(status=FAILED, error=str(error), exception=error)
    return outcome


def _rollback(drs: Any, ec2: Any, outcome: Dict[str, Any]) -> None:
    """Best effort: restore what ``_apply_one`` changed on one server.

    An applied server becomes ``ROLLED_BACK``; a failed one stays
    ``FAILED`` with ``rolledBack`` set.
    """
    server_id = outcome["sourceServerId"]
    try:
        if outcome.get("previousDefaultVersion"):
            ec2.modify_launch_template(
                LaunchTemplateId=outcome["launchTemplateId"],
                DefaultVersion=str(outcome["previousDefaultVersion"]),
            )
        if outcome.get("previousDrs"):
            drs.update_launch_configuration(
                sourceServerID=server_id, **outcome["previousDrs"]
            )
        if outcome["status"] == APPLIED:
            outcome["status"] = "ROLLED_BACK"
        else:
            outcome["rolledBack"] = True
    except (ClientError, BotoCoreError) as error:
        logger.error(
            "launch config rollback failed",
            extra={"sourceServerId": server_id, "error": str(error)},
        )
        outcome["rollbackError"] = str(error)


def apply_launch_configs(
    group: Dict[str, Any],
    server_ids: List[str],
    *,
    region: Optional[str] = None,
    account_context: Optional[Dict[str, Any]] = None,
    drs_client: Optional[Any] = None,
    ec2_client: Optional[Any] = None,
    max_workers: int = DEFAULT_MAX_WORKERS,
    rollback_on_failure: bool = True,
    source: Optional[str] = None,
    applied_by: Optional[str] = None,
    status_table: Optional[Any] = None,
) -> LaunchConfigResult:
    """Apply ``group``'s effective launch config to ``server_ids``.

    ``region`` defaults to the group's region; clients are created in the
    account of ``account_context`` unless injected. A server whose
    effective config the group's ``launchConfigStatus`` records as
    applied, with its launch template's default version unchanged, is
    skipped (``shared.launch_config_applied``: no DRS call) and reported
    ``APPLIED`` with ``unchanged``. Never raises for a server's AWS
    error: the result lists each server's ``status`` (``APPLIED``,
    ``FAILED``, or ``ROLLED_BACK`` after another server failed) and
    ``error``. With ``source``, each server's outcome is recorded on the
    group (``status_table`` or the protection groups table);
    ``status_recorded`` says whether that worked.
    """
    region = region or group.get("region")
    drs = drs_client or create_drs_client(region, account_context)
    ec2 = ec2_client or create_ec2_client(region, account_context)
    result = LaunchConfigResult()
    if not server_ids:
        return result
    configs = {
        sid: get_effective_launch_config(group, sid) for sid in server_ids
    }
    skipped = already_applied(group, configs, ec2)
    skipped.update(
        (sid, unchanged_outcome(sid, config_fingerprint(config)))
        for sid, config in configs.items()
        if sid not in skipped and _sets_nothing(config)
    )
    pending = [sid for sid in dict.fromkeys(server_ids) if sid not in skipped]
    outcomes = dict(skipped)
    if pending:
        workers = max(1, min(max_workers, len(pending)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            done = pool.map(
                lambda sid: _safe_apply(drs, ec2, configs[sid], sid), pending
            )
            outcomes.update(zip(pending, done))
    result.servers = [dict(outcomes[sid]) for sid in server_ids]
    if result.failed and rollback_on_failure:
        for outcome in result.servers:
            # A skipped server was not touched: nothing to undo.
            if outcome.get("unchanged"):
                continue
            if outcome["status"] == APPLIED or _changed(outcome):
                _rollback(drs, ec2, outcome)
        result.rolled_back = True
    for outcome in result.servers:
        outcome.pop("previousDrs", None)
        if "exception" in outcome:
            result.errors[outcome["sourceServerId"]] = outcome.pop("exception")
    if source:
        result.status_recorded = record_launch_config_status(
            group,
            result.servers,
            source,
            applied_by=applied_by,
            table=status_table,
        )
    return result
