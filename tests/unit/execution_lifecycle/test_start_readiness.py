"""Readiness at start (issue 19 item 3): execute_recovery_plan runs the
blocking checks over the listing it resolves the waves with and refuses
a NOT_READY plan (409 PLAN_NOT_READY, nothing written, nothing
launched) unless ``acceptRisks`` names every failing check; then the
servers those checks fail are left out and the record says so."""

import json

import pytest

from tests.helpers import HUB_ACCOUNT, REGION, api_event, load_handler
from tests.unit.execution_lifecycle.test_start_tag_groups import (
    assert_nothing_written,
)
from tests.unit.query_handler.readiness_support import set_replication

START = "execute_recovery_plan"
OPERATOR = "operator@example.com"


def hostname(lc, server_id: str) -> str:
    """The simulated server's hostname."""
    for server in lc.sim.servers(HUB_ACCOUNT, REGION):
        if server.server_id == server_id:
            return server.spec.hostname
    raise KeyError(server_id)


def stalled_plan(lc):
    """Plan p1: two waves of two servers, the last one STALLED."""
    servers = lc.servers(4)
    lc.plan("p1", ("g1", servers[:2]), ("g2", servers[2:]))
    set_replication(lc, hostname(lc, servers[3]), "STALLED")
    return servers


def rest_start(lc, body):
    """(status, body) of POST /executions by an operator."""
    response = lc.handler(
        api_event(
            "POST",
            "/executions",
            body=body,
            groups=("DRSOperator",),
            user=OPERATOR,
        ),
        None,
    )
    return response["statusCode"], json.loads(response["body"])


def no_drs_job(lc) -> bool:
    return lc.drs().describe_jobs()["items"] == []


def stalled_id(lc) -> str:
    return lc.servers(4)[3]


@pytest.mark.parametrize("shape", ["direct", "rest"])
def test_stalled_server_refuses_the_start(lc, shape):
    # Given a plan whose second wave holds a STALLED server
    stalled_plan(lc)
    # When it is started
    if shape == "rest":
        status, body = rest_start(lc, {"planId": "p1"})
    else:
        body = lc.direct(START, {"planId": "p1"})
        status = body["statusCode"]
    # Then 409 PLAN_NOT_READY names the replication check and the server
    assert (status, body["error"]) == (409, "PLAN_NOT_READY"), body
    assert body["failingChecks"] == ["replication"]
    assert body["readinessStatus"] == "NOT_READY"
    (check,) = body["checks"]
    assert check["name"] == "replication"
    (server,) = check["servers"]
    assert server["sourceServerId"] == stalled_id(lc)
    host = hostname(lc, stalled_id(lc))
    assert (server["hostname"], server["waveNumber"]) == (host, 2)
    assert "STALLED" in server["message"]
    assert host in body["message"] and "acceptRisks" in body["message"]
    # And nothing is written and nothing launched
    assert_nothing_written(lc, "p1")
    assert no_drs_job(lc)


def test_recovery_accepting_replication_starts_without_the_server(lc):
    # Given a plan with a STALLED server
    servers = stalled_plan(lc)
    # When an operator starts a RECOVERY accepting the replication risk
    status, body = rest_start(
        lc,
        {
            "planId": "p1",
            "executionType": "RECOVERY",
            "acceptRisks": ["REPLICATION"],
        },
    )
    # Then it starts without the STALLED server
    assert (status, body["status"]) == (202, "PENDING"), body
    assert body["acceptedRisks"] == ["replication"]
    assert body["excludedServerCount"] == 1
    assert [w["serverCount"] for w in body["waves"]] == [2, 1]
    record = lc.record(body["executionId"])
    assert [w["serverIds"] for w in record["waves"]] == [
        servers[:2],
        [servers[2]],
    ]
    # And the record lists what was left out, why, and who accepted it
    assert "excludedServers" not in record["waves"][0]
    (excluded,) = record["waves"][1]["excludedServers"]
    assert excluded["sourceServerId"] == stalled_id(lc) == servers[3]
    assert (excluded["check"], excluded["hostname"]) == (
        "replication",
        hostname(lc, servers[3]),
    )
    assert "STALLED" in excluded["message"]
    accepted = record["acceptedRisks"]
    assert accepted["checks"] == ["replication"]
    assert accepted["acceptedBy"] == record["initiatedBy"] == OPERATOR
    assert accepted["excludedServerCount"] == 1
    assert accepted["readinessStatus"] == "NOT_READY"
    # And nothing was launched yet (the worker starts the state machine)
    assert no_drs_job(lc)


def test_drill_may_accept_risks_too_and_records_them(lc):
    # Given a plan with a STALLED server
    stalled_plan(lc)
    # When a DRILL is started by direct invocation accepting the risk
    body = lc.direct(
        START,
        {"planId": "p1", "acceptRisks": ["replication"]},
    )
    # Then it starts without the server; the invoker accepted it
    assert body["status"] == "PENDING", body
    record = lc.record(body["executionId"])
    assert record["executionType"] == "DRILL"
    assert record["acceptedRisks"]["acceptedBy"] == "direct-invocation"
    assert stalled_id(lc) not in record["waves"][1]["serverIds"]


def test_accepting_another_check_still_refuses(lc):
    # Given a plan with a STALLED server
    stalled_plan(lc)
    # When the start accepts only the capacity risk
    body = lc.direct(
        START,
        {
            "planId": "p1",
            "executionType": "RECOVERY",
            "acceptRisks": ["CAPACITY"],
        },
    )
    # Then replication still refuses it, writing nothing
    assert body["error"] == "PLAN_NOT_READY"
    assert body["failingChecks"] == ["replication"]
    assert_nothing_written(lc, "p1")


@pytest.mark.parametrize(
    "risks",
    [["REPLICATION", "WEATHER"], "REPLICATION", [1], ["launch_configuration"]],
    ids=["unknown-name", "not-a-list", "not-a-string", "not-at-start"],
)
def test_bad_accept_risks_is_a_validation_error(lc, risks):
    # Given a plan with a STALLED server
    stalled_plan(lc)
    # When acceptRisks is not a list of the checks run at start
    status, body = rest_start(
        lc,
        {"planId": "p1", "executionType": "RECOVERY", "acceptRisks": risks},
    )
    # Then 400 names the field; nothing is written
    assert (status, body["error"]) == (400, "VALIDATION_ERROR"), body
    assert body["field"] == "acceptRisks"
    assert_nothing_written(lc, "p1")


def test_a_wave_left_without_servers_is_refused(lc):
    # Given a plan whose second wave's only server is STALLED
    servers = lc.servers(2)
    lc.plan("p1", ("g1", servers[:1]), ("g2", servers[1:]))
    set_replication(lc, hostname(lc, servers[1]), "STALLED")
    # When a recovery accepts the replication risk
    body = lc.direct(
        START,
        {
            "planId": "p1",
            "executionType": "RECOVERY",
            "acceptRisks": ["REPLICATION"],
        },
    )
    # Then it is refused: wave 2 would recover nothing
    assert (body["statusCode"], body["error"]) == (409, "PLAN_NOT_READY")
    assert body["emptyWaves"] == [2]
    assert_nothing_written(lc, "p1")


def test_healthy_plan_starts_with_one_listing(lc):
    # Given a healthy two-wave plan
    servers = lc.servers(3)
    lc.plan("p1", ("g1", servers[:1]), ("g2", servers[1:]))
    before = {
        op: lc.sim.calls[(HUB_ACCOUNT, REGION, op)]
        for op in ("DescribeSourceServers", "DescribeJobs")
    }
    # When it starts, accepting a risk it does not have
    body = lc.direct(START, {"planId": "p1", "acceptRisks": ["replication"]})
    # Then it starts READY with every server and nothing excluded
    assert body["status"] == "PENDING", body
    assert body["preflight"]["status"] == "READY"
    assert body["excludedServerCount"] == 0
    record = lc.record(body["executionId"])
    assert [w["serverIds"] for w in record["waves"]] == [
        servers[:1],
        servers[1:],
    ]
    assert record["acceptedRisks"]["excludedServerCount"] == 0
    # And DRS was listed once for the resolution and the checks
    for op, count in before.items():
        assert lc.sim.calls[(HUB_ACCOUNT, REGION, op)] - count == 1, op


def test_150_server_wave_is_created_and_planned_as_two_jobs(lc_factory):
    # Given 150 servers and a protection group of all of them
    lc = lc_factory(servers=150)
    data = load_handler("data-management-handler").lambda_handler
    group = data(
        {
            "operation": "create_protection_group",
            "body": {
                "groupName": "Big",
                "region": REGION,
                "sourceServerIds": lc.servers(150),
            },
        },
        None,
    )
    # When a one-wave plan of it is created
    plan = data(
        {
            "operation": "create_recovery_plan",
            "body": {
                "planName": "Big",
                "rpoTargetSeconds": 3600,
                "waves": [
                    {
                        "waveNumber": 1,
                        "waveName": "all",
                        "protectionGroupId": group["groupId"],
                    }
                ],
            },
        },
        None,
    )
    # Then it is accepted with its RPO target
    assert "planId" in plan, plan
    assert plan["rpoTargetSeconds"] == 3600
    # When it is executed
    body = lc.direct(START, {"planId": plan["planId"]})
    # Then the wave is planned as 2 DRS jobs, answered and recorded
    assert body["status"] == "PENDING", body
    assert [(w["serverCount"], w["plannedJobs"]) for w in body["waves"]] == [
        (150, 2)
    ]
    record = lc.record(body["executionId"])
    assert record["waves"][0]["plannedJobs"] == 2
    assert len(record["waves"][0]["serverIds"]) == 150


def test_a_throttled_listing_is_a_429_not_a_readiness_failure(
    lc, monkeypatch, fast_retries
):
    # Given a plan and DRS throttling DescribeSourceServers (past retries)
    from localcloud.drs.errors import DrsError

    lc.plan("p1", ("g1", lc.servers(1)))

    def throttle(operation, account, region):
        if operation == "DescribeSourceServers":
            raise DrsError("ThrottlingException", "slow down")
        return 0.0

    monkeypatch.setattr(lc.sim.faults, "before_call", throttle)
    # When the plan starts
    body = lc.direct(START, {"planId": "p1"})
    # Then 429 DRS_LIMIT_EXCEEDED asks to retry; nothing is written
    assert (body["statusCode"], body["error"]) == (429, "DRS_LIMIT_EXCEEDED")
    assert body["reason"] == "THROTTLED"
    assert_nothing_written(lc, "p1")
