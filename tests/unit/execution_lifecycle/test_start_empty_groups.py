"""execute_recovery_plan refuses a wave whose group selects no server.

A group with neither ``serverSelectionTags`` nor any ``sourceServerIds``
would start and then fail in the wave engine (NO_SERVERS_RESOLVED): the
readiness membership check at start refuses it (409 PLAN_NOT_READY) like
a tag group selecting nothing, writing nothing.
"""

import pytest

from tests.unit.execution_lifecycle.test_start_tag_groups import (
    assert_nothing_written,
    start,
)


def _drop_server_ids(lc, group_id: str) -> None:
    """A group item without the ``sourceServerIds`` attribute at all."""
    lc.tables["PROTECTION_GROUPS_TABLE"].update_item(
        Key={"groupId": group_id}, UpdateExpression="REMOVE sourceServerIds"
    )


@pytest.mark.parametrize("shape", ["direct", "rest"])
def test_group_with_empty_server_ids_is_refused(lc, shape):
    # Given a plan whose second wave's group has an empty server list
    lc.plan("p1", ("g1", lc.servers(2)), ("g2", []))
    # When the plan starts
    status, body = start(lc, shape, "p1")
    # Then 409 PLAN_NOT_READY: membership names the wave and its group
    assert (status, body["error"]) == (409, "PLAN_NOT_READY")
    assert body["failingChecks"] == ["membership"]
    (membership,) = body["checks"]
    assert membership["resources"][0]["resource"] == {"waveNumber": 2}
    assert (
        "wave 2: protection group g2 resolves no server (it lists none)"
        in body["message"]
    )
    # And nothing is written: no record, no plan lock, no worker queued
    assert_nothing_written(lc, "p1")


@pytest.mark.parametrize("shape", ["direct", "rest"])
def test_group_without_server_ids_is_refused(lc, shape):
    # Given a one-wave plan whose group has no sourceServerIds attribute
    lc.plan("p1", ("g1", lc.servers(1)))
    _drop_server_ids(lc, "g1")
    # When the plan starts
    status, body = start(lc, shape, "p1")
    # Then 409 PLAN_NOT_READY names wave 1 and its group
    assert (status, body["error"]) == (409, "PLAN_NOT_READY")
    assert "wave 1: protection group g1 resolves no server" in (
        body["message"]
    )
    assert_nothing_written(lc, "p1")


def test_groups_with_servers_still_start(lc):
    # Given a plan whose every group lists servers
    servers = lc.servers(3)
    lc.plan("p1", ("g1", servers[:1]), ("g2", servers[1:]))
    # When the plan starts
    status, body = start(lc, "direct", "p1")
    # Then it is PENDING with each wave's servers recorded
    assert (status, body["status"]) == (202, "PENDING"), body
    record = lc.record(body["executionId"])
    assert [w["serverIds"] for w in record["waves"]] == [
        servers[:1],
        servers[1:],
    ]
