"""Validation of recovery plan input (create, update, import).

Waves: non-empty, unique ``waveNumber``, a ``waveName``, existing
protection groups (``protectionGroupId``, or ``protectionGroupIds`` for a
wave of several groups, all in one region), ``dependsOnWaves`` on
existing waves without a cycle, one account per plan. A wave may hold
any number of servers (it runs as several DRS jobs, issue 16); a plan
that can never run under the deployment's DRS quotas is refused
(``shared.drs_limits``). An optional ``rpoTargetSeconds`` is the RPO the
readiness checks hold replication lag to (issue 19).
"""

import re
from typing import Any, Callable, Dict, List, Optional

import drs_lookup
from shared.config_manifest import PLAN_FIELDS as MANIFEST_PLAN_FIELDS
from shared.config_manifest import WAVE_FIELDS
from shared.drs_limits import validate_wave_sizes
from shared.errors import ValidationError
from shared.validation import (
    check_text,
    reject_unknown,
    validate_account_id,
    validate_bool,
    validate_description,
    validate_int,
    validate_name,
    validate_source_server_ids,
)
from shared.wave_servers import union_by_group, wave_group_ids

# The fields a caller sets (the manifest's accountId is derived here).
PLAN_FIELDS = tuple(
    f for f in MANIFEST_PLAN_FIELDS if f not in ("planId", "accountId")
)
# An RPO target above 30 days is a typo, not a target.
MAX_RPO_TARGET_SECONDS = 30 * 24 * 3600
# What the reference console also sends (shared.console_inputs maps its
# other names): kept on the plan (``assumeRoleName``,
# ``notificationEmail``), checked against the groups (``accountId``).
CONSOLE_PLAN_FIELDS = ("accountId", "assumeRoleName", "notificationEmail")
STORED_CONSOLE_FIELDS = ("assumeRoleName", "notificationEmail")
# Per wave: a description (kept) and the wave's servers, which must be
# its group's servers (a wave runs its whole group); not stored.
CONSOLE_WAVE_FIELDS = ("waveDescription", "serverIds")
EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,252}\.[A-Za-z]{2,63}$")
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
MAX_WAVES = 100
# A wave of several groups recovers their union (issue 20); more groups
# than this in one wave is a plan to split, not to run.
MAX_GROUPS_PER_WAVE = 20
MIXED_LOCATIONS = "MIXED_WAVE_LOCATIONS"
# The ``reason`` of a refused ``dependsOnWaves`` (400 VALIDATION_ERROR).
UNKNOWN_DEPENDENCY = "UNKNOWN_WAVE_DEPENDENCY"
SELF_DEPENDENCY = "SELF_WAVE_DEPENDENCY"
DEPENDENCY_CYCLE = "WAVE_DEPENDENCY_CYCLE"

GroupLookup = Callable[[str], Optional[Dict[str, Any]]]


def _wave(raw: Any, index: int) -> Dict[str, Any]:
    where = f"waves[{index}]"
    if not isinstance(raw, dict):
        raise ValidationError(f"{where} must be an object", field=where)
    reject_unknown(raw, WAVE_FIELDS + CONSOLE_WAVE_FIELDS, where)
    wave = {
        "waveNumber": validate_int(
            raw.get("waveNumber"), f"{where}.waveNumber", 0, 10_000
        ),
        "waveName": validate_name(raw.get("waveName"), f"{where}.waveName"),
        "pauseBeforeWave": validate_bool(
            raw.get("pauseBeforeWave", False), f"{where}.pauseBeforeWave"
        ),
    }
    group_ids = _wave_groups(raw, where)
    # protectionGroupId stays the (first) group: the seeds' field.
    wave["protectionGroupId"] = group_ids[0]
    if len(group_ids) > 1:
        wave["protectionGroupIds"] = group_ids
    # Absent stays absent: the wave then depends on the wave before it;
    # [] means "at start" (issue 17, shared.wave_graph).
    depends = raw.get("dependsOnWaves")
    if depends is not None and not isinstance(depends, list):
        raise ValidationError(
            f"{where}.dependsOnWaves must be a list of wave numbers",
            field=f"{where}.dependsOnWaves",
        )
    if depends is not None:
        wave["dependsOnWaves"] = [
            validate_int(d, f"{where}.dependsOnWaves", 0, 10_000)
            for d in depends
        ]
    description = validate_description(
        raw.get("waveDescription"), f"{where}.waveDescription"
    )
    if description:
        wave["waveDescription"] = description
    if raw.get("serverIds") is not None:
        wave["serverIds"] = validate_source_server_ids(
            raw["serverIds"], f"{where}.serverIds"
        )
    return wave


def _wave_groups(raw: Dict[str, Any], where: str) -> List[str]:
    """The wave's groups, in order, without repeats: its
    ``protectionGroupIds`` or its ``protectionGroupId``. Both: the single
    one must be one of the list (the list decides the order)."""
    single, listed = raw.get("protectionGroupId"), raw.get(
        "protectionGroupIds"
    )
    field = f"{where}.protectionGroupIds"
    ids: List[str] = []
    if listed is not None:
        if not isinstance(listed, list) or not all(
            isinstance(i, str) and i.strip() for i in listed
        ):
            raise ValidationError(
                f"{field} must be a list of protection group ids",
                field=field,
            )
        ids = list(dict.fromkeys(i.strip() for i in listed))
        if len(ids) > MAX_GROUPS_PER_WAVE:
            raise ValidationError(
                f"{field}: a wave has at most {MAX_GROUPS_PER_WAVE} "
                "protection groups",
                field=field,
            )
    if single not in (None, ""):
        if not isinstance(single, str) or not single.strip():
            raise ValidationError(
                f"{where}.protectionGroupId must be a protection group id",
                field=f"{where}.protectionGroupId",
            )
        if ids and single.strip() not in ids:
            raise ValidationError(
                f"{where}.protectionGroupId {single.strip()} is not one of "
                f"{field}: send one of them, or the same group in both",
                field=f"{where}.protectionGroupId",
            )
        ids = ids or [single.strip()]
    if not ids:
        raise ValidationError(
            f"{where}.protectionGroupId is required",
            field=f"{where}.protectionGroupId",
        )
    return ids


def _console_plan_fields(body: Dict[str, Any], plan: Dict[str, Any]) -> None:
    """The console's plan fields, typed; empty ones are left out."""
    role = body.get("assumeRoleName")
    if role not in (None, ""):
        if not isinstance(role, str) or not ROLE_NAME.match(role):
            raise ValidationError(
                "assumeRoleName must be an IAM role name",
                field="assumeRoleName",
            )
        plan["assumeRoleName"] = role
    email = body.get("notificationEmail")
    if email not in (None, ""):
        check_text(email, "notificationEmail", 320)
        if not EMAIL.match(email):
            raise ValidationError(
                "notificationEmail must be an email address",
                field="notificationEmail",
            )
        plan["notificationEmail"] = email
    account = body.get("accountId")
    if account not in (None, ""):
        plan["requestedAccountId"] = validate_account_id(account)


def _check_dependencies(waves: List[Dict[str, Any]]) -> None:
    numbers = {w["waveNumber"]: i for i, w in enumerate(waves)}
    for index, wave in enumerate(waves):
        field = f"waves[{index}].dependsOnWaves"
        for dep in wave.get("dependsOnWaves") or []:
            if dep not in numbers:
                raise ValidationError(
                    f"{field} references wave {dep}, which does not exist",
                    field=field,
                    reason=UNKNOWN_DEPENDENCY,
                    waveNumber=wave["waveNumber"],
                    dependsOn=dep,
                )
            if dep == wave["waveNumber"]:
                raise ValidationError(
                    f"{field}: wave {dep} cannot depend on itself",
                    field=field,
                    reason=SELF_DEPENDENCY,
                    waveNumber=dep,
                )
    graph = {w["waveNumber"]: w.get("dependsOnWaves") or [] for w in waves}
    done: set = set()
    for start in graph:
        path: List[int] = []
        stack = [(start, iter(graph[start]))]
        on_path = {start}
        path.append(start)
        while stack:
            node, deps = stack[-1]
            dep = next(deps, None)
            if dep is None:
                stack.pop()
                on_path.discard(node)
                path.pop()
                done.add(node)
                continue
            if dep in on_path:
                cycle = path[path.index(dep) :] + [dep]  # noqa: E203
                index = numbers[node]
                raise ValidationError(
                    "dependsOnWaves has a cycle: "
                    + " -> ".join(str(n) for n in cycle),
                    field=f"waves[{index}].dependsOnWaves",
                    reason=DEPENDENCY_CYCLE,
                    cycle=cycle,
                )
            if dep not in done:
                stack.append((dep, iter(graph[dep])))
                on_path.add(dep)
                path.append(dep)


def validate_plan_shape(body: Dict[str, Any]) -> Dict[str, Any]:
    """A complete plan's fields, normalized (no table look-ups)."""
    reject_unknown(body, PLAN_FIELDS + CONSOLE_PLAN_FIELDS)
    plan: Dict[str, Any] = {
        "planName": validate_name(body.get("planName"), "planName")
    }
    description = validate_description(body.get("description"))
    if description:
        plan["description"] = description
    rpo = body.get("rpoTargetSeconds")
    if rpo is not None:
        # None (or absent) clears it on update: readiness then checks
        # replication state only.
        plan["rpoTargetSeconds"] = validate_int(
            rpo, "rpoTargetSeconds", 1, MAX_RPO_TARGET_SECONDS
        )
    raw_waves = body.get("waves")
    if not isinstance(raw_waves, list) or not raw_waves:
        raise ValidationError("waves must be a non-empty list", field="waves")
    if len(raw_waves) > MAX_WAVES:
        raise ValidationError(
            f"a plan has at most {MAX_WAVES} waves", field="waves"
        )
    waves = [_wave(raw, i) for i, raw in enumerate(raw_waves)]
    seen: Dict[int, int] = {}
    for index, wave in enumerate(waves):
        if wave["waveNumber"] in seen:
            raise ValidationError(
                f"waves[{index}].waveNumber {wave['waveNumber']} repeats "
                f"waves[{seen[wave['waveNumber']]}]",
                field=f"waves[{index}].waveNumber",
            )
        seen[wave["waveNumber"]] = index
    _check_dependencies(waves)
    plan["waves"] = sorted(waves, key=lambda w: w["waveNumber"])
    _console_plan_fields(body, plan)
    return plan


def _check_wave_servers(
    plan: Dict[str, Any], members: Dict[str, List[str]]
) -> None:
    """A wave's ``serverIds`` (console) are its groups' servers, all of
    them: the engine runs whole groups, never a subset (400 otherwise).
    They are not stored: the groups stay the one source of membership."""
    for index, wave in enumerate(plan["waves"]):
        listed = wave.pop("serverIds", None)
        if listed is None:
            continue
        group = set(_union(wave, members))
        missing, extra = sorted(group - set(listed)), sorted(
            set(listed) - group
        )
        if missing or extra:
            raise ValidationError(
                f"waves[{index}].serverIds must be the servers of protection "
                f"group(s) {', '.join(wave_group_ids(wave))} (a wave runs "
                "whole groups)",
                field=f"waves[{index}].serverIds",
                missingServerIds=missing,
                extraServerIds=extra,
            )


def _union(wave: Dict[str, Any], members: Dict[str, List[str]]) -> List[str]:
    """The wave's servers: its groups' members, without repeats."""
    groups = ((g, members[g]) for g in wave_group_ids(wave))
    return union_by_group(groups)[0]


def _check_one_region(
    index: int, wave: Dict[str, Any], groups: Dict[str, Dict[str, Any]]
) -> None:
    """A wave's groups are in one region (one DRS job set); 400 naming
    each group's region otherwise (the account is one per plan)."""
    ids = wave_group_ids(wave)
    regions = {groups[g].get("region") or "" for g in ids}
    if len(regions) > 1:
        field = f"waves[{index}].protectionGroupIds"
        raise ValidationError(
            f"{field}: the groups of one wave must be in one region; got "
            + ", ".join(f"{g} in {groups[g].get('region')}" for g in ids)
            + " (put each region's groups in their own wave)",
            field=field,
            reason=MIXED_LOCATIONS,
        )


def check_groups_and_sizes(
    plan: Dict[str, Any],
    lookup: GroupLookup,
    members: Optional[Dict[str, List[str]]] = None,
) -> Dict[str, Any]:
    """Every wave's group exists, one account, the plan can run under the
    DRS quotas (any wave size: ``validate_wave_sizes`` plans its jobs).

    Sets ``accountId`` on the plan when its groups are in a spoke account.
    ``members`` caches ``groupId -> server ids`` (read or filled here) so
    checking several plans resolves each tag group once.
    """
    members = {} if members is None else members
    groups: Dict[str, Dict[str, Any]] = {}
    for index, wave in enumerate(plan["waves"]):
        for group_id in wave_group_ids(wave):
            group = lookup(group_id)
            if group is None:
                field = (
                    "protectionGroupIds"
                    if wave.get("protectionGroupIds")
                    else "protectionGroupId"
                )
                raise ValidationError(
                    f"waves[{index}].{field}: protection group {group_id} "
                    "does not exist",
                    field=f"waves[{index}].{field}",
                )
            groups[group_id] = group
        _check_one_region(index, wave, groups)
    accounts = sorted({g.get("accountId") or "" for g in groups.values()})
    if len(accounts) > 1:
        raise ValidationError(
            "all protection groups of a plan must be in one account; got "
            + ", ".join(a or "current account" for a in accounts),
            field="waves",
        )
    for group_id, group in groups.items():
        if group_id not in members:
            members[group_id] = drs_lookup.group_server_ids(group)
    counts = {
        wave["waveNumber"]: len(_union(wave, members))
        for wave in plan["waves"]
    }
    validate_wave_sizes(counts)
    _check_wave_servers(plan, members)
    plan.pop("accountId", None)
    if accounts[0]:
        plan["accountId"] = accounts[0]
    return plan


def check_requested_account(
    plan: Dict[str, Any], current_account: Callable[[], str]
) -> Dict[str, Any]:
    """The console's ``accountId`` names the account the plan's groups are
    in (the hub when they have none); 400 otherwise. Not stored: the
    groups decide the account."""
    requested = plan.pop("requestedAccountId", None)
    if requested is None:
        return plan
    actual = plan.get("accountId") or current_account()
    if requested != actual:
        raise ValidationError(
            f"accountId {requested} is not the account of the plan's "
            f"protection groups ({actual})",
            field="accountId",
        )
    return plan
