"""/drs/quotas and /drs/service-limits: usage counted over more than one
DRS page, and the 404/403/429 answers."""

import json

import pytest

from localcloud.drs.faults import FaultInjector
from localcloud.scenario import FaultSpec
from tests.helpers import HUB_ACCOUNT, REGION, api_event
from tests.unit.query_handler.conftest import (
    HUB_SERVERS,
    SPOKE,
    register_spoke,
)
from tests.unit.query_handler.test_drs_capacity import start_drill

LISTINGS = (
    "DescribeJobs",
    "DescribeSourceServers",
    "DescribeRecoveryInstances",
)
BATCHES = 6  # of 20 one-server drills (the concurrent-job limit)
LAUNCHED = BATCHES * 20
ACTIVE = 3


def rest(world, path, query):
    response = world.handler(
        api_event("GET", path, query=query, groups=("DRSReadOnly",)), None
    )
    return response["statusCode"], json.loads(response["body"])


def calls(world, account=HUB_ACCOUNT):
    return {op: world.sim.call_count(op, account) for op in LISTINGS}


def drills_over_two_pages(world):
    """120 launched one-server drills, then 3 in progress: 123 jobs and
    120 recovery instances, more than one page (100) of each; the active
    jobs are the newest, on the second page."""
    hostnames = [f"app-{i:03d}" for i in range(1, LAUNCHED + ACTIVE + 1)]
    for batch in range(BATCHES):
        for hostname in hostnames[batch * 20 : (batch + 1) * 20]:
            start_drill(world, [hostname])
        world.sim.clock.advance(3600)
    for hostname in hostnames[LAUNCHED:]:
        start_drill(world, [hostname])


def test_quotas_count_usage_over_every_page(world):
    # Given 150 hub servers, 123 jobs (3 active) and 120 recovery
    # instances: two DRS pages of each
    drills_over_two_pages(world)
    before = calls(world)
    # When the quotas are read (REST)
    status, body = rest(world, "/drs/quotas", {"region": REGION})
    # Then usage counts the items of both pages
    assert status == 200
    assert body["currentUsage"] == {
        "activeJobs": ACTIVE,
        "serversInJobs": ACTIVE,
        "replicatingServers": HUB_SERVERS - 2,
        "sourceServers": HUB_SERVERS,
        "recoveryInstances": LAUNCHED,
    }
    assert body["available"] == {
        "concurrentJobs": 20 - ACTIVE,
        "serversInAllJobs": 500 - ACTIVE,
        "recoveryInstances": 4000 - LAUNCHED,
    }
    # And each listing was read in two pages, in the hub only
    after = calls(world)
    assert {op: after[op] - before[op] for op in LISTINGS} == {
        op: 2 for op in LISTINGS
    }
    assert world.sim.call_count(account=SPOKE) == 0
    # When the service limits are read (direct)
    limits = world.direct("get_drs_service_limits", region=REGION)
    # Then the same usage is answered
    assert limits["currentUsage"] == body["currentUsage"]


@pytest.mark.parametrize(
    "operation", ["get_drs_quotas", "get_drs_service_limits"]
)
def test_unregistered_account_is_404(bare_handler, operation):
    query = {"region": REGION, "accountId": "111122223333"}
    # When an account that is not registered is asked for (direct)
    body = bare_handler.direct(operation, **query)
    # Then a 404 names the account
    assert (body["statusCode"], body["error"]) == (404, "NOT_FOUND")
    assert body["accountId"] == "111122223333"
    # And the same over REST
    status, body = rest(bare_handler, "/drs/quotas", query)
    assert (status, body["accountId"]) == (404, "111122223333")


def test_role_that_cannot_be_assumed_is_403(small_world, enforce_external_id):
    # Given the spoke registered with an ExternalId its role does not trust
    register_spoke(
        small_world.tables["TARGET_ACCOUNTS_TABLE"], external_id="wrong"
    )
    # When the spoke's quotas are read
    status, body = rest(
        small_world, "/drs/quotas", {"region": REGION, "accountId": SPOKE}
    )
    # Then a 403 explains the role cannot be assumed, before any DRS call
    assert (status, body["error"]) == (403, "FORBIDDEN")
    assert body["reason"] == "ASSUME_ROLE_DENIED"
    assert body["accountId"] == SPOKE
    assert small_world.sim.call_count(account=SPOKE) == 0


@pytest.mark.parametrize("throttled", LISTINGS)
def test_persistent_throttling_is_429(small_world, fast_retries, throttled):
    # Given DRS throttles every call of one of the listings
    small_world.sim.faults = FaultInjector(
        [FaultSpec(type="throttle", operation=throttled)]
    )
    # When the quotas are read
    status, body = rest(small_world, "/drs/quotas", {"region": REGION})
    # Then after the client's bounded retries (6 attempts) a 429
    assert (status, body["error"]) == (429, "DRS_LIMIT_EXCEEDED")
    assert body["reason"] == "THROTTLED"
    assert body["message"].startswith("DRS throttled")
    assert small_world.sim.call_count(throttled) == 6
