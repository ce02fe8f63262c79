"""Plan definitions (YAML/JSON) and setting them up through the API.

A definition names target accounts, protection groups (by tags, by
hostnames or by source server ids) and one or more plans of waves::

    targetAccounts:
      - accountId: "210987654321"     # role/ExternalId from the scenario
    protectionGroups:
      - key: database
        groupName: three-tier-database
        region: us-east-1
        serverSelectionTags: {Tier: database}
    plans:
      - planName: three-tier-drill
        waves:
          - waveName: Database tier
            protectionGroup: database
            pauseBeforeWave: false

A single plan may also be written with ``planName``/``waves`` at the top
level. A plan's groups are all in one account (the data-management
handler's rule), so a drill across accounts is one plan per account.
``setup_plans`` creates everything with direct invocations and returns the
ids. Names get a run suffix so a second drill on one cloud cannot collide.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .invoker import Invoker

DEFAULT_PLAN = Path(__file__).resolve().parents[2] / (
    "plans/three-tier-plan.yaml"
)
GROUP_KEYS = {
    "key",
    "groupName",
    "description",
    "region",
    "accountId",
    "serverSelectionTags",
    "sourceServerIds",
    "hostnames",
    "launchConfig",
}
PLAN_KEYS = {"planName", "description", "waves"}
WAVE_KEYS = {
    "waveName",
    "protectionGroup",
    "pauseBeforeWave",
    "dependsOnWaves",
}


class PlanError(ValueError):
    """A plan definition is invalid; the message names the key."""


@dataclass
class PlanSetup:
    """What ``setup_plan`` created."""

    plan_id: str
    plan_name: str
    group_ids: dict[str, str] = field(default_factory=dict)
    accounts: list[str] = field(default_factory=list)
    servers: dict[str, str] = field(default_factory=dict)  # id -> hostname


def load_plan(path: str | Path = DEFAULT_PLAN) -> dict[str, Any]:
    """Read and check a plan definition (``.json`` or YAML)."""
    path = Path(path)
    try:
        text = path.read_text()
        data = (
            json.loads(text)
            if path.suffix == ".json"
            else yaml.safe_load(text)
        )
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise PlanError(f"{path}: cannot read: {exc}") from exc
    try:
        check_plan(data)
    except PlanError as exc:
        raise PlanError(f"{path}: {exc}") from exc
    return data


def _unknown(data: dict, allowed: set, where: str) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise PlanError(f"{where}.{extra[0]}: unknown key")


def plans_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The plans of a definition (single-plan form included)."""
    if "plans" in data:
        return list(data["plans"])
    return [{k: data[k] for k in PLAN_KEYS if k in data}]


def check_plan(data: Any) -> None:
    """Raise ``PlanError`` naming the first problem of a definition."""
    if not isinstance(data, dict):
        raise PlanError("$: expected a mapping")
    _unknown(
        data, PLAN_KEYS | {"targetAccounts", "protectionGroups", "plans"}, "$"
    )
    if ("plans" in data) == ("waves" in data):
        raise PlanError("$: exactly one of plans, waves")
    if "plans" in data and (
        not isinstance(data["plans"], list) or not data["plans"]
    ):
        raise PlanError("$.plans: required non-empty list")
    groups = data.get("protectionGroups")
    if not isinstance(groups, list) or not groups:
        raise PlanError("$.protectionGroups: required non-empty list")
    keys = set()
    for i, group in enumerate(groups):
        where = f"protectionGroups[{i}]"
        if not isinstance(group, dict):
            raise PlanError(f"{where}: expected a mapping")
        _unknown(group, GROUP_KEYS, where)
        for name in ("key", "groupName", "region"):
            if not isinstance(group.get(name), str):
                raise PlanError(f"{where}.{name}: required string")
        selectors = [
            k
            for k in ("serverSelectionTags", "sourceServerIds", "hostnames")
            if k in group
        ]
        if len(selectors) != 1:
            raise PlanError(
                f"{where}: exactly one of serverSelectionTags, "
                "sourceServerIds, hostnames"
            )
        keys.add(group["key"])
    for p, plan in enumerate(plans_of(data)):
        where = f"plans[{p}]" if "plans" in data else "$"
        if not isinstance(plan, dict):
            raise PlanError(f"{where}: expected a mapping")
        _unknown(plan, PLAN_KEYS, where)
        if not isinstance(plan.get("planName"), str):
            raise PlanError(f"{where}.planName: required string")
        _check_waves(plan.get("waves"), keys, where)


def _check_waves(waves: Any, keys: set, where_plan: str) -> None:
    if not isinstance(waves, list) or not waves:
        raise PlanError(f"{where_plan}.waves: required non-empty list")
    prefix = "" if where_plan == "$" else where_plan + "."
    for i, wave in enumerate(waves):
        where = f"{prefix}waves[{i}]"
        if not isinstance(wave, dict):
            raise PlanError(f"{where}: expected a mapping")
        _unknown(wave, WAVE_KEYS, where)
        if wave.get("protectionGroup") not in keys:
            raise PlanError(
                f"{where}.protectionGroup: no protection group with key "
                f"{wave.get('protectionGroup')!r}"
            )


def _spoke_defaults(scenario: Any) -> dict[str, dict[str, Any]]:
    """accountId -> {roleArn, externalId, accountName} from a scenario."""
    found = {}
    for account in getattr(scenario, "spokes", []) or []:
        role = account.cross_account_role or ""
        if role and not role.startswith("arn:"):
            role = f"arn:aws:iam::{account.account_id}:role/{role}"
        found[account.account_id] = {
            "accountName": account.name,
            "roleArn": role,
            "externalId": account.external_id,
        }
    return found


def register_accounts(
    api: Invoker, plan: dict[str, Any], scenario: Any = None
) -> list[str]:
    """Register the plan's target accounts (idempotent on conflict)."""
    from .invoker import ApiError

    defaults = _spoke_defaults(scenario)
    registered = []
    for entry in plan.get("targetAccounts") or []:
        account_id = str(entry["accountId"])
        body = {"accountId": account_id}
        body.update(
            {k: v for k, v in defaults.get(account_id, {}).items() if v}
        )
        body.update({k: v for k, v in entry.items() if v is not None})
        body["accountId"] = account_id
        try:
            api.data("create_target_account", body)
        except ApiError as error:
            if error.status != 409:
                raise
        registered.append(account_id)
    return registered


def _resolve_hostnames(
    api: Invoker, group: dict[str, Any], seen: dict[str, str]
) -> list[str]:
    query = {"region": group["region"]}
    if group.get("accountId"):
        query["accountId"] = str(group["accountId"])
    listing = api.query("get_drs_source_servers", query=query)
    by_host = {
        s.get("hostname"): s.get("sourceServerID")
        for s in listing.get("servers", [])
    }
    missing = [h for h in group["hostnames"] if h not in by_host]
    if missing:
        raise PlanError(
            f"protection group {group['key']}: no source server named "
            + ", ".join(missing)
        )
    for host in group["hostnames"]:
        seen[by_host[host]] = host
    return [by_host[h] for h in group["hostnames"]]


def create_groups(
    api: Invoker, definition: dict[str, Any], suffix: str
) -> tuple[dict[str, str], dict[str, str]]:
    """Create the protection groups: (key -> groupId, id -> hostname)."""
    servers: dict[str, str] = {}
    group_ids = {}
    for group in definition["protectionGroups"]:
        body = {
            k: v for k, v in group.items() if k not in ("key", "hostnames")
        }
        body["groupName"] = group["groupName"] + suffix
        if "accountId" in body:
            body["accountId"] = str(body["accountId"])
        if "hostnames" in group:
            body["sourceServerIds"] = _resolve_hostnames(api, group, servers)
        created = api.data("create_protection_group", body)
        group_ids[group["key"]] = created["groupId"]
    return group_ids, servers


def create_plan(
    api: Invoker,
    plan: dict[str, Any],
    group_ids: dict[str, str],
    suffix: str,
) -> tuple[str, str]:
    """Create one recovery plan; return (planId, planName)."""
    waves = []
    for number, wave in enumerate(plan["waves"], start=1):
        entry = {
            "waveNumber": number,
            "waveName": wave.get("waveName") or f"Wave {number}",
            "protectionGroupId": group_ids[wave["protectionGroup"]],
            "pauseBeforeWave": bool(wave.get("pauseBeforeWave", False)),
        }
        if wave.get("dependsOnWaves") is not None:
            # [] too: "starts with the execution" in a graph plan
            entry["dependsOnWaves"] = list(wave["dependsOnWaves"])
        waves.append(entry)
    name = plan["planName"] + suffix
    created = api.data(
        "create_recovery_plan",
        {
            "planName": name,
            "description": plan.get("description", "drill plan"),
            "waves": waves,
        },
    )
    return created["planId"], name


def setup_plans(
    api: Invoker,
    definition: dict[str, Any],
    scenario: Any = None,
    suffix: str = "",
) -> list[PlanSetup]:
    """Create accounts, groups and every plan; return their ids."""
    accounts = register_accounts(api, definition, scenario)
    group_ids, servers = create_groups(api, definition, suffix)
    setups = []
    for plan in plans_of(definition):
        plan_id, name = create_plan(api, plan, group_ids, suffix)
        setups.append(
            PlanSetup(
                plan_id=plan_id,
                plan_name=name,
                group_ids=group_ids,
                accounts=accounts,
                servers=servers,
            )
        )
    return setups
