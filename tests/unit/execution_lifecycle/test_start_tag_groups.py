"""execute_recovery_plan checks the servers of tag-selected groups.

A group with ``serverSelectionTags`` counts, at start, the servers its
tags select now in its account and region: conflicts with live DRS jobs
and active executions, the job planning and the readiness checks see
them.
"""

from typing import Dict, List

import pytest

from tests.helpers import HUB_ACCOUNT, REGION

START = "execute_recovery_plan"
TAGS = {"Tier": "web"}


def tag_servers(lc, server_ids: List[str], tags: Dict[str, str]) -> None:
    """Tag DRS source servers as an operator would."""
    drs = lc.drs()
    wanted = set(server_ids)
    for page in drs.get_paginator("describe_source_servers").paginate(
        filters={}
    ):
        for server in page["items"]:
            if server["sourceServerID"] in wanted:
                drs.tag_resource(resourceArn=server["arn"], tags=tags)


def tag_group(lc, group_id: str, tags: Dict[str, str]) -> str:
    lc.tables["PROTECTION_GROUPS_TABLE"].put_item(
        Item={
            "groupId": group_id,
            "groupName": group_id,
            "region": REGION,
            "accountId": HUB_ACCOUNT,
            "serverSelectionTags": tags,
            "version": 1,
        }
    )
    return group_id


def tag_plan(lc, plan_id: str, *group_tags: Dict[str, str]) -> str:
    """A plan with one wave per tag group (groups tg1, tg2, ...)."""
    waves = []
    for number, tags in enumerate(group_tags, start=1):
        waves.append(
            {
                "waveNumber": number,
                "waveName": f"Wave {number}",
                "protectionGroupId": tag_group(lc, f"tg{number}", tags),
                "pauseBeforeWave": False,
            }
        )
    lc.tables["RECOVERY_PLANS_TABLE"].put_item(
        Item={
            "planId": plan_id,
            "planName": f"Plan {plan_id}",
            "waves": waves,
            "version": 1,
        }
    )
    return plan_id


def start(lc, shape: str, plan_id: str):
    """(status code, body) of a start by direct invocation or REST."""
    if shape == "rest":
        return lc.rest("POST", "/executions", {"planId": plan_id})
    body = lc.direct(START, {"planId": plan_id})
    return body.get("statusCode", 202), body


def assert_nothing_written(lc, plan_id: str) -> None:
    """No execution record, no plan lock, no worker queued."""
    table = lc.tables["EXECUTION_HISTORY_TABLE"]
    assert "Item" not in table.get_item(Key={"executionId": f"lock#{plan_id}"})
    assert table.scan()["Items"] == []
    assert lc.async_calls == []


def listings(lc) -> int:
    """DescribeSourceServers calls the simulator answered in the hub."""
    return lc.sim.calls[(HUB_ACCOUNT, REGION, "DescribeSourceServers")]


@pytest.mark.parametrize("shape", ["direct", "rest"])
def test_tagged_server_in_a_live_drs_job_conflicts(lc, shape):
    # Given a tag group selecting two servers, one of them in a drill
    # started directly through DRS (outside the system)
    servers = lc.servers(3)
    tag_servers(lc, servers[:2], TAGS)
    job = lc.drs().start_recovery(
        isDrill=True, sourceServers=[{"sourceServerID": servers[1]}]
    )["job"]
    tag_plan(lc, "p1", TAGS)
    # When the plan starts
    status, body = start(lc, shape, "p1")
    # Then 409 SERVER_CONFLICT names the tagged server and the job
    assert (status, body["error"]) == (409, "SERVER_CONFLICT")
    assert body["serverIds"] == [servers[1]]
    assert body["jobId"] == job["jobID"]
    # And nothing is written: no record, no plan lock
    assert_nothing_written(lc, "p1")


@pytest.mark.parametrize("shape", ["direct", "rest"])
def test_tag_group_over_100_servers_is_planned_as_jobs(lc_factory, shape):
    # Given a tag group whose tags match 101 servers
    lc = lc_factory(servers=102)
    # (matched case-insensitively), after a wave of one other server
    servers = lc.servers(102)
    tag_servers(lc, servers[1:], {"Tier": "bulk"})
    tag_servers(lc, servers[:1], {"Env": "dr"})
    tag_plan(lc, "p1", {"Env": "dr"}, {"tier": " BULK "})
    # When the plan starts
    status, body = start(lc, shape, "p1")
    # Then it is accepted: wave 2 is planned as 2 DRS jobs
    assert (status, body.get("status")) == (202, "PENDING"), body
    assert [(w["serverCount"], w["plannedJobs"]) for w in body["waves"]] == [
        (1, 1),
        (101, 2),
    ]
    record = lc.record(body["executionId"])
    assert [w["plannedJobs"] for w in record["waves"]] == [1, 2]


def test_tagged_server_of_an_active_execution_conflicts(lc):
    # Given an active execution of plan A over explicit servers
    servers = lc.servers(3)
    lc.plan("pa", ("ga", servers[:2]))
    active = lc.start("pa")
    # And plan B whose tag group selects one of them
    tag_servers(lc, servers[1:], TAGS)
    tag_plan(lc, "pb", TAGS)
    # When plan B starts
    body = lc.direct(START, {"planId": "pb"})
    # Then SERVER_CONFLICT names the shared server and the execution
    assert body["error"] == "SERVER_CONFLICT"
    assert body["serverIds"] == [servers[1]]
    assert body["conflictingExecutionId"] == active
    # And plan B has no record and no lock
    keys = {
        i["executionId"]
        for i in lc.tables["EXECUTION_HISTORY_TABLE"].scan()["Items"]
    }
    assert keys == {active, "lock#pa"}


@pytest.mark.parametrize("shape", ["direct", "rest"])
def test_tag_group_selecting_nothing_is_refused(lc, shape):
    # Given a tag group whose tags match no server
    tag_servers(lc, lc.servers(2), TAGS)
    tag_plan(lc, "p1", TAGS, {"Tier": "db"})
    # When the plan starts
    status, body = start(lc, shape, "p1")
    # Then 409 PLAN_NOT_READY: membership names the wave and its tags
    assert (status, body["error"]) == (409, "PLAN_NOT_READY")
    assert body["failingChecks"] == ["membership"]
    assert "wave 2: protection group tg2 resolves no server" in (
        body["message"]
    )
    assert_nothing_written(lc, "p1")


def test_tag_groups_start_with_their_servers_listed_once(lc):
    # Given two tag groups of one account and region
    servers = lc.servers(5)
    tag_servers(lc, servers[:2], TAGS)
    tag_servers(lc, servers[2:5], {"Tier": "app"})
    tag_plan(lc, "p1", TAGS, {"Tier": "app"})
    before = listings(lc)
    # When the plan starts
    body = lc.direct(START, {"planId": "p1"})
    # Then it is PENDING with each wave's selected servers recorded
    assert body["status"] == "PENDING", body
    record = lc.record(body["executionId"])
    assert [sorted(w["serverIds"]) for w in record["waves"]] == [
        servers[:2],
        servers[2:5],
    ]
    # And DRS was listed once for both groups
    assert listings(lc) - before == 1


def test_drs_refusing_the_listing_is_mapped_and_writes_nothing(
    lc, monkeypatch
):
    # Given a tag group and DRS denying DescribeSourceServers
    from localcloud.drs.errors import DrsError

    tag_servers(lc, lc.servers(1), TAGS)
    tag_plan(lc, "p1", TAGS)

    def deny(operation, account, region):
        if operation == "DescribeSourceServers":
            raise DrsError("AccessDeniedException", "not allowed")
        return 0.0

    monkeypatch.setattr(lc.sim.faults, "before_call", deny)
    # When the plan starts
    body = lc.direct(START, {"planId": "p1"})
    # Then the access check refuses the plan, naming the account/region
    assert (body["statusCode"], body["error"]) == (409, "PLAN_NOT_READY")
    assert body["failingChecks"] == ["access"]
    (access,) = body["checks"]
    # (the hub's own account: no accountId in its context)
    assert access["resources"][0]["resource"]["region"] == REGION
    assert REGION in body["message"]
    assert_nothing_written(lc, "p1")
