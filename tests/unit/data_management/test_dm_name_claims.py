"""Names are claimed atomically with the item (shared.name_claims).

Two creates of one name race deterministically: the scan-based check of
the second one is made to see an empty table, so only the claim written
in the transaction can stop it.
"""

import protection_groups
import recovery_plans
from tests.helpers import REGION
from tests.unit.data_management.conftest import db_group
from tests.unit.data_management.test_config_import import _manifest
from tests.unit.data_management.test_dm_concurrent_writes import (
    fail_the_plan_write,
)

PG_TABLE = "PROTECTION_GROUPS_TABLE"
RP_TABLE = "RECOVERY_PLANS_TABLE"


def _blind(monkeypatch, module):
    """The module's scan-based name check sees an empty table."""
    monkeypatch.setattr(module, "list_items", lambda table: [])


def _group_body(dm, name):
    return {
        "groupName": name,
        "region": REGION,
        "sourceServerIds": dm.server_ids("erp-db"),
    }


def _plan_body(name, group_id):
    wave = {"waveNumber": 1, "waveName": "db", "protectionGroupId": group_id}
    return {"planName": name, "waves": [wave]}


def test_racing_group_creates_of_one_name_only_one_wins(dm, monkeypatch):
    # Given a group "Payroll" just created
    first = db_group(dm, "Payroll")
    # When a second create of " payroll" races it (its scan saw nothing)
    _blind(monkeypatch, protection_groups)
    answer = dm.direct("create_protection_group", _group_body(dm, "payroll "))
    # Then it is refused NAME_CONFLICT naming the first; one group stored
    assert answer["error"] == "NAME_CONFLICT", answer
    assert answer["statusCode"] == 409
    assert answer["groupId"] == first["groupId"]
    assert [g["groupId"] for g in dm.scan(PG_TABLE)] == [first["groupId"]]


def test_racing_plan_creates_of_one_name_only_one_wins(dm, monkeypatch):
    # Given a group and a plan "DR" just created
    group = db_group(dm)
    first = dm.direct(
        "create_recovery_plan", _plan_body("DR", group["groupId"])
    )
    assert "planId" in first, first
    # When a second create of "dr" races it (its scan saw nothing)
    _blind(monkeypatch, recovery_plans)
    answer = dm.direct(
        "create_recovery_plan", _plan_body("dr", group["groupId"])
    )
    # Then it is refused NAME_CONFLICT; one plan stored
    assert answer["error"] == "NAME_CONFLICT", answer
    assert answer["planId"] == first["planId"]
    assert len(dm.scan(RP_TABLE)) == 1


def test_rename_frees_the_old_name_and_takes_the_new(dm, monkeypatch):
    # Given group "Alpha" renamed "Beta"
    alpha = db_group(dm, "Alpha")
    renamed = dm.direct(
        "update_protection_group",
        {"groupId": alpha["groupId"], "groupName": "Beta", "version": 1},
    )
    assert renamed["groupName"] == "Beta", renamed
    assert dm.claims(PG_TABLE) == {"name#group#beta": alpha["groupId"]}
    # When racing creates (scan seeing nothing) take "beta" and "alpha"
    _blind(monkeypatch, protection_groups)
    taken = dm.direct("create_protection_group", _group_body(dm, "beta"))
    freed = dm.direct("create_protection_group", _group_body(dm, "alpha"))
    # Then "beta" is refused and "alpha" is free again
    assert taken["error"] == "NAME_CONFLICT", taken
    assert freed["groupName"] == "alpha", freed
    assert dm.claims(PG_TABLE) == {
        "name#group#beta": alpha["groupId"],
        "name#group#alpha": freed["groupId"],
    }


def test_delete_frees_the_name(dm, monkeypatch):
    # Given group "Alpha" and plan "DR", then both deleted
    group = db_group(dm, "Alpha")
    plan = dm.direct(
        "create_recovery_plan", _plan_body("DR", group["groupId"])
    )
    assert dm.claims(RP_TABLE) == {"name#plan#dr": plan["planId"]}
    assert dm.direct("delete_recovery_plan", {"planId": plan["planId"]})[
        "deleted"
    ]
    assert dm.direct("delete_protection_group", {"groupId": group["groupId"]})[
        "deleted"
    ]
    assert dm.claims(PG_TABLE) == {} and dm.claims(RP_TABLE) == {}
    # When a racing create (scan seeing nothing) takes "alpha"
    _blind(monkeypatch, protection_groups)
    again = dm.direct("create_protection_group", _group_body(dm, "alpha"))
    # Then it succeeds and holds the claim
    assert dm.claims(PG_TABLE) == {"name#group#alpha": again["groupId"]}


def test_an_item_stored_before_claims_gets_its_claim_on_update(dm):
    # Given a group stored without a claim (before claims existed)
    group = db_group(dm, "Legacy")
    dm.tables[PG_TABLE].delete_item(Key={"groupId": "name#group#legacy"})
    # When it is updated without a rename
    dm.direct(
        "update_protection_group",
        {"groupId": group["groupId"], "description": "x"},
    )
    # Then its name is claimed
    assert dm.claims(PG_TABLE) == {"name#group#legacy": group["groupId"]}


def test_listings_and_reads_never_show_claims(dm):
    # Given a group and a plan (and their claims)
    group = db_group(dm, "Alpha")
    dm.direct("create_recovery_plan", _plan_body("DR", group["groupId"]))
    assert dm.claims(PG_TABLE) and dm.claims(RP_TABLE)
    # When listed, and a claim key is read as an id
    groups = dm.direct("list_protection_groups")
    plans = dm.direct("list_recovery_plans")
    read = dm.direct("get_protection_group", {"groupId": "name#group#alpha"})
    # Then only the items are listed and the claim is not found
    assert [g["groupName"] for g in groups["groups"]] == ["Alpha"]
    assert groups["count"] == 1
    assert [p["planName"] for p in plans["plans"]] == ["DR"]
    assert read["error"] == "NOT_FOUND", read


def test_import_claims_the_names_it_writes(dm):
    # When a manifest of two groups and a plan is imported
    answer = dm.direct("import_configuration", {"manifest": _manifest(dm)})
    # Then each created item holds the claim on its name
    assert answer["imported"], answer
    ids = {g["groupName"]: g["groupId"] for g in dm.scan(PG_TABLE)}
    assert dm.claims(PG_TABLE) == {
        "name#group#db": ids["DB"],
        "name#group#web": ids["Web"],
    }
    [plan] = dm.scan(RP_TABLE)
    assert dm.claims(RP_TABLE) == {"name#plan#dr": plan["planId"]}


def test_import_rollback_gives_the_claims_back(dm, monkeypatch):
    # Given a stored group "Old DB" the manifest renames "DB", and a
    # racer holding the plan's id so the last transaction fails
    stored = db_group(dm, "Old DB")
    manifest = _manifest(dm)
    manifest["protectionGroups"][0]["groupId"] = stored["groupId"]
    manifest["recoveryPlans"][0]["waves"][0]["protectionGroupId"] = stored[
        "groupId"
    ]
    fail_the_plan_write(dm, monkeypatch)
    # When imported
    answer = dm.direct("import_configuration", {"manifest": manifest})
    # Then it is rolled back: the old name is claimed again, no other
    assert answer["error"] == "VERSION_CONFLICT", answer
    assert "rollbackFailures" not in answer
    assert dm.claims(PG_TABLE) == {"name#group#old db": stored["groupId"]}
    assert dm.claims(RP_TABLE) == {}
