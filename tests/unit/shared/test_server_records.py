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
