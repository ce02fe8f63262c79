"""Import: dry run, create/update/skip, all-or-nothing, round trip."""

import copy

from shared.config_manifest import build_manifest
from shared.responses import to_jsonable
from tests.helpers import REGION
from tests.unit.data_management.conftest import db_group

PG_TABLE = "PROTECTION_GROUPS_TABLE"
RP_TABLE = "RECOVERY_PLANS_TABLE"


def _manifest(dm):
    return {
        "version": 1,
        "protectionGroups": [
            {
                "groupId": "m-db",
                "groupName": "DB",
                "region": REGION,
                "sourceServerIds": dm.server_ids("erp-db"),
            },
            {
                "groupId": "m-web",
                "groupName": "Web",
                "region": REGION,
                "serverSelectionTags": {"Tier": "Web"},
            },
        ],
        "recoveryPlans": [
            {
                "planName": "DR",
                "waves": [
                    {
                        "waveNumber": 1,
                        "waveName": "db",
                        "protectionGroupId": "m-db",
                    },
                    {
                        "waveNumber": 2,
                        "waveName": "web",
                        "protectionGroupId": "m-web",
                        "dependsOnWaves": [1],
                    },
                ],
            }
        ],
    }


def _count(dm, env):
    return len(dm.scan(env))


def test_dry_run_reports_and_writes_nothing_then_import_writes(dm):
    manifest = _manifest(dm)
    # When a dry run is posted (the manifest itself as the body)
    status, dry = dm.rest(
        "POST", "/config/import", dict(manifest, dryRun=True)
    )
    # Then it reports creates and writes nothing
    assert status == 200, dry
    assert _counts(dry) == {"create": 3, "update": 0, "skip": 0}
    assert _count(dm, PG_TABLE) == 0 and _count(dm, RP_TABLE) == 0
    # When imported for real (direct, wrapped)
    done = dm.direct("import_configuration", {"manifest": manifest})
    assert done["imported"] is True, done
    # Then groups and the plan exist, waves point at the new group ids
    groups = {g["groupName"]: g for g in dm.scan(PG_TABLE)}
    plan = dm.scan(RP_TABLE)[0]
    assert [w["protectionGroupId"] for w in plan["waves"]] == [
        groups["DB"]["groupId"],
        groups["Web"]["groupId"],
    ]
    assert plan["createdBy"] == "direct-invocation"
    # And importing the same again skips everything
    again = dm.direct("import_configuration", {"manifest": manifest})
    assert _counts(again) == {"create": 0, "update": 0, "skip": 3}, again


def test_export_round_trip_updates_changed_items_only(dm):
    # Given stored config exported with build_manifest
    dm.direct("import_configuration", {"manifest": _manifest(dm)})
    groups = dm.scan(PG_TABLE)
    plans = dm.scan(RP_TABLE)
    exported = to_jsonable(build_manifest(groups, plans))
    exported["protectionGroups"][0]["description"] = "changed"
    # When re-imported
    result = dm.direct("import_configuration", {"manifest": exported})
    # Then only the changed group is updated (version bumped)
    assert _counts(result) == {"create": 0, "update": 1, "skip": 2}, result
    db = [g for g in dm.scan(PG_TABLE) if g["groupName"] == "DB"]
    assert db[0]["description"] == "changed" and db[0]["version"] == 2


def test_invalid_item_rejects_the_whole_import(dm):
    manifest = _manifest(dm)
    bad = copy.deepcopy(manifest)
    bad["recoveryPlans"][0]["waves"][1]["dependsOnWaves"] = [9]
    answer = dm.direct("import_configuration", {"manifest": bad})
    assert answer["error"] == "VALIDATION_ERROR", answer
    assert answer["field"] == "recoveryPlans[0].waves[1].dependsOnWaves"
    assert _count(dm, PG_TABLE) == 0 and _count(dm, RP_TABLE) == 0
    # A name clash with a stored group's servers is a SERVER_CONFLICT
    db_group(dm, "Existing")
    answer = dm.direct("import_configuration", {"manifest": manifest})
    assert answer["error"] == "SERVER_CONFLICT"
    assert answer["item"] == "protectionGroups[0]"
    assert _count(dm, PG_TABLE) == 1 and _count(dm, RP_TABLE) == 0
    # A malformed manifest names the field
    status, answer = dm.rest(
        "POST", "/config/import", {"manifest": {"version": 3}}
    )
    assert status == 400 and answer["field"] == "version"


def test_failed_later_chunk_rolls_back_earlier_chunks(dm, monkeypatch):
    # Given the transaction size forced to one item per chunk, and a
    # concurrent writer that takes the plan's id slot before chunk 3
    import config_import

    monkeypatch.setattr(config_import, "TRANSACTION_LIMIT", 1)
    original = config_import.write_changes

    def racing(group_changes, plan_changes):
        table = dm.tables[RP_TABLE]
        plan_id = plan_changes[0]["item"]["planId"]
        table.put_item(Item={"planId": plan_id, "planName": "racer"})
        return original(group_changes, plan_changes)

    monkeypatch.setattr(config_import, "write_changes", racing)
    # When imported
    answer = dm.direct("import_configuration", {"manifest": _manifest(dm)})
    # Then a conflict is reported and the two groups written are gone
    assert answer["error"] == "VERSION_CONFLICT", answer
    assert _count(dm, PG_TABLE) == 0


def test_rbac_manage_configuration_needed(dm):
    status, _ = dm.rest(
        "POST",
        "/config/import",
        dict(_manifest(dm), dryRun=True),
        groups=("DRSPlanManager",),
    )
    assert status == 403


def _counts(answer):
    """Our summary counts (the console's per-type counts are beside)."""
    return {k: answer["summary"][k] for k in ("create", "update", "skip")}
