"""SERVER_CONFLICT with tag-based groups: members resolved from DRS,
checked both ways (ids vs tags, tags vs ids, tags vs tags)."""

from tests.helpers import REGION
from tests.unit.data_management.conftest import (
    SPOKE,
    db_group,
)

PG_TABLE = "PROTECTION_GROUPS_TABLE"


def _tag_group(name, **tags):
    return {"groupName": name, "region": REGION, "serverSelectionTags": tags}


def _refused_both_ways(dm, body, other):
    """Create ``body`` over REST and directly: 409 naming ``other``."""
    status, rest = dm.rest("POST", "/protection-groups", body)
    direct = dm.direct("create_protection_group", body)
    for code, answer in ((status, rest), (direct["statusCode"], direct)):
        assert code == 409, answer
        assert answer["error"] == "SERVER_CONFLICT"
        assert answer["conflictingGroupId"] == other["groupId"]
        assert answer["conflictingGroupName"] == other["groupName"]
        assert other["groupName"] in answer["message"]
    return direct


def test_id_group_conflicts_with_existing_tag_group(dm):
    # Given a tag group selecting the ERP database servers
    tags = dm.direct(
        "create_protection_group",
        _tag_group("DB by tag", Tier="Database", Application="ERP"),
    )
    assert "groupId" in tags, tags
    # When a group lists one of those servers by id
    db_id = dm.server_ids("erp-db")[1]
    body = {"groupName": "DB", "region": REGION, "sourceServerIds": [db_id]}
    answer = _refused_both_ways(dm, body, tags)
    # Then the conflict names the server; only the tag group is stored
    assert answer["serverIds"] == [db_id]
    assert len(dm.scan(PG_TABLE)) == 1


def test_tag_group_conflicts_with_existing_id_group(dm):
    # Given a group listing the database servers by id
    ids = db_group(dm)
    # When a tag group would select them too
    answer = _refused_both_ways(
        dm, _tag_group("DB by tag", Tier="Database"), ids
    )
    # Then both servers are named
    assert answer["serverIds"] == sorted(dm.server_ids("erp-db"))


def test_tag_group_conflicts_with_overlapping_tag_group(dm):
    # Given a tag group of the web tier
    web = dm.direct("create_protection_group", _tag_group("Web", Tier="Web"))
    # When a tag group selects every ERP server (web tier included)
    answer = _refused_both_ways(dm, _tag_group("ERP", Application="ERP"), web)
    # Then the web servers are the conflict
    assert answer["serverIds"] == sorted(dm.server_ids("erp-web"))
    # And a tag group that selects other servers is accepted
    status, app = dm.rest(
        "POST", "/protection-groups", _tag_group("App", Tier="Application")
    )
    assert status == 201, app


def test_same_tags_in_another_account_do_not_conflict(dm):
    # Given the hub's web tier selected by tags
    dm.direct("create_protection_group", _tag_group("Hub web", Tier="Web"))
    dm.register_spoke()
    # When the same tags select the spoke's web servers
    body = dict(_tag_group("Spoke web", Tier="Web"), accountId=SPOKE)
    status, created = dm.rest("POST", "/protection-groups", body)
    # Then there is no conflict: they are other servers
    assert status == 201, created


def test_updating_a_tag_group_into_a_conflict_is_refused(dm):
    # Given an id group of the database tier and a tag group of the web
    ids = db_group(dm)
    web = dm.direct("create_protection_group", _tag_group("Web", Tier="Web"))
    # When the tag group's tags are changed to select the database tier
    status, answer = dm.rest(
        "PUT",
        f"/protection-groups/{web['groupId']}",
        {"serverSelectionTags": {"Tier": "Database"}, "version": 1},
    )
    # Then the update is refused naming the id group; nothing changed
    assert status == 409, answer
    assert answer["conflictingGroupId"] == ids["groupId"]
    stored = dm.item(PG_TABLE, "groupId", web["groupId"])
    assert stored["serverSelectionTags"] == {"Tier": "Web"}
