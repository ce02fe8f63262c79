"""Per-server records (shared.server_records) on moto: conditional
writes that only move forward, batch writes, pages with nextToken."""

import pytest

from shared import server_records as records
from shared.errors import ValidationError

EXECUTION = "exec-1"


@pytest.fixture
def table(ddb_tables):
    return ddb_tables["EXECUTION_SERVERS_TABLE"]


def _server(sid, status, **more):
    return {"sourceServerId": sid, "status": status, **more}


def test_a_record_moves_forward_only(table):
    # Given a server recorded LAUNCHED with its instance
    assert records.write_server(
        EXECUTION, 0, _server("s-1", "IN_PROGRESS", phase="LAUNCH")
    )
    assert records.write_server(
        EXECUTION, 0, _server("s-1", "LAUNCHED", recoveryInstanceId="i-r1")
    )
    # When an older poll writes IN_PROGRESS, or a FAILED of the same rank
    older = records.write_server(
        EXECUTION, 0, _server("s-1", "IN_PROGRESS", phase="CONVERSION")
    )
    other = records.write_server(EXECUTION, 0, _server("s-1", "FAILED"))
    # Then both are refused and the record stays LAUNCHED
    assert (older, other) == (False, False)
    (row,) = records.wave_servers(EXECUTION, 0)
    assert row["status"] == "LAUNCHED"
    assert row["recoveryInstanceId"] == "i-r1"
    assert row["phase"] == "LAUNCH"  # fields are never removed
    # And details of the same status are still added
    assert records.write_server(
        EXECUTION, 0, _server("s-1", "LAUNCHED", privateIp="10.0.0.5")
    )
    (row,) = records.wave_servers(EXECUTION, 0)
    assert row["privateIp"] == "10.0.0.5"
    assert "rank" not in row and "serverKey" not in row
    # And a terminated instance moves it further
    assert records.write_server(EXECUTION, 0, _server("s-1", "TERMINATED"))


def test_write_servers_writes_only_what_changed(table):
    before = [_server(f"s-{i}", "PENDING") for i in range(3)]
    records.put_servers(EXECUTION, 1, before)
    after = [dict(s) for s in before]
    after[1]["status"] = "IN_PROGRESS"
    assert records.write_servers(EXECUTION, 1, after, before) == 1
    statuses = [s["status"] for s in records.wave_servers(EXECUTION, 1)]
    assert statuses == ["PENDING", "IN_PROGRESS", "PENDING"]


def test_waves_and_executions_are_apart(table):
    records.put_servers(EXECUTION, 0, [_server("s-a", "LAUNCHED")])
    records.put_servers(EXECUTION, 10, [_server("s-b", "PENDING")])
    records.put_servers("exec-2", 0, [_server("s-c", "PENDING")])
    assert [s["sourceServerId"] for s in records.wave_servers(EXECUTION, 0)]
    by_wave = records.execution_servers(EXECUTION)
    assert {
        k: [s["sourceServerId"] for s in v] for k, v in by_wave.items()
    } == {
        0: ["s-a"],
        10: ["s-b"],
    }
    assert records.status_counts(by_wave[0] + by_wave[10]) == {
        "LAUNCHED": 1,
        "PENDING": 1,
    }


def test_pages_follow_next_token_in_wave_order(table):
    for index in range(3):
        records.put_servers(
            EXECUTION,
            index,
            [_server(f"s-{index}-{i:03d}", "PENDING") for i in range(25)],
        )
    seen, token, pages = [], None, 0
    while True:
        page = records.servers_page(EXECUTION, None, 20, token)
        pages += 1
        seen += [
            (s["waveIndex"], s["sourceServerId"]) for s in page["servers"]
        ]
        token = page.get("nextToken")
        if not token:
            break
    assert len(seen) == 75 and len(set(seen)) == 75
    assert seen == sorted(seen)
    assert pages >= 4
    # A wave's pages stay in the wave
    first = records.servers_page(EXECUTION, 1, 10)
    second = records.servers_page(EXECUTION, 1, 10, first["nextToken"])
    assert {s["waveIndex"] for s in first["servers"] + second["servers"]} == {
        1
    }


def test_a_token_of_another_execution_or_wave_is_refused(table):
    records.put_servers(
        EXECUTION, 0, [_server(f"s-{i}", "PENDING") for i in range(3)]
    )
    records.put_servers("exec-2", 0, [_server("s-9", "PENDING")])
    token = records.servers_page(EXECUTION, 0, 1)["nextToken"]
    with pytest.raises(ValidationError):
        records.servers_page("exec-2", 0, 1, token)
    with pytest.raises(ValidationError):
        records.servers_page(EXECUTION, 1, 1, token)
    with pytest.raises(ValidationError):
        records.servers_page(EXECUTION, 0, 1, "not-a-token")
    with pytest.raises(ValidationError):
        records.servers_page(EXECUTION, 0, 0)


def test_delete_execution_servers_deletes_every_record(table):
    records.put_servers(
        EXECUTION, 0, [_server(f"s-{i}", "PENDING") for i in range(30)]
    )
    records.put_servers("exec-2", 0, [_server("s-9", "PENDING")])
    assert records.delete_execution_servers(EXECUTION) == 30
    assert records.execution_servers(EXECUTION) == {}
    assert records.execution_servers("exec-2")


def test_attach_servers_prefers_the_store_over_inline_rows(table):
    record = {
        "executionId": EXECUTION,
        "waves": [
            {
                "servers": [
                    _server("s-1", "PENDING"),
                    _server("s-2", "PENDING"),
                ]
            },
            {"serverIds": ["s-3"]},
        ],
    }
    records.write_server(EXECUTION, 0, _server("s-1", "LAUNCHED"))
    records.write_server(EXECUTION, 1, _server("s-3", "IN_PROGRESS"))
    waves = records.attach_servers(record)["waves"]
    assert [
        (s["sourceServerId"], s["status"]) for s in waves[0]["servers"]
    ] == [
        ("s-1", "LAUNCHED"),
        ("s-2", "PENDING"),
    ]
    assert waves[1]["servers"] == [_server("s-3", "IN_PROGRESS")]
    assert "servers" not in record["waves"][1]


def test_concurrent_writes_never_move_a_record_backwards(table):
    # Given 40 servers of a wave recorded LAUNCHED or FAILED, 20 PENDING
    ahead = [
        _server(f"s-{i:02d}", "LAUNCHED" if i % 2 else "FAILED")
        for i in range(40)
    ]
    records.put_servers(EXECUTION, 0, ahead)
    pending = [_server(f"s-{i:02d}", "PENDING") for i in range(40, 60)]
    records.put_servers(EXECUTION, 0, pending)
    # When an older view (all IN_PROGRESS, read as PENDING) is written
    # concurrently, every record differing from what was "read"
    stale = [_server(f"s-{i:02d}", "IN_PROGRESS") for i in range(60)]
    written = records.write_servers(
        EXECUTION, 0, stale, before=None, workers=8
    )
    # Then only the 20 PENDING records moved; none went backwards
    assert written == 20
    rows = {s["sourceServerId"]: s for s in records.wave_servers(EXECUTION, 0)}
    assert len(rows) == 60
    for server in ahead:
        assert rows[server["sourceServerId"]]["status"] == server["status"]
    for server in pending:
        assert rows[server["sourceServerId"]]["status"] == "IN_PROGRESS"
    # And the stored rank is the status's (the condition of later writes)
    item = table.get_item(
        Key={"executionId": EXECUTION, "serverKey": "w0000#s-00"}
    )["Item"]
    assert item["rank"] == records.rank("FAILED")


def test_one_failing_write_does_not_lose_the_others(table, monkeypatch):
    from botocore.exceptions import ClientError

    before = [_server(f"s-{i:02d}", "PENDING") for i in range(30)]
    records.put_servers(EXECUTION, 2, before)
    after = [
        dict(s, status="LAUNCHED", instanceId=f"i-{n}")
        for n, s in enumerate(before)
    ]
    real = records._client_update

    def failing(tbl):
        update = real(tbl)

        def flaky(**request):
            if request["Key"]["serverKey"] == "w0002#s-07":
                raise ClientError(
                    {"Error": {"Code": "ProvisionedThroughputExceeded"}},
                    "UpdateItem",
                )
            return update(**request)

        return flaky

    monkeypatch.setattr(records, "_client_update", failing)
    # When one record's write fails (not its condition) among 30
    with pytest.raises(ClientError):
        records.write_servers(EXECUTION, 2, after, before, workers=8)
    # Then the error surfaces, and every other record was written
    rows = {s["sourceServerId"]: s for s in records.wave_servers(EXECUTION, 2)}
    launched = sorted(k for k, s in rows.items() if s["status"] == "LAUNCHED")
    assert launched == sorted(
        s["sourceServerId"] for s in before if s["sourceServerId"] != "s-07"
    )
    assert rows["s-07"]["status"] == "PENDING"
    assert rows["s-03"]["instanceId"] == "i-3"
    # And the next poll writes it (what was read still differs)
    monkeypatch.setattr(records, "_client_update", real)
    read = list(rows.values())
    assert records.write_servers(EXECUTION, 2, after, read) == 1
    (row,) = [
        s
        for s in records.wave_servers(EXECUTION, 2)
        if s["sourceServerId"] == "s-07"
    ]
    assert row["status"] == "LAUNCHED"


def test_concurrent_and_sequential_writes_store_the_same(table):
    servers = [
        _server(f"s-{i}", "LAUNCHED", privateIp=f"10.0.0.{i}", phase="LAUNCH")
        for i in range(5)
    ]
    assert records.write_servers(EXECUTION, 0, servers, workers=1) == 5
    assert records.write_servers(EXECUTION, 1, servers, workers=4) == 5
    one = table.get_item(
        Key={"executionId": EXECUTION, "serverKey": "w0000#s-3"}
    )["Item"]
    other = table.get_item(
        Key={"executionId": EXECUTION, "serverKey": "w0001#s-3"}
    )["Item"]
    drop = ("serverKey", "waveIndex", "updatedTime")
    assert {k: v for k, v in one.items() if k not in drop} == {
        k: v for k, v in other.items() if k not in drop
    }


def test_a_change_sets_only_the_fields_that_changed(table, monkeypatch):
    # Given a server recorded IN_PROGRESS with its host and job
    read = _server("s-1", "IN_PROGRESS", hostname="db1", jobId="drsjob-1")
    records.put_servers(EXECUTION, 0, [read])
    requests = []
    real = records._client_update

    def spying(tbl):
        update = real(tbl)

        def spy(**request):
            requests.append(request)
            return update(**request)

        return spy

    monkeypatch.setattr(records, "_client_update", spying)
    # When a poll sees only its phase change (and a second server's)
    changed = [dict(read, phase="CONVERSION"), dict(read)]
    changed[1]["sourceServerId"] = "s-2"
    records.put_servers(EXECUTION, 0, [changed[1]])
    changed[1]["phase"] = "SNAPSHOT"
    written = records.write_servers(
        EXECUTION, 0, changed, [read, dict(changed[1], phase=None)]
    )
    # Then only the phase is set (with the time), on the existing record
    assert written == 2
    first = next(r for r in requests if r["Key"]["serverKey"].endswith("1"))
    assert first["UpdateExpression"] == "SET updatedTime = :now, #f0 = :f0"
    assert first["ExpressionAttributeNames"]["#f0"] == "phase"
    # And the record keeps every other field
    row = records.wave_servers(EXECUTION, 0)[0]
    assert row == dict(read, phase="CONVERSION")


def test_a_change_of_a_record_not_stored_writes_it_whole(table):
    # Given a row an older record held inline: read, but never stored
    inline = _server("s-9", "PENDING", hostname="web9", jobId="drsjob-2")
    # When a poll records its progress
    assert records.write_servers(
        EXECUTION, 3, [dict(inline, status="IN_PROGRESS")], [inline]
    )
    # Then the record is created whole, not with the change alone
    (row,) = records.wave_servers(EXECUTION, 3)
    assert row == dict(inline, status="IN_PROGRESS")
    item = table.get_item(
        Key={"executionId": EXECUTION, "serverKey": "w0003#s-9"}
    )["Item"]
    assert (item["rank"], item["waveIndex"]) == (1, 3)


def test_a_change_never_moves_a_further_record_back(table):
    # Given a server a settlement recorded TERMINATED after a poll read it
    read = _server("s-1", "IN_PROGRESS", phase="LAUNCH")
    records.put_servers(EXECUTION, 0, [read])
    assert records.write_server(EXECUTION, 0, _server("s-1", "TERMINATED"))
    # When the poll writes what it saw (a phase of the status it read)
    written = records.write_servers(
        EXECUTION, 0, [dict(read, phase="CONVERSION")], [read]
    )
    # Then nothing is written: the record stays TERMINATED
    assert written == 0
    (row,) = records.wave_servers(EXECUTION, 0)
    assert (row["status"], row["phase"]) == ("TERMINATED", "LAUNCH")
