"""Per-server records outside the execution item (issue 16 item 4): a
4,000-server execution's item stays far below DynamoDB's 400 KB, the
answers page the rows with nextToken, DELETE /executions takes them."""

import boto3

from bench.results import item_size
from tests.helpers import REGION

from shared.server_records import execution_servers, put_servers, summarize
from shared.wave_plan_store import store_planned, take_planned, with_planned
from shared.wave_jobs import plan_jobs

DYNAMODB_ITEM_LIMIT = 400 * 1024
WAVES, PER_WAVE = 10, 400
# The paging tests need waves over 100 servers (the rows shown inline),
# not the whole 4,000: two waves of 180, the rest in pages of 40.
PAGED_WAVES, PAGED_PER_WAVE, PAGE = 2, 180, 40


def _server(wave: int, number: int) -> dict:
    """A launched server with every detail the poll records."""
    return {
        "sourceServerId": f"s-{wave:02d}{number:015d}",
        "hostname": f"tier{wave:02d}-{number:04d}.corp.example.com",
        "status": "LAUNCHED",
        "phase": "LAUNCHED",
        "recoveryInstanceId": f"i-{wave:02d}{number:015d}",
        "instanceId": f"i-{wave:02d}{number:015d}",
        "privateIp": f"10.{wave}.{number // 250}.{number % 250}",
        "launchTime": "2026-12-07T10:00:00+00:00",
    }


def _big_execution(
    lc, wave_count: int = WAVES, records: bool = True, per_wave=PER_WAVE
):
    """A finished ``wave_count`` x ``per_wave`` execution recorded as the poll
    records it: its servers in their records (``records``: the item
    alone does not need them), each wave's summary on the item."""
    lc.plan("big", ("g1", lc.servers(1)))
    execution_id = lc.start("big", execution_type="RECOVERY")
    waves, inline = [], []
    for index in range(wave_count):
        servers = [_server(index, n) for n in range(per_wave)]
        jobs = plan_jobs(per_wave, 100)
        for job in jobs:
            job.update(
                status="STARTED",
                jobId=f"drsjob-{index:02d}{job['chunk']:015d}",
                jobStatus="COMPLETED",
            )
        wave = {
            "waveNumber": index + 1,
            "waveName": f"Tier {index + 1}",
            "status": "COMPLETED",
            "region": "us-east-1",
            "serverIds": [s["sourceServerId"] for s in servers],
            "jobs": jobs,
            "servers": servers,
        }
        if records:
            put_servers(execution_id, index, servers)
        waves.append(summarize(wave))
        inline.append(wave)
    # The planned ids in their parts, as execute_recovery_plan keeps them
    stored = {"waves": waves}
    store_planned(execution_id, take_planned(stored))
    lc.set_record(execution_id, status="COMPLETED", waves=stored["waves"])
    return execution_id, inline


def _raw_item(lc, execution_id: str) -> dict:
    client = boto3.client("dynamodb", region_name=REGION)
    return client.get_item(
        TableName=lc.tables["EXECUTION_HISTORY_TABLE"].name,
        Key={"executionId": {"S": execution_id}},
    )["Item"]


def test_a_4000_server_execution_item_stays_far_below_400_kb(lc):
    # Given a 4,000-server, 10-wave execution recorded by the engine
    execution_id, inline = _big_execution(lc, records=False)
    # Then its item holds each wave's counts, not its servers
    item = _raw_item(lc, execution_id)
    size = item_size(item)
    assert size < DYNAMODB_ITEM_LIMIT / 20, size
    wave = item["waves"]["L"][0]["M"]
    assert "servers" not in wave and "serverIds" not in wave
    assert wave["serverIdsParts"]["N"] == "1"
    assert wave["serverCount"]["N"] == str(PER_WAVE)
    assert wave["serverCounts"]["M"]["LAUNCHED"]["N"] == str(PER_WAVE)
    # (the same servers inline would not fit in one item)
    lc.set_record(execution_id, waves=inline[:2])
    per_wave = item_size(_raw_item(lc, execution_id)) / 2
    assert per_wave * WAVES > DYNAMODB_ITEM_LIMIT


def test_details_inline_the_first_rows_and_waves_page_the_rest(lc):
    execution_id, _ = _big_execution(lc, PAGED_WAVES, per_wave=PAGED_PER_WAVE)
    # When the details are read
    details = lc.direct("get_execution_details", {"executionId": execution_id})
    # Then each wave shows its first 100 rows, its counts and a token
    assert len(details["waves"]) == PAGED_WAVES
    first = details["waves"][PAGED_WAVES - 1]
    assert len(first["servers"]) == 100
    assert len(first["serverExecutions"]) == 100
    assert first["serverCount"] == PAGED_PER_WAVE
    assert first["serverCounts"] == {"LAUNCHED": PAGED_PER_WAVE}
    assert first["serversNextToken"]
    assert details["outcomeDetails"]["totalServers"] == (
        PAGED_WAVES * PAGED_PER_WAVE
    )
    # And /waves?waveNumber= pages through the rest of that wave
    seen = [s["sourceServerId"] for s in first["servers"]]
    token = first["serversNextToken"]
    pages = 0
    while token:
        status, page = lc.rest(
            "GET",
            f"/executions/{execution_id}/waves",
            query={
                "waveNumber": str(PAGED_WAVES),
                "nextToken": token,
                "limit": str(PAGE),
            },
        )
        assert status == 200, page
        (wave,) = page["waves"]
        assert wave["waveNumber"] == PAGED_WAVES
        seen += [s["sourceServerId"] for s in wave["servers"]]
        token = page.get("nextToken")
        pages += 1
    assert pages == 2
    assert seen == sorted(seen) and len(set(seen)) == PAGED_PER_WAVE
    assert all(s.startswith(f"s-{PAGED_WAVES - 1:02d}") for s in seen)
    # And the whole-plan /waves answer has the same first rows
    status, waves = lc.rest("GET", f"/executions/{execution_id}/waves")
    assert status == 200
    assert [len(w["servers"]) for w in waves["waves"]] == [100] * PAGED_WAVES


def test_a_bad_token_or_wave_is_a_400(lc):
    execution_id, _ = _big_execution(lc, 1)
    for query in (
        {"waveNumber": "99"},
        {"waveNumber": "1", "nextToken": "garbage"},
        {"waveNumber": "1", "limit": "0"},
    ):
        status, body = lc.rest(
            "GET", f"/executions/{execution_id}/waves", query=query
        )
        assert (status, body["error"]) == (400, "VALIDATION_ERROR"), query


def test_deleting_an_execution_deletes_its_server_records(lc):
    # Given a finished recovery with its server records
    lc.plan("p1", ("g1", lc.servers(1)))
    execution_id = lc.start("p1", execution_type="RECOVERY")
    servers = [_server(0, n) for n in range(30)]
    put_servers(execution_id, 0, servers)
    lc.set_record(execution_id, status="COMPLETED")
    table = lc.tables["EXECUTION_SERVERS_TABLE"]
    assert table.scan()["Count"] >= 30
    # When it is deleted
    status, body = lc.rest(
        "DELETE", "/executions", query={"ids": execution_id}
    )
    # Then its server records are gone too
    assert status == 200 and body["deletedIds"] == [execution_id], body
    left = [
        i for i in table.scan()["Items"] if i["executionId"] == execution_id
    ]
    assert left == []


def test_a_drill_whose_recorded_instances_remain_is_kept(lc):
    # Given a finished drill whose launched servers are only in records
    lc.plan("p1", ("g1", lc.servers(1)))
    execution_id = lc.start("p1")
    put_servers(execution_id, 0, [_server(0, 1)])
    lc.set_record(execution_id, status="FAILED")
    # When it is asked to be deleted
    status, body = lc.rest(
        "DELETE", "/executions", query={"ids": execution_id}
    )
    # Then it is kept: terminate-instances needs it
    assert status == 200 and body["deletedCount"] == 0, body
    kept = execution_servers(
        execution_id, lc.tables["EXECUTION_SERVERS_TABLE"]
    )
    assert [len(rows) for rows in kept.values()] == [1]
    assert with_planned(lc.raw_record(execution_id))["waves"][0]["serverIds"]


def test_a_wave_not_started_shows_its_planned_ids_without_a_token(lc):
    # Given a running execution whose 400-server wave has not started
    lc.plan("p1", ("g1", lc.servers(1)))
    execution_id = lc.start("p1")
    ids = [_server(0, n)["sourceServerId"] for n in range(PER_WAVE)]
    lc.set_record(
        execution_id,
        status="RUNNING",
        waves=[{"waveNumber": 1, "status": "PENDING", "serverIds": ids}],
    )
    # When the details are read
    details = lc.direct("get_execution_details", {"executionId": execution_id})
    # Then the wave shows its first planned ids and their count
    (pending,) = details["waves"]
    assert pending["status"] == "PENDING"
    assert [s["sourceServerId"] for s in pending["servers"]] == ids[:100]
    assert pending["serverCount"] == PER_WAVE
    assert "serversNextToken" not in pending
