"""/drs/service-limits, /drs/quotas and /drs/accounts with the simulator."""

import json

import boto3

from tests.helpers import HUB_ACCOUNT, REGION, api_event
from tests.unit.query_handler.conftest import SPOKE

LIMITS = {
    "maxServersPerJob": 100,
    "maxConcurrentJobs": 20,
    "maxServersInAllJobs": 500,
    "maxRecoveryInstances": 4000,
}


def start_drill(world, hostnames):
    """Start a DRS drill in the hub for the given hostnames."""
    ids = [world.sim.server_id(HUB_ACCOUNT, REGION, h) for h in hostnames]
    drs = boto3.client("drs", region_name=REGION)
    return drs.start_recovery(
        sourceServers=[{"sourceServerID": sid} for sid in ids], isDrill=True
    )["job"]["jobID"]


def rest(world, path, query):
    response = world.handler(
        api_event("GET", path, query=query, groups=("DRSReadOnly",)), None
    )
    return response["statusCode"], json.loads(response["body"])


def test_service_limits_with_idle_usage(small_world):
    # When the limits of an idle region are read (REST)
    status, body = rest(small_world, "/drs/service-limits", {"region": REGION})
    # Then the limits and zero activity are answered
    assert status == 200
    assert body["limits"] == LIMITS
    assert body["currentUsage"] == {
        "activeJobs": 0,
        "serversInJobs": 0,
        "replicatingServers": 18,
        "sourceServers": 20,
        "recoveryInstances": 0,
    }


def test_usage_counts_active_jobs_and_recovery_instances(small_world):
    # Given a drill of three web servers in progress
    start_drill(small_world, ["web-01", "web-02", "web-03"])
    # When the limits are read (direct)
    body = small_world.direct("get_drs_service_limits", region=REGION)
    # Then the active job and its servers count
    usage = body["currentUsage"]
    assert (usage["activeJobs"], usage["serversInJobs"]) == (1, 3)
    assert usage["recoveryInstances"] == 0
    # When the drill has launched its instances
    small_world.sim.clock.advance(3600)
    usage = small_world.direct("get_drs_service_limits", region=REGION)[
        "currentUsage"
    ]
    # Then no job is active and the recovery instances count
    assert (usage["activeJobs"], usage["serversInJobs"]) == (0, 0)
    assert usage["recoveryInstances"] == 3


def test_quotas_report_remaining_capacity(small_world):
    # Given a drill of two servers in progress
    start_drill(small_world, ["app-001", "app-002"])
    # When the quotas are read
    status, body = rest(small_world, "/drs/quotas", {"region": REGION})
    # Then what remains of each limit is answered
    assert status == 200
    assert body["available"] == {
        "concurrentJobs": 19,
        "serversInAllJobs": 498,
        "recoveryInstances": 4000,
    }
    assert body["atLimit"] == []


def test_spoke_usage_is_read_in_the_spoke(small_world):
    # When the spoke's limits are read
    body = small_world.direct("get_drs_quotas", region=REGION, accountId=SPOKE)
    # Then its own servers are counted, through the assumed role
    assert body["accountId"] == SPOKE
    assert body["currentUsage"]["sourceServers"] == 3
    assert small_world.sim.call_count("DescribeJobs", SPOKE) == 1


def test_limits_need_a_region(bare_handler):
    # When no region is given
    status, body = rest(bare_handler, "/drs/quotas", None)
    # Then a 400 names it
    assert (status, body["field"]) == (400, "region")


def test_accounts_and_drs_initialization_per_region(small_world):
    # When the accounts are listed for two regions (REST)
    status, body = rest(
        small_world, "/drs/accounts", {"regions": "us-east-1, us-west-2"}
    )
    # Then the hub and the spoke are answered with DRS status per region
    assert status == 200
    assert body["regions"] == ["us-east-1", "us-west-2"]
    by_id = {a["accountId"]: a for a in body["accounts"]}
    assert list(by_id) == [HUB_ACCOUNT, SPOKE]
    assert by_id[HUB_ACCOUNT]["isCurrentAccount"] is True
    assert by_id[SPOKE]["accountName"] == "spoke"
    for account in body["accounts"]:
        assert account["regions"] == [
            {"region": "us-east-1", "drsInitialized": True},
            {"region": "us-west-2", "drsInitialized": False},
        ]


def test_unreachable_account_is_reported_not_fatal(
    small_world, enforce_external_id
):
    # Given the spoke registered with an ExternalId its role refuses
    table = small_world.tables["TARGET_ACCOUNTS_TABLE"]
    table.update_item(
        Key={"accountId": SPOKE},
        UpdateExpression="SET externalId = :e",
        ExpressionAttributeValues={":e": "wrong"},
    )
    # When the accounts are listed
    body = small_world.direct("get_drs_accounts", regions="us-east-1")
    by_id = {a["accountId"]: a for a in body["accounts"]}
    # Then the hub is answered and the spoke carries the 403 reason
    assert by_id[HUB_ACCOUNT]["regions"][0]["drsInitialized"] is True
    assert by_id[SPOKE]["error"] == "FORBIDDEN"
    assert by_id[SPOKE]["regions"] == []


def test_accounts_reject_a_bad_region_list(bare_handler):
    status, body = rest(
        bare_handler, "/drs/accounts", {"regions": "us-east-1,nowhere"}
    )
    assert (status, body["field"]) == (400, "regions")
