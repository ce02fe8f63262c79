"""Effective launch configuration: group defaults + per-server overrides."""

import copy
from typing import Any, Dict, Optional


def find_server_config(
    group: Dict[str, Any], server_id: str
) -> Optional[Dict[str, Any]]:
    """The per-server entry of a protection group, if any."""
    for entry in group.get("servers") or []:
        if entry.get("sourceServerId") == server_id:
            return entry
    return None


def get_effective_launch_config(
    group: Dict[str, Any], server_id: str
) -> Dict[str, Any]:
    """Launch settings that apply to one server of a group.

    Group defaults (``launchConfig``) are overlaid with the server's
    ``launchTemplate`` overrides. ``useGroupDefaults: false`` on the server
    entry means its overrides replace the defaults entirely.
    """
    defaults = copy.deepcopy(group.get("launchConfig") or {})
    entry = find_server_config(group, server_id)
    if not entry:
        return defaults
    overrides = copy.deepcopy(entry.get("launchTemplate") or {})
    for key in ("staticPrivateIp", "instanceType", "subnetId"):
        if key in entry and key not in overrides:
            overrides[key] = entry[key]
    if entry.get("useGroupDefaults", True) is False:
        return overrides
    defaults.update(overrides)
    return defaults
