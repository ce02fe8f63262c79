"""The configuration manifest: export format of ``/config/export`` and
input of ``/config/import``.

One place defines it so the exporter (query-handler) and the importer
(data-management-handler) agree::

    {"version": 1, "exportedAt": "...",        # exportedAt optional
     "protectionGroups": [{groupId, groupName, region, ...}],
     "recoveryPlans": [{planId, planName, waves, ...}]}

Only configuration travels: bookkeeping fields (``version``, dates,
``createdBy``, the normalized ``*Lower`` names, ``launchConfigStatus``) are
stripped by :func:`build_manifest`. Ids travel so that plan waves can
reference the manifest's groups (``protectionGroupId``, and
``protectionGroupIds`` for a wave of several groups); the importer maps
them to the groups it matches by name or creates.
"""

import copy
from typing import Any, Dict, Iterable, List, Optional

from shared.errors import ValidationError

MANIFEST_VERSION = 1

# Fields of a protection group / recovery plan that are configuration.
GROUP_FIELDS = (
    "groupId",
    "groupName",
    "description",
    "region",
    "accountId",
    "assumeRoleName",
    "sourceServerIds",
    "serverSelectionTags",
    "launchConfig",
    "servers",
)
PLAN_FIELDS = (
    "planId",
    "planName",
    "description",
    "accountId",
    "waves",
    # The RPO the readiness checks hold replication lag to (issue 19).
    "rpoTargetSeconds",
)
WAVE_FIELDS = (
    "waveNumber",
    "waveName",
    "protectionGroupId",
    # A wave of several groups (issue 20); ids mapped like
    # protectionGroupId on import.
    "protectionGroupIds",
    "pauseBeforeWave",
    "dependsOnWaves",
)
TOP_LEVEL_FIELDS = (
    "version",
    "exportedAt",
    "protectionGroups",
    "recoveryPlans",
)


def _pick(item: Dict[str, Any], allowed: Iterable[str]) -> Dict[str, Any]:
    return {
        key: copy.deepcopy(item[key])
        for key in allowed
        if key in item and item[key] is not None
    }


def export_group(group: Dict[str, Any]) -> Dict[str, Any]:
    """A stored protection group reduced to its configuration."""
    return _pick(group, GROUP_FIELDS)


def export_plan(plan: Dict[str, Any]) -> Dict[str, Any]:
    """A stored recovery plan reduced to its configuration."""
    exported = _pick(plan, PLAN_FIELDS)
    exported["waves"] = [
        _pick(wave, WAVE_FIELDS) for wave in plan.get("waves") or []
    ]
    return exported


def build_manifest(
    groups: Iterable[Dict[str, Any]],
    plans: Iterable[Dict[str, Any]],
    exported_at: Optional[str] = None,
) -> Dict[str, Any]:
    """The manifest of stored groups and plans, sorted by name.

    Items may come straight from DynamoDB (Decimals are kept; serialize
    with ``shared.responses.to_jsonable``).
    """
    manifest: Dict[str, Any] = {"version": MANIFEST_VERSION}
    if exported_at:
        manifest["exportedAt"] = exported_at
    manifest["protectionGroups"] = sorted(
        (export_group(g) for g in groups),
        key=lambda g: str(g.get("groupName", "")).lower(),
    )
    manifest["recoveryPlans"] = sorted(
        (export_plan(p) for p in plans),
        key=lambda p: str(p.get("planName", "")).lower(),
    )
    return manifest


def _unknown(item: Dict[str, Any], allowed: Iterable[str], where: str):
    unknown = sorted(set(item) - set(allowed))
    if unknown:
        raise ValidationError(
            f"unknown field(s) in {where}: {', '.join(unknown)}",
            field=f"{where}.{unknown[0]}",
        )


def _items(doc: Dict[str, Any], key: str) -> List[Dict[str, Any]]:
    items = doc.get(key, [])
    if not isinstance(items, list):
        raise ValidationError(f"{key} must be a list", field=key)
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValidationError(
                f"{key}[{index}] must be an object", field=f"{key}[{index}]"
            )
    return items


def _require_text(item: Dict[str, Any], name: str, where: str) -> str:
    value = item.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(
            f"{where}.{name} is required", field=f"{where}.{name}"
        )
    return value.strip()


def _check_unique(values: List[Any], key: str, name: str) -> None:
    seen: Dict[str, int] = {}
    for index, value in enumerate(values):
        if value is None:
            continue
        lowered = str(value).lower()
        if lowered in seen:
            raise ValidationError(
                f"{key}[{index}].{name} {value!r} repeats "
                f"{key}[{seen[lowered]}]",
                field=f"{key}[{index}].{name}",
            )
        seen[lowered] = index


def validate_manifest(doc: Any) -> Dict[str, Any]:
    """Check a manifest's structure; return it.

    Structure only (version, lists, required names, unknown fields,
    duplicate names or ids). The importer validates each item's content with
    the same rules as create. Raises ``ValidationError`` naming the field.
    """
    if not isinstance(doc, dict):
        raise ValidationError("manifest must be an object", field="manifest")
    _unknown(doc, TOP_LEVEL_FIELDS, "manifest")
    if doc.get("version") != MANIFEST_VERSION:
        raise ValidationError(
            f"manifest version must be {MANIFEST_VERSION}", field="version"
        )
    groups = _items(doc, "protectionGroups")
    plans = _items(doc, "recoveryPlans")
    group_names = []
    for index, group in enumerate(groups):
        where = f"protectionGroups[{index}]"
        _unknown(group, GROUP_FIELDS, where)
        group_names.append(_require_text(group, "groupName", where))
    plan_names = []
    for index, plan in enumerate(plans):
        where = f"recoveryPlans[{index}]"
        _unknown(plan, PLAN_FIELDS, where)
        plan_names.append(_require_text(plan, "planName", where))
        waves = plan.get("waves")
        if not isinstance(waves, list) or not waves:
            raise ValidationError(
                f"{where}.waves must be a non-empty list",
                field=f"{where}.waves",
            )
        for number, wave in enumerate(waves):
            if not isinstance(wave, dict):
                raise ValidationError(
                    f"{where}.waves[{number}] must be an object",
                    field=f"{where}.waves[{number}]",
                )
            _unknown(wave, WAVE_FIELDS, f"{where}.waves[{number}]")
    _check_unique(group_names, "protectionGroups", "groupName")
    _check_unique(plan_names, "recoveryPlans", "planName")
    _check_unique(
        [g.get("groupId") for g in groups],
        "protectionGroups",
        "groupId",
    )
    _check_unique(
        [p.get("planId") for p in plans],
        "recoveryPlans",
        "planId",
    )
    return doc
