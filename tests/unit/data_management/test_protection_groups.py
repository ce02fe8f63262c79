"""Protection groups: CRUD, conflicts, validation, resolve, RBAC."""

from tests.helpers import REGION
from tests.unit.data_management.conftest import db_group

PG_TABLE = "PROTECTION_GROUPS_TABLE"


def test_example_1_create_group_direct_answers_documented_fields(dm):
    # Given two replicating source servers (seeds/004 Example 1)
    ids = dm.server_ids("erp-db")
    # When the group is created through a direct invocation
    created = dm.direct(
        "create_protection_group",
        {
            "groupName": "Production Web Servers",
            "region": REGION,
            "sourceServerIds": ids,
            "description": "Production web tier servers",
        },
    )
    # Then the documented fields come back and the record is stored
    for key in (
        "groupId",
        "groupName",
        "region",
        "sourceServerIds",
        "createdDate",
        "version",
    ):
        assert key in created
    assert created["sourceServerIds"] == ids
    assert created["version"] == 1
    assert isinstance(created["createdDate"], int)
    assert created["createdBy"] == "direct-invocation"
    stored = dm.item(PG_TABLE, "groupId", created["groupId"])
    assert stored["groupNameLower"] == "production web servers"
    assert "groupNameLower" not in created


def test_create_via_rest_is_201_and_records_the_user(dm):
    # Given a tag-based group body
    body = {
        "groupName": "ERP Web",
        "region": REGION,
        "serverSelectionTags": {"Tier": "Web", "Application": "ERP"},
    }
    # When an admin posts it
    status, created = dm.rest("POST", "/protection-groups", body)
    # Then it is created by that user and can be read, listed
    assert status == 201
    assert created["createdBy"] == "tester@example.com"
    status, got = dm.rest("GET", f"/protection-groups/{created['groupId']}")
    assert status == 200 and got["groupName"] == "ERP Web"
    listed = dm.direct("list_protection_groups")
    assert [g["groupId"] for g in listed["groups"]] == [created["groupId"]]


BAD_BODIES = [
    ({"region": REGION, "sourceServerIds": ["s-0"]}, "groupName"),
    ({"groupName": "x", "sourceServerIds": ["s-0"]}, "region"),
    ({"groupName": "x", "region": REGION}, "sourceServerIds"),
    (
        {
            "groupName": "x",
            "region": REGION,
            "sourceServerIds": ["s-00000000000000001"],
            "serverSelectionTags": {"a": "b"},
        },
        "sourceServerIds",
    ),
    (
        {"groupName": "x", "region": REGION, "bogus": 1},
        "bogus",
    ),
    (
        {
            "groupName": "x",
            "region": REGION,
            "sourceServerIds": ["s-00000000000000001"],
        },
        "sourceServerIds",
    ),
    (
        {
            "groupName": "x",
            "region": REGION,
            "serverSelectionTags": {"a": "b"},
            "launchConfig": {"launchDisposition": "RUNNING"},
        },
        "launchConfig.launchDisposition",
    ),
    (
        {
            "groupName": "x",
            "region": REGION,
            "serverSelectionTags": {"a": "b"},
            "launchConfig": {"color": "red"},
        },
        "color",
    ),
    (
        {
            "groupName": "x",
            "region": REGION,
            "serverSelectionTags": {"a": "b"},
            "accountId": "999999999999",
        },
        "accountId",
    ),
]


def test_bad_input_is_400_naming_the_field(dm):
    for body, field in BAD_BODIES:
        # Given an invalid body / When created directly
        answer = dm.direct("create_protection_group", body)
        # Then a VALIDATION_ERROR names the field
        assert answer["error"] == "VALIDATION_ERROR", (body, answer)
        assert answer["statusCode"] == 400
        assert answer["field"] == field, answer
    # And nothing is stored
    assert dm.direct("list_protection_groups")["count"] == 0


def test_name_conflict_is_case_insensitive(dm):
    # Given a group
    db_group(dm, "ERP Database")
    # When another group takes the same name in other case (REST)
    status, answer = dm.rest(
        "POST",
        "/protection-groups",
        {
            "groupName": "erp database",
            "region": REGION,
            "serverSelectionTags": {"Tier": "Web"},
        },
    )
    # Then 409 NAME_CONFLICT
    assert status == 409 and answer["error"] == "NAME_CONFLICT"


def test_server_conflict_names_the_other_group(dm):
    # Given a group owning the database servers
    first = db_group(dm)
    # When another group claims one of them
    answer = dm.direct(
        "create_protection_group",
        {
            "groupName": "Other",
            "region": REGION,
            "sourceServerIds": dm.server_ids("erp-db")[:1],
        },
    )
    # Then SERVER_CONFLICT names the owner
    assert answer["error"] == "SERVER_CONFLICT"
    assert answer["statusCode"] == 409
    assert answer["conflictingGroupId"] == first["groupId"]
    assert "ERP Database" in answer["message"]


def test_update_with_version_then_stale_version_conflicts(dm):
    # Given a group at version 1
    group = db_group(dm)
    gid = group["groupId"]
    # When it is updated with version 1 (REST)
    status, updated = dm.rest(
        "PUT",
        f"/protection-groups/{gid}",
        {"description": "new", "version": 1},
    )
    # Then version 2 is stored with the change
    assert status == 200, updated
    assert updated["version"] == 2 and updated["description"] == "new"
    assert updated["updatedBy"] == "tester@example.com"
    # And an update still based on version 1 is a VERSION_CONFLICT
    answer = dm.direct(
        "update_protection_group",
        {"groupId": gid, "description": "late", "version": 1},
    )
    assert answer["error"] == "VERSION_CONFLICT"
    assert dm.item(PG_TABLE, "groupId", gid)["description"] == "new"


def test_update_switches_from_ids_to_tags(dm):
    # Given an id-based group
    gid = db_group(dm)["groupId"]
    # When tags replace the ids
    updated = dm.direct(
        "update_protection_group",
        {"groupId": gid, "serverSelectionTags": {"Tier": "Database"}},
    )
    # Then the group is tag-based only
    assert updated["serverSelectionTags"] == {"Tier": "Database"}
    assert "sourceServerIds" not in updated


def test_unknown_group_is_404_in_both_shapes(dm):
    missing = "00000000-0000-4000-8000-000000000000"
    status, answer = dm.rest("GET", f"/protection-groups/{missing}")
    assert status == 404 and answer["error"] == "NOT_FOUND"
    answer = dm.direct("delete_protection_group", {"groupId": missing})
    assert answer["error"] == "NOT_FOUND" and answer["statusCode"] == 404
    answer = dm.direct(
        "update_protection_group", {"groupId": missing, "description": "x"}
    )
    assert answer["error"] == "NOT_FOUND"


def test_delete_group(dm):
    # Given a group / When deleted over REST / Then it is gone
    gid = db_group(dm)["groupId"]
    status, answer = dm.rest("DELETE", f"/protection-groups/{gid}")
    assert status == 200 and answer["deleted"] is True
    assert dm.item(PG_TABLE, "groupId", gid) is None


def test_resolve_answers_matching_servers_with_hostname_and_state(dm):
    # Given the scenario's three ERP web servers (tags Tier=Web)
    # When tags are resolved (keys/values case-insensitive, trimmed)
    status, answer = dm.rest(
        "POST",
        "/protection-groups/resolve",
        {
            "region": REGION,
            "serverSelectionTags": {" tier ": "WEB", "Application": "erp"},
        },
        groups=("DRSReadOnly",),
    )
    # Then exactly those servers come back with hostname and replication
    assert status == 200, answer
    assert answer["serverCount"] == 3
    assert sorted(s["hostname"] for s in answer["servers"]) == [
        "erp-web-01",
        "erp-web-02",
        "erp-web-03",
    ]
    assert {s["replicationState"] for s in answer["servers"]} == {"CONTINUOUS"}


def test_rbac_readonly_cannot_create_operator_cannot_delete(dm):
    gid = db_group(dm)["groupId"]
    body = {
        "groupName": "RO",
        "region": REGION,
        "serverSelectionTags": {"Tier": "Web"},
    }
    status, answer = dm.rest(
        "POST", "/protection-groups", body, groups=("DRSReadOnly",)
    )
    assert status == 403 and answer["error"] == "FORBIDDEN"
    status, answer = dm.rest(
        "DELETE", f"/protection-groups/{gid}", groups=("DRSOperator",)
    )
    assert status == 403
    assert dm.item(PG_TABLE, "groupId", gid) is not None
    status, _ = dm.rest(
        "GET", f"/protection-groups/{gid}", groups=("DRSReadOnly",)
    )
    assert status == 200
