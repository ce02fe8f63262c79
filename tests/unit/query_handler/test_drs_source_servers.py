"""GET /drs/source-servers (get_drs_source_servers) against the simulator."""

import json

import pytest

from localcloud.drs.faults import FaultInjector
from localcloud.scenario import FaultSpec
from shared import aws_clients
from tests.helpers import HUB_ACCOUNT, REGION, api_event
from tests.unit.query_handler.conftest import (
    EXTERNAL_ID,
    HUB_SERVERS,
    SPOKE,
    register_spoke,
)

DOCUMENTED = {
    "sourceServerID",
    "hostname",
    "replicationState",
    "lifecycleState",
    "hardware",
    "tags",
    "protectionGroupId",
    "protectionGroupName",
}


def rest(world, query, groups=("DRSReadOnly",)):
    response = world.handler(
        api_event("GET", "/drs/source-servers", query=query, groups=groups),
        None,
    )
    return response["statusCode"], json.loads(response["body"])


def test_example_3_direct_invocation_reads_every_page(world):
    # Given 150 hub servers (DescribeSourceServers pages hold 100)
    # When Example 3 of the seed is invoked directly
    body = world.direct("get_drs_source_servers", region=REGION)
    # Then every server is answered with the documented fields
    assert body["serverCount"] == body["totalCount"] == HUB_SERVERS
    assert body["region"] == REGION
    assert len({s["sourceServerID"] for s in body["servers"]}) == 150
    assert all(DOCUMENTED <= set(s) for s in body["servers"])
    # And DRS was read page by page (2 pages), in the hub account only
    assert world.sim.call_count("DescribeSourceServers", HUB_ACCOUNT) == 2
    assert world.sim.call_count(account=SPOKE) == 0
    # And the hardware is summed from the source properties
    web = next(s for s in body["servers"] if s["hostname"] == "web-01")
    assert web["hardware"] == {
        "totalCores": 4,
        "ramGiB": 16,
        "totalDiskGiB": 100,
    }
    assert web["replicationState"] == "CONTINUOUS"
    assert web["lifecycleState"] == "READY_FOR_LAUNCH"
    assert web["tags"] == {"Tier": "Web", "Env": "prod"}


def test_tag_filter_is_and_and_case_insensitive(small_world):
    # When servers are filtered by tags in another case (REST)
    status, body = rest(
        small_world,
        {"region": REGION, "tags": '{"tier": "WEB", "env": "Prod"}'},
    )
    # Then only the servers carrying both tags are answered
    assert status == 200
    assert body["totalCount"] == 10
    assert {s["hostname"] for s in body["servers"]} == {
        f"web-{i:02d}" for i in range(1, 11)
    }


def test_replication_state_filter(small_world):
    # When servers are filtered by replication state
    status, body = rest(
        small_world, {"region": REGION, "replicationState": "stopped"}
    )
    # Then the two stopped database servers are answered
    assert status == 200
    assert sorted(s["hostname"] for s in body["servers"]) == ["db-01", "db-02"]
    assert {s["lifecycleState"] for s in body["servers"]} == {"STOPPED"}


def test_servers_carry_their_protection_group(small_world):
    # Given a protection group listing one web server
    servers = small_world.direct("get_drs_source_servers", region=REGION)
    web = next(s for s in servers["servers"] if s["hostname"] == "web-03")
    small_world.tables["PROTECTION_GROUPS_TABLE"].put_item(
        Item={
            "groupId": "g-1",
            "groupName": "Web tier",
            "region": REGION,
            "sourceServerIds": [web["sourceServerID"]],
        }
    )
    # When the servers are listed again
    body = small_world.direct("get_drs_source_servers", region=REGION)
    # Then that server names its group and the others name none
    grouped = [s for s in body["servers"] if s["protectionGroupId"]]
    assert [(s["hostname"], s["protectionGroupName"]) for s in grouped] == [
        ("web-03", "Web tier")
    ]


def test_tag_groups_name_their_servers_without_extra_calls(small_world):
    # Given an id group of web-03, a tag group of the web tier, a tag
    # group of the db tier in the spoke and one in another region
    table = small_world.tables["PROTECTION_GROUPS_TABLE"]
    servers = small_world.direct("get_drs_source_servers", region=REGION)
    web3 = next(s for s in servers["servers"] if s["hostname"] == "web-03")
    groups = [
        ("g-1", "Web 3", {"sourceServerIds": [web3["sourceServerID"]]}),
        ("g-2", "Web tier", {"serverSelectionTags": {"tier": "WEB"}}),
        (
            "g-3",
            "Spoke db",
            {"serverSelectionTags": {"Tier": "db"}, "accountId": SPOKE},
        ),
        (
            "g-4",
            "West db",
            {"serverSelectionTags": {"Tier": "db"}, "region": "us-west-2"},
        ),
    ]
    for group_id, name, fields in groups:
        table.put_item(
            Item={
                "groupId": group_id,
                "groupName": name,
                "region": REGION,
                **fields,
            }
        )
    calls = small_world.sim.call_count("DescribeSourceServers")
    # When the hub's servers are listed (direct)
    body = small_world.direct("get_drs_source_servers", region=REGION)
    # Then web servers name the tag group, web-03 its id group
    named = {s["hostname"]: s["protectionGroupId"] for s in body["servers"]}
    assert named["web-03"] == "g-1"
    assert {named[f"web-{i:02d}"] for i in (1, 2, 4, 10)} == {"g-2"}
    # And the db servers match no group of the hub's region
    assert named["db-01"] is None and named["app-001"] is None
    # And DRS was read once (one page), not once per group
    used = small_world.sim.call_count("DescribeSourceServers") - calls
    assert used == 1
    # And over REST, filtered by tags, the membership is the same
    status, filtered = rest(
        small_world, {"region": REGION, "tags": '{"Tier": "Web"}'}
    )
    assert status == 200
    assert {s["protectionGroupName"] for s in filtered["servers"]} == {
        "Web 3",
        "Web tier",
    }


def test_spoke_account_through_assumed_role(small_world):
    # When the spoke's servers are listed (REST, accountId)
    status, body = rest(small_world, {"region": REGION, "accountId": SPOKE})
    # Then DRS answered in the spoke account
    assert status == 200
    assert body["accountId"] == SPOKE
    assert sorted(s["hostname"] for s in body["servers"]) == [
        "spoke-1",
        "spoke-2",
        "spoke-3",
    ]
    assert all(SPOKE in s["arn"] for s in body["servers"])
    assert small_world.sim.call_count("DescribeSourceServers", SPOKE) == 1


@pytest.mark.parametrize(
    "query, field",
    [
        ({}, "region"),
        ({"region": "mars-1"}, "region"),
        ({"region": REGION, "tags": "{not json"}, "tags"),
        ({"region": REGION, "tags": '["Tier"]'}, "tags"),
        ({"region": REGION, "tags": '{"Tier": 1}'}, "tags"),
        ({"region": REGION, "replicationState": "HAPPY"}, "replicationState"),
        ({"region": REGION, "accountId": "12345"}, "accountId"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(
    bare_handler, query, field
):
    # When a parameter is missing or malformed
    status, body = rest(bare_handler, query or None)
    # Then a 400 names it (before any DRS call)
    assert status == 400
    assert body["error"] == "VALIDATION_ERROR"
    assert body["field"] == field


def test_unregistered_account_is_404(bare_handler):
    # When an account that is not registered is asked for (direct)
    body = bare_handler.direct(
        "get_drs_source_servers", region=REGION, accountId="111122223333"
    )
    # Then a 404 names the account
    assert body["statusCode"] == 404
    assert body["error"] == "NOT_FOUND"
    assert body["accountId"] == "111122223333"


def test_role_that_cannot_be_assumed_is_403(small_world, enforce_external_id):
    # Given the spoke registered with an ExternalId its role does not trust
    register_spoke(
        small_world.tables["TARGET_ACCOUNTS_TABLE"], external_id="wrong"
    )
    # When its servers are listed
    status, body = rest(small_world, {"region": REGION, "accountId": SPOKE})
    # Then a 403 explains the role cannot be assumed
    assert status == 403
    assert body["error"] == "FORBIDDEN"
    assert body["reason"] == "ASSUME_ROLE_DENIED"
    assert "ExternalId" in body["message"]
    assert small_world.sim.call_count(account=SPOKE) == 0


def test_right_external_id_passes_the_trust_check(
    small_world, enforce_external_id
):
    # Given the spoke registered with the ExternalId its role trusts
    register_spoke(small_world.tables["TARGET_ACCOUNTS_TABLE"], EXTERNAL_ID)
    # When its servers are listed
    status, body = rest(small_world, {"region": REGION, "accountId": SPOKE})
    # Then they are answered
    assert (status, body["totalCount"]) == (200, 3)


def test_uninitialized_region_is_409(small_world):
    # When a region where DRS was never initialized is listed
    status, body = rest(small_world, {"region": "us-west-2"})
    # Then the caller learns DRS is not initialized there
    assert status == 409
    assert body["error"] == "INVALID_STATE"
    assert body["reason"] == "DRS_NOT_INITIALIZED"


def throttle(world, **extra):
    world.sim.faults = FaultInjector(
        [
            FaultSpec(
                type="throttle", operation="DescribeSourceServers", **extra
            )
        ]
    )


def test_transient_throttling_is_retried(small_world, fast_retries):
    # Given DRS throttles the first call only
    throttle(small_world, nth=1)
    # When the servers are listed
    status, body = rest(small_world, {"region": REGION})
    # Then the client retried and the caller got every server
    assert (status, body["totalCount"]) == (200, 20)
    assert small_world.sim.call_count("DescribeSourceServers") == 2


def test_persistent_throttling_is_429(small_world, fast_retries):
    # Given DRS throttles every call
    throttle(small_world)
    # When the servers are listed
    status, body = rest(small_world, {"region": REGION})
    # Then after the client's bounded retries the caller gets a 429
    assert status == 429
    assert body["error"] == "DRS_LIMIT_EXCEEDED"
    assert "throttled" in body["message"]
    # (botocore: max_attempts 5 = retries, so 6 attempts in total)
    retries = aws_clients.create_drs_client(REGION).meta.config.retries
    attempts = retries["total_max_attempts"]
    assert attempts == 6
    assert small_world.sim.call_count("DescribeSourceServers") == attempts


@pytest.mark.parametrize(
    "query, field",
    [
        ({"region": 5}, "region"),
        ({"region": REGION, "accountId": 1}, "accountId"),
    ],
)
def test_direct_parameters_must_be_text(bare_handler, query, field):
    # When a direct invocation passes a number where text is expected
    body = bare_handler.direct("get_drs_source_servers", **query)
    # Then the answer is a 400 naming the parameter, not a crash
    assert (body["statusCode"], body["field"]) == (400, field)
