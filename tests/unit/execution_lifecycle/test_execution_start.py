"""execute_recovery_plan and its async worker."""

import json
import threading

import boto3
import pytest

from localcloud import ddb_serial
from shared.name_claims import claim_key
from tests.helpers import REGION

START = "execute_recovery_plan"
WORKER = "execute_recovery_plan_worker"


def test_direct_start_answers_example_4_and_records_pending(lc):
    # Given a two-wave plan of explicit servers
    lc.plan("p1", ("g1", lc.servers(2)), ("g2", lc.servers(1, 2)))
    # When it is started by direct invocation
    body = lc.direct(
        START,
        {"planId": "p1", "executionType": "DRILL", "initiatedBy": "script"},
    )
    # Then the answer has Example 4's fields
    execution_id = body["executionId"]
    assert {k: body[k] for k in ("status", "message", "statusUrl")} == {
        "status": "PENDING",
        "message": "Execution started - check status with operation: "
        "get_execution_details",
        "statusUrl": f"/executions/{execution_id}",
    }
    # And each wave's planned DRS jobs, the plan READY at start
    assert [(w["waveNumber"], w["plannedJobs"]) for w in body["waves"]] == [
        (1, 1),
        (2, 1),
    ]
    assert body["plannedJobs"] == 2
    assert body["preflight"]["status"] == "READY"
    # And the record is PENDING with every wave PENDING
    record = lc.record(execution_id)
    assert record["status"] == "PENDING"
    # (the direct invoker is the identity; the body's initiatedBy, from
    # older scripts, is kept as what it is: who the script acts for)
    assert record["initiatedBy"] == "direct-invocation"
    assert record["requestedBy"] == "script"
    assert record["isDrill"] is True
    assert [w["status"] for w in record["waves"]] == ["PENDING", "PENDING"]
    assert [int(w["waveNumber"]) for w in record["waves"]] == [1, 2]
    # And the worker was queued asynchronously
    assert [c["action"] for c in lc.async_calls] == [WORKER]


def test_worker_starts_the_state_machine(lc):
    # Given a queued execution
    lc.plan("p1", ("g1", lc.servers(2)))
    execution_id = lc.direct(START, {"planId": "p1"})["executionId"]
    # When Lambda delivers the async worker invocation
    (result,) = lc.deliver_async(WORKER)
    # Then the state machine runs under the execution id with the input
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = lc.record(execution_id)["stateMachineExecutionArn"]
    assert arn == result["stateMachineExecutionArn"]
    described = sfn.describe_execution(executionArn=arn)
    assert described["name"] == execution_id
    state_input = json.loads(described["input"])
    assert state_input["executionId"] == execution_id
    assert state_input["isDrill"] is True
    assert state_input["plan"]["planId"] == "p1"
    assert [w["waveNumber"] for w in state_input["plan"]["waves"]] == [1]
    # And no notification yet: the state machine's begin announces it
    assert lc.notifications() == []


def test_rest_start_answers_202(lc):
    lc.plan("p1", ("g1", lc.servers(1)))
    status, body = lc.rest("POST", "/executions", {"planId": "p1"})
    assert status == 202
    assert body["status"] == "PENDING"
    assert lc.record(body["executionId"])["initiatedBy"] == (
        "tester@example.com"
    )


def test_unknown_plan_is_not_found_both_shapes(lc):
    body = lc.direct(START, {"planId": "nope"})
    assert (body["error"], body["statusCode"]) == ("NOT_FOUND", 404)
    status, body = lc.rest("POST", "/executions", {"planId": "nope"})
    assert (status, body["error"]) == (404, "NOT_FOUND")


def test_a_plan_name_claim_is_not_a_plan(lc):
    # Given a plan whose name is claimed (the claim item shares the table)
    lc.plan("p1", ("g1", lc.servers(1)))
    claim = claim_key("plan", "Plan p1")
    lc.tables["RECOVERY_PLANS_TABLE"].put_item(
        Item={"planId": claim, "claimOwner": "p1"}
    )
    # When the claim's key is started as a plan
    body = lc.direct(START, {"planId": claim})
    # Then it is not found and nothing is recorded
    assert (body["error"], body["statusCode"]) == ("NOT_FOUND", 404)
    history = lc.tables["EXECUTION_HISTORY_TABLE"].scan()["Items"]
    assert history == []


@pytest.mark.parametrize(
    "body,field",
    [
        ({}, "planId"),
        ({"planId": "p1", "executionType": "TEST"}, "executionType"),
        ({"planId": "p1", "dryRun": "yes"}, "dryRun"),
        ({"planId": "p1", "topicArn": "arn:aws:sns:x"}, "topicArn"),
        ({"planId": "p1", "startFromWave": 2}, "startFromWave"),
    ],
)
def test_bad_input_is_a_validation_error(lc, body, field):
    lc.plan("p1", ("g1", lc.servers(1)))
    answer = lc.direct(START, body)
    assert answer["error"] == "VALIDATION_ERROR"
    assert answer["field"] == field
    assert lc.async_calls == []


def test_missing_group_is_a_validation_error_and_writes_nothing(lc):
    lc.plan("p1", ("g1", lc.servers(1)))
    lc.tables["PROTECTION_GROUPS_TABLE"].delete_item(Key={"groupId": "g1"})
    answer = lc.direct(START, {"planId": "p1"})
    assert answer["error"] == "VALIDATION_ERROR"
    assert answer["protectionGroupId"] == "g1"
    assert lc.tables["EXECUTION_HISTORY_TABLE"].scan()["Items"] == []


def test_second_start_of_a_plan_is_an_execution_conflict(lc):
    # Given a running execution of a plan
    lc.plan("p1", ("g1", lc.servers(1)))
    first = lc.start("p1")
    # When the plan is started again
    body = lc.direct(START, {"planId": "p1"})
    # Then EXECUTION_CONFLICT names the active execution
    assert body["error"] == "EXECUTION_CONFLICT"
    assert body["statusCode"] == 409
    assert body["activeExecutionId"] == first


def test_plan_can_start_again_once_its_execution_ended(lc):
    # Given an execution that was cancelled (terminal: lock released)
    lc.plan("p1", ("g1", lc.servers(1)))
    first = lc.start("p1")
    assert lc.direct("cancel_execution", {"executionId": first})["status"] == (
        "CANCELLED"
    )
    # When the plan starts again
    second = lc.direct(START, {"planId": "p1"})
    # Then it is a new execution
    assert second["status"] == "PENDING"
    assert second["executionId"] != first


def test_stale_lock_of_a_finished_execution_is_taken_over(lc):
    # Given an execution that finished without releasing its plan lock
    lc.plan("p1", ("g1", lc.servers(1)))
    first = lc.start("p1")
    lc.set_record(first, status="COMPLETED")
    lock = lc.tables["EXECUTION_HISTORY_TABLE"].get_item(
        Key={"executionId": "lock#p1"}
    )["Item"]
    assert lock["ownerExecutionId"] == first
    # When the plan starts again
    second = lc.direct(START, {"planId": "p1"})
    assert "executionId" in second, second
    second = second["executionId"]
    # Then the lock belongs to the new execution
    lock = lc.tables["EXECUTION_HISTORY_TABLE"].get_item(
        Key={"executionId": "lock#p1"}
    )["Item"]
    assert lock["ownerExecutionId"] == second


def test_plan_sharing_servers_with_an_active_execution_conflicts(lc):
    # Given an active execution of plan A over two servers
    servers = lc.servers(3)
    lc.plan("pa", ("ga", servers[:2]))
    active = lc.start("pa")
    # When plan B, sharing one server, starts
    lc.plan("pb", ("gb", servers[1:]))
    body = lc.direct(START, {"planId": "pb"})
    # Then SERVER_CONFLICT names the shared server and the execution
    assert body["error"] == "SERVER_CONFLICT"
    assert body["serverIds"] == [servers[1]]
    assert body["conflictingExecutionId"] == active


def test_server_in_a_live_drs_job_outside_the_system_conflicts(lc):
    # Given a DRS drill started outside the system on one server
    servers = lc.servers(2)
    job = lc.drs().start_recovery(
        isDrill=True, sourceServers=[{"sourceServerID": servers[1]}]
    )["job"]
    lc.plan("p1", ("g1", servers))
    # When the plan starts
    body = lc.direct(START, {"planId": "p1"})
    # Then SERVER_CONFLICT names the server and the job; nothing written
    assert body["error"] == "SERVER_CONFLICT"
    assert body["serverIds"] == [servers[1]]
    assert body["jobId"] == job["jobID"]
    assert lc.tables["EXECUTION_HISTORY_TABLE"].scan()["Items"] == []


def test_twenty_active_drs_jobs_leave_the_plan_not_ready(lc_factory):
    # Given 20 active DRS jobs in the region (the job quota is used up)
    lc = lc_factory(servers=21)
    servers = lc.servers(21)
    for server in servers[:20]:
        lc.drs().start_recovery(
            isDrill=True, sourceServers=[{"sourceServerID": server}]
        )
    lc.plan("p1", ("g1", servers[20:]))
    # When a plan starts
    body = lc.direct(START, {"planId": "p1"})
    # Then the capacity check refuses it: 409 PLAN_NOT_READY, nothing
    # written
    assert (body["error"], body["statusCode"]) == ("PLAN_NOT_READY", 409)
    assert body["failingChecks"] == ["capacity"]
    assert "20/20 jobs" in body["message"]
    assert lc.tables["EXECUTION_HISTORY_TABLE"].scan()["Items"] == []


def test_worker_failure_marks_failed_and_frees_the_plan(lc, monkeypatch):
    # Given a queued execution and a state machine that does not exist
    lc.plan("p1", ("g1", lc.servers(1)))
    execution_id = lc.direct(START, {"planId": "p1"})["executionId"]
    monkeypatch.setenv("STATE_MACHINE_ARN", lc.state_machine_arn + "-gone")
    from tests.helpers import reset_shared_caches

    reset_shared_caches()
    # When the worker runs
    (result,) = lc.deliver_async(WORKER)
    # Then the execution is FAILED with the reason, and a notification
    record = lc.record(execution_id)
    assert result["status"] == record["status"] == "FAILED"
    assert "state machine did not start" in record["statusReason"]
    events = [
        n["MessageAttributes"]["eventType"]["Value"]
        for n in lc.notifications()
    ]
    assert events == ["EXECUTION_FAILED"]
    # And the plan can start again
    assert lc.direct(START, {"planId": "p1"})["status"] == "PENDING"


@pytest.fixture
def atomic_dynamodb():
    """DynamoDB requests one at a time, as the local cloud serves them:
    moto's in-process transactions are not atomic across threads (two
    can pass the same condition), where AWS lets exactly one through."""
    ddb_serial.install()
    yield
    ddb_serial.uninstall()


def test_concurrent_starts_give_one_execution(lc, atomic_dynamodb):
    # Given a plan
    lc.plan("p1", ("g1", lc.servers(2)))
    answers = []
    barrier = threading.Barrier(20)

    def start():
        barrier.wait(timeout=30)
        answers.append(lc.direct(START, {"planId": "p1"}))

    # When 20 starts race
    threads = [threading.Thread(target=start) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Then exactly one execution, 19 EXECUTION_CONFLICT
    started = [a for a in answers if a.get("status") == "PENDING"]
    conflicts = [a for a in answers if a.get("error") == "EXECUTION_CONFLICT"]
    assert (len(started), len(conflicts)) == (1, 19), answers
    items = lc.tables["EXECUTION_HISTORY_TABLE"].scan()["Items"]
    records = [i for i in items if not i["executionId"].startswith("lock#")]
    assert [r["executionId"] for r in records] == [started[0]["executionId"]]
