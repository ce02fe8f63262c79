"""Which servers already carry their effective launch configuration.

``shared.launch_config.apply_launch_configs`` asks here before applying,
so starting a wave whose configuration did not change costs no DRS call
per server (a 100-server wave used to cost a ``GetLaunchConfiguration``
per server). A server is skipped when BOTH hold:

* its entry in the group's ``launchConfigStatus`` (written by
  ``shared.launch_config_status`` after apply-launch-configs or an earlier
  recovery) is ``APPLIED`` with the ``configHash`` of its effective
  configuration now (group defaults + its overrides);
* when that configuration sets EC2 launch template fields, the template's
  default version is still the ``templateVersion`` recorded: read for
  many templates per ``DescribeLaunchTemplates`` call, so a default
  changed in the console (drift) is caught and the server re-applied.

DRS launch settings changed in the DRS console are not detected (that
would need the per-server ``GetLaunchConfiguration`` this avoids), nor a
server whose DRS launch template was replaced while the recorded one
still exists; the apply-launch-configs endpoint after such an edit
re-applies only when the group's configuration changed too. A refused or
partial template read only means those servers are applied as before.
"""

import hashlib
import json
from decimal import Decimal
from typing import Any, Dict, Iterable, List, Optional, Set

from botocore.exceptions import BotoCoreError, ClientError

from shared.logging_setup import get_logger

logger = get_logger("launch-config")

# Part of every fingerprint: bump it when what an apply does for a given
# configuration changes, so every server is applied once more.
FINGERPRINT_VERSION = 1
EC2_FIELDS = (
    "subnetId",
    "securityGroupIds",
    "instanceType",
    "staticPrivateIp",
    "instanceProfileName",
    "instanceProfileArn",
)
APPLIED = "APPLIED"
# Launch template ids per DescribeLaunchTemplates call.
TEMPLATES_PER_CALL = 100


def _plain(value: Any) -> Any:
    """JSON form of what DynamoDB returns (Decimal, sets)."""
    if isinstance(value, Decimal):
        return int(value) if value == int(value) else float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def config_fingerprint(config: Dict[str, Any]) -> str:
    """A stable hash of an effective launch configuration."""
    text = json.dumps(
        {"v": FINGERPRINT_VERSION, "config": config},
        sort_keys=True,
        separators=(",", ":"),
        default=_plain,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def uses_template(config: Dict[str, Any]) -> bool:
    """True when the configuration sets the EC2 launch template."""
    return any(config.get(k) for k in EC2_FIELDS)


def _recorded_template(entry: Dict[str, Any]) -> Optional[tuple]:
    """(template id, default version we set) of a status entry."""
    template_id = entry.get("launchTemplateId")
    version = entry.get("templateVersion")
    if not template_id or version is None:
        return None
    return template_id, int(version)


def default_versions(ec2: Any, template_ids: Iterable[str]) -> Dict[str, int]:
    """``{template id: DefaultVersionNumber}`` of the templates found.

    Batched (``TEMPLATES_PER_CALL`` ids a call, pages followed); ids an
    answer left out are asked again until an answer brings none of them
    (moto answers 15 per call). A template EC2 does not find, or a
    refused call, leaves its ids out: those servers are applied.
    """
    wanted = sorted(set(template_ids))
    found: Dict[str, int] = {}
    for start in range(0, len(wanted), TEMPLATES_PER_CALL):
        pending: Set[str] = set(wanted[start : start + TEMPLATES_PER_CALL])
        while pending:
            got = _describe(ec2, sorted(pending))
            got = {k: v for k, v in got.items() if k in pending}
            if not got:
                break
            found.update(got)
            pending -= set(got)
    return found


def _describe(ec2: Any, ids: List[str]) -> Dict[str, int]:
    answer: Dict[str, int] = {}
    request: Dict[str, Any] = {"LaunchTemplateIds": ids}
    try:
        while True:
            page = ec2.describe_launch_templates(**request)
            for template in page.get("LaunchTemplates") or []:
                if template.get("DefaultVersionNumber") is not None:
                    answer[template["LaunchTemplateId"]] = int(
                        template["DefaultVersionNumber"]
                    )
            if not page.get("NextToken"):
                return answer
            request["NextToken"] = page["NextToken"]
    except (ClientError, BotoCoreError) as error:
        # Not verified is not an error: the servers are applied as usual.
        logger.warning(
            "launch template defaults not read",
            extra={"templates": len(ids), "error": str(error)},
        )
        return answer


def unchanged_outcome(server_id: str, fingerprint: str) -> Dict[str, Any]:
    """What ``apply_launch_configs`` reports for a server it did not
    touch: ``APPLIED``, ``unchanged``, with its configuration's hash."""
    return {
        "sourceServerId": server_id,
        "status": APPLIED,
        "unchanged": True,
        "configHash": fingerprint,
    }


def already_applied(
    group: Dict[str, Any],
    configs: Dict[str, Dict[str, Any]],
    ec2: Any,
) -> Dict[str, Dict[str, Any]]:
    """The servers of ``configs`` to skip: ``{server id: outcome}``.

    ``configs`` maps each server to its effective configuration. The
    outcome is what ``apply_launch_configs`` reports for a skipped
    server: ``APPLIED`` with ``unchanged`` set and the recorded template
    id and version (so recording it again keeps them).
    """
    status = group.get("launchConfigStatus") or {}
    skipped: Dict[str, Dict[str, Any]] = {}
    to_check: Dict[str, tuple] = {}
    for server_id, config in configs.items():
        entry = status.get(server_id) or {}
        fingerprint = config_fingerprint(config)
        if entry.get("status") != APPLIED:
            continue
        if entry.get("configHash") != fingerprint:
            continue
        outcome = unchanged_outcome(server_id, fingerprint)
        if entry.get("launchTemplateId"):
            outcome["launchTemplateId"] = entry["launchTemplateId"]
        if not uses_template(config):
            skipped[server_id] = outcome
            continue
        recorded = _recorded_template(entry)
        if recorded:
            outcome["defaultTemplateVersion"] = recorded[1]
            to_check[server_id] = (recorded, outcome)
    if to_check:
        defaults = default_versions(
            ec2, (template for (template, _), _ in to_check.values())
        )
        for server_id, ((template, version), outcome) in to_check.items():
            if defaults.get(template) == version:
                skipped[server_id] = outcome
    return skipped
