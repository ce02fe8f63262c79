"""Planned servers outside the execution item (shared.wave_plan_store) on
moto: parts of at most 1,000 ids, read back in order, with each
server's group; the records of the same partition stay apart."""

import pytest

from shared import server_records as records
from shared import wave_plan_store as plan_store

EXECUTION = "exec-1"


@pytest.fixture
def table(ddb_tables):
    return ddb_tables["EXECUTION_SERVERS_TABLE"]


def _ids(prefix, count):
    return [f"s-{prefix}{n:015d}" for n in range(count)]


class _NoReads:
    """A table that fails any read: proves a reader did not query."""

    def query(self, **_kwargs):
        raise AssertionError("the plan parts were read")


def test_waves_are_stored_in_parts_and_read_back_in_order(table):
    # Given a record of a 2,500-server wave, a wave of two groups and an
    # empty wave, as execute_recovery_plan builds it
    big = _ids("a", 2500)
    db, app = _ids("b", 3), _ids("c", 2)
    record = {
        "executionId": EXECUTION,
        "waves": [
            {"waveNumber": 1, "serverIds": big},
            {
                "waveNumber": 2,
                "serverIds": db + app,
                "groupServerIds": {"g-db": db, "g-app": app},
            },
            {"waveNumber": 3, "serverIds": []},
        ],
    }
    # When its planned ids are taken out and stored
    planned = plan_store.take_planned(record)
    plan_store.store_planned(EXECUTION, planned)
    # Then the record keeps only how many parts each wave has
    assert [w.get("serverIdsParts") for w in record["waves"]] == [3, 1, 1]
    assert not any("serverIds" in w for w in record["waves"])
    assert "groupServerIds" not in record["waves"][1]
    # And every part stays under 1,000 ids
    parts = table.scan()["Items"]
    assert len(parts) == 5
    assert max(len(p["serverIds"]) for p in parts) == plan_store.PART_SIZE
    # And a reader gets the ids back, in order, with each one's group
    read = plan_store.with_planned(record)
    assert read["waves"][0]["serverIds"] == big
    assert read["waves"][1]["serverIds"] == db + app
    assert read["waves"][1]["groupServerIds"] == {"g-db": db, "g-app": app}
    assert read["waves"][2]["serverIds"] == []
    # And one wave alone reads only that wave
    one = plan_store.with_planned(record, index=1)
    assert one["waves"][1]["serverIds"] == db + app
    assert "serverIds" not in one["waves"][0]
    # And the record passed in is not changed
    assert "serverIds" not in record["waves"][0]


def test_the_parts_are_not_server_records(table):
    # Given a wave's planned ids and one server record of the wave
    record = {"executionId": EXECUTION, "waves": [{"serverIds": ["s-1"]}]}
    plan_store.store_planned(EXECUTION, plan_store.take_planned(record))
    records.put_servers(EXECUTION, 0, [{"sourceServerId": "s-1"}])
    # When the records are read every way
    by_wave = records.execution_servers(EXECUTION)
    page = records.servers_page(EXECUTION)
    attached = records.attach_servers(record)
    # Then each shows the one record, and attach_servers the planned ids
    assert [s["sourceServerId"] for s in by_wave[0]] == ["s-1"]
    assert [s["sourceServerId"] for s in page["servers"]] == ["s-1"]
    assert attached["waves"][0]["serverIds"] == ["s-1"]
    assert [s["status"] for s in attached["waves"][0]["servers"]] == [
        "PENDING"
    ]
    # And deleting the execution's records deletes its parts too
    assert records.delete_execution_servers(EXECUTION) == 2
    assert table.scan()["Count"] == 0


def test_a_record_without_parts_is_answered_without_a_read(table):
    # Given a record that holds its ids inline (written before the parts)
    # and one that names no servers (a state machine started directly)
    inline = {"executionId": EXECUTION, "waves": [{"serverIds": ["s-1"]}]}
    bare = {"executionId": EXECUTION, "waves": [{"waveNumber": 1}]}
    # When readers ask for the planned ids, the table failing any read
    # Then both are answered as they are
    assert plan_store.with_planned(inline, _NoReads()) is inline
    assert plan_store.with_planned(bare, _NoReads()) is bare
    assert plan_store.planned_server_ids(inline, _NoReads()) == {"s-1"}


def test_a_rewrite_is_idempotent_and_a_failed_start_removes_its_parts(
    table,
):
    # Given a wave stored twice (a retried start)
    ids = _ids("d", 1200)
    for _ in range(2):
        plan_store.store_planned(EXECUTION, {0: (ids, None)})
    record = {"executionId": EXECUTION, "waves": [{"serverIdsParts": 2}]}
    # Then it reads back once
    assert plan_store.with_planned(record)["waves"][0]["serverIds"] == ids
    assert table.scan()["Count"] == 2
    # When the execution is not created after all
    records.delete_execution_servers(EXECUTION)
    # Then no part is left behind
    assert table.scan()["Count"] == 0
