"""Writes that race another writer: what the interleaving must leave.

Each race is made deterministic by a table wrapper that runs the other
writer's change right before the write under test reaches DynamoDB.
"""

from types import SimpleNamespace
from typing import Any, Callable, Optional, Tuple

from botocore.exceptions import ClientError

import config_import
from protection_groups import update_group
from shared.launch_config_status import record_launch_config_status
from tests.unit.data_management.conftest import db_group
from tests.unit.data_management.test_config_import import _manifest

PG_TABLE = "PROTECTION_GROUPS_TABLE"
RP_TABLE = "RECOVERY_PLANS_TABLE"
WRITES = ("put_item", "update_item", "delete_item")
TRANSACT = "transact_write_items"


class RacedTable:
    """A table (or client) whose first write is preceded by
    ``meanwhile()``."""

    def __init__(
        self,
        table: Any,
        meanwhile: Callable[[], None],
        writes: Tuple[str, ...] = WRITES,
    ):
        self._table = table
        self._meanwhile = meanwhile
        self._writes = writes
        self.raced = False

    def _race(self) -> None:
        if not self.raced:
            self.raced = True
            self._meanwhile()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._table, name)
        if name == "meta" and TRANSACT in self._writes:
            # Transactions go through the table's client.
            client = RacedTable(attribute.client, self._race, (TRANSACT,))
            return SimpleNamespace(client=client)
        if name not in self._writes or self.raced:
            return attribute

        def write(*args, **kwargs):
            self._race()
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

    raced = RacedTable(table, recovery_records, WRITES + (TRANSACT,))
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


def fail_the_plan_write(dm, monkeypatch):
    """Import one item per transaction, a racer taking the plan's id just
    before it is written, so the plan's transaction (the last) fails."""
    monkeypatch.setattr(config_import, "TRANSACTION_LIMIT", 1)
    original = config_import.write_changes

    def racing(group_changes, plan_changes):
        plan_id = plan_changes[0]["item"]["planId"]
        dm.tables[RP_TABLE].put_item(
            Item={"planId": plan_id, "planName": "racer"}
        )
        return original(group_changes, plan_changes)

    monkeypatch.setattr(config_import, "write_changes", racing)


def _import_failing_at_the_plan(dm, monkeypatch, meanwhile=None):
    """Import ``_manifest`` one item per transaction, a racer holding the
    plan's id so the last chunk fails; ``meanwhile`` runs before the
    rollback's first write to the groups table. The import's answer."""
    groups = dm.tables[PG_TABLE]
    if meanwhile is not None:
        raced = RacedTable(groups, meanwhile)
        monkeypatch.setattr(
            config_import, "protection_groups_table", lambda: raced
        )
    fail_the_plan_write(dm, monkeypatch)
    return dm.direct("import_configuration", {"manifest": _manifest(dm)})


def _stored_group(dm, name: str) -> Optional[dict]:
    items = dm.scan(PG_TABLE)
    return next((g for g in items if g["groupName"] == name), None)


def test_a_failed_undo_does_not_stop_the_rest_of_the_rollback(dm, monkeypatch):
    # Given an import whose last chunk fails, and the rollback's first
    # undo (the second group's delete) failing
    def throttled():
        raise ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "slow"}},
            "DeleteItem",
        )

    # When imported
    answer = _import_failing_at_the_plan(dm, monkeypatch, throttled)
    # Then the first group is still rolled back and the one left is named
    assert answer["error"] == "VERSION_CONFLICT", answer
    assert _stored_group(dm, "DB") is None
    left = _stored_group(dm, "Web")
    assert left is not None
    assert answer["rollbackFailures"] == [
        {
            "groupId": left["groupId"],
            "item": "protectionGroups[1]",
            "action": "create",
            "reason": "UNDO_FAILED",
            "detail": answer["rollbackFailures"][0]["detail"],
        }
    ]
    assert "rollback left 1 item" in answer["message"]


def test_rollback_keeps_a_change_made_after_the_import_wrote(dm, monkeypatch):
    # Given a stored group the import updates, changed by someone else
    # after the import wrote it and before the rollback
    stored = db_group(dm, "DB", description="old")
    table = dm.tables[PG_TABLE]

    def someone_edits():
        table.update_item(
            Key={"groupId": stored["groupId"]},
            UpdateExpression="SET description = :d, version = :v",
            ExpressionAttributeValues={":d": "theirs", ":v": 3},
        )

    # When the import fails at the plan and rolls back
    answer = _import_failing_at_the_plan(dm, monkeypatch, someone_edits)
    # Then their change is kept and reported; the created group is gone
    assert answer["error"] == "VERSION_CONFLICT", answer
    kept = dm.item(PG_TABLE, "groupId", stored["groupId"])
    assert kept["description"] == "theirs" and kept["version"] == 3
    assert _stored_group(dm, "Web") is None
    [failure] = answer["rollbackFailures"]
    assert failure["groupId"] == stored["groupId"]
    assert failure["reason"] == "CHANGED_SINCE"
    assert failure["action"] == "update"


def test_rollback_restores_an_untouched_update(dm, monkeypatch):
    # Given a stored group the import updates (tags instead of ids)
    stored = db_group(dm, "DB", description="mine")
    # When the import fails at the plan and rolls back
    answer = _import_failing_at_the_plan(dm, monkeypatch)
    # Then the group is as before, with nothing to report
    assert answer["error"] == "VERSION_CONFLICT", answer
    assert "rollbackFailures" not in answer
    restored = dm.item(PG_TABLE, "groupId", stored["groupId"])
    assert restored["version"] == 1 and restored["description"] == "mine"
    assert restored["sourceServerIds"] == stored["sourceServerIds"]
    assert _stored_group(dm, "Web") is None


def test_import_update_keeps_a_status_recorded_after_its_read(dm, monkeypatch):
    # Given a stored group the import updates, and a recovery recording
    # a server's status between the import's read and its transaction
    stored = db_group(dm, "DB", description="mine")
    server_id = stored["sourceServerIds"][0]
    table = dm.tables[PG_TABLE]
    outcome = {"sourceServerId": server_id, "status": "APPLIED"}

    def recovery_records():
        assert record_launch_config_status(
            stored, [outcome], "recovery:exec-2", table=table
        )

    client = RacedTable(
        table.meta.client, recovery_records, ("transact_write_items",)
    )

    class Table:
        name = table.name
        meta = type("Meta", (), {"client": client})

        def __getattr__(self, attribute):
            return getattr(table, attribute)

    monkeypatch.setattr(config_import, "protection_groups_table", Table)
    manifest = _manifest(dm)
    manifest["recoveryPlans"] = []
    # When imported
    answer = dm.direct("import_configuration", {"manifest": manifest})
    # Then the update landed and the recorded status is still stored
    assert client.raced and answer["summary"]["update"] == 1, answer
    item = dm.item(PG_TABLE, "groupId", stored["groupId"])
    assert "description" not in item and item["version"] == 2
    assert item["launchConfigStatus"][server_id]["source"] == (
        "recovery:exec-2"
    )
