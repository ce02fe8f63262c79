"""Writes that race another writer: what the interleaving must leave.

Each race is made deterministic by a table wrapper that runs the other
writer's change right before the write under test reaches DynamoDB.
"""

from typing import Any, Callable

from protection_groups import update_group
from shared.launch_config_status import record_launch_config_status
from tests.unit.data_management.conftest import db_group

PG_TABLE = "PROTECTION_GROUPS_TABLE"
WRITES = ("put_item", "update_item", "delete_item")


class RacedTable:
    """A table whose first write is preceded by ``meanwhile()``."""

    def __init__(self, table: Any, meanwhile: Callable[[], None]):
        self._table = table
        self._meanwhile = meanwhile
        self.raced = False

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._table, name)
        if name not in WRITES or self.raced:
            return attribute

        def write(*args, **kwargs):
            self.raced = True
            self._meanwhile()
            return attribute(*args, **kwargs)

        return write


def test_group_update_keeps_a_status_recorded_after_its_read(dm):
    # Given a group, and a recovery recording a server's launch-config
    # status between the update's read and its write
    group = db_group(dm)
    server_id = group["sourceServerIds"][0]
    table = dm.tables[PG_TABLE]
    outcome = {"sourceServerId": server_id, "status": "APPLIED"}

    def recovery_records():
        assert record_launch_config_status(
            group, [outcome], "recovery:exec-1", table=table
        )

    raced = RacedTable(table, recovery_records)
    # When the group's description is updated
    updated = update_group(
        group["groupId"], {"description": "moved"}, "tester", table=raced
    )
    # Then the update landed and the recorded status is still stored
    assert raced.raced
    stored = dm.item(PG_TABLE, "groupId", group["groupId"])
    assert stored["description"] == "moved"
    assert stored["version"] == 2
    entry = stored["launchConfigStatus"][server_id]
    assert entry["source"] == "recovery:exec-1"
    assert updated["launchConfigStatus"][server_id]["status"] == "APPLIED"


def test_group_update_removes_fields_the_update_drops(dm):
    # Given a group with a description
    group = db_group(dm, description="old")
    # When an update switches it to tags (dropping sourceServerIds)
    update_group(
        group["groupId"],
        {"serverSelectionTags": {"Tier": "Database"}, "description": "x"},
        "tester",
        table=dm.tables[PG_TABLE],
    )
    # Then the stored item has no sourceServerIds left
    stored = dm.item(PG_TABLE, "groupId", group["groupId"])
    assert "sourceServerIds" not in stored
    assert stored["serverSelectionTags"] == {"Tier": "Database"}
