"""The seeds' ``apply_launch_config_before_recovery`` (``seeds/000_*``
§1a), kept by name and signature for code written against the seeds.

A thin adapter: the one apply path is
``shared.launch_config.apply_launch_configs`` (the wave engine calls it
directly); this builds its arguments from the seed's. The execution
handler's ``index`` re-exports it.
"""

from typing import Any, Dict, List, Optional

from shared.aws_clients import create_ec2_client
from shared.launch_config import LaunchConfigResult, apply_launch_configs
from shared.launch_config_status import recovery_source
from shared.wave_servers import group_account_context


def apply_launch_config_before_recovery(
    drs_client: Any,
    server_ids: List[str],
    launch_config: Dict[str, Any],
    region: str,
    protection_group: Optional[Dict[str, Any]] = None,
) -> LaunchConfigResult:
    """Apply ``launch_config`` (the group defaults) to ``server_ids``.

    ``protection_group`` supplies the per-server overrides (``servers``),
    the account (``accountId``: the EC2 client is made there, as the
    ``drs_client`` is) and the recorded ``launchConfigStatus``; with a
    ``groupId`` the outcome is recorded on the group, so an unchanged
    server is skipped next time. Like the seed, it does not raise for a
    server's AWS error: the returned result says what failed (``ok``,
    ``failed``) and every change was rolled back.
    """
    group = dict(protection_group or {})
    group["launchConfig"] = dict(launch_config or {})
    group["region"] = region
    context = None
    if group.get("accountId"):
        context = group_account_context(group, None)
    return apply_launch_configs(
        group,
        list(server_ids),
        region=region,
        account_context=context,
        drs_client=drs_client,
        ec2_client=create_ec2_client(region, context),
        source=recovery_source(None) if group.get("groupId") else None,
    )
