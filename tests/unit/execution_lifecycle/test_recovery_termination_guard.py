"""Issue 15, defect 2: terminating a real recovery's instances.

A RECOVERY's instances are the production servers after a failover:
``terminate-instances`` refuses them (409 INVALID_STATE) unless the body
confirms with ``"confirmRecoveryTermination": "<executionId>"``; a
confirmed termination records who did it and when. Drills are unchanged.
"""

import boto3
import pytest

from shared.api import Caller, Request
from tests.helpers import REGION

CONFIRM = "confirmRecoveryTermination"
TERMINATE = "terminate_recovery_instances"


def _finished(lc, plan_id, servers, execution_type):
    """A COMPLETED execution whose one wave launched ``servers``."""
    lc.plan(plan_id, (f"g-{plan_id}", servers))
    execution_id = lc.start(plan_id, execution_type)
    job = lc.drs().start_recovery(
        isDrill=execution_type == "DRILL",
        sourceServers=[{"sourceServerID": s} for s in servers],
    )["job"]
    lc.sim.clock.advance(120)
    lc.sim.tick()
    wave = dict(
        lc.record(execution_id)["waves"][0],
        status="COMPLETED",
        jobId=job["jobID"],
    )
    lc.set_record(
        execution_id, status="COMPLETED", waves=[wave], endTime=2**31
    )
    return execution_id


def _running_instances():
    ec2 = boto3.client("ec2", region_name=REGION)
    return sorted(
        i["InstanceId"]
        for r in ec2.describe_instances()["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] == "running"
    )


def _unchanged(lc, execution_id, before):
    """The record and DRS are as they were: nothing was terminated."""
    after = lc.record(execution_id)
    assert after == before
    assert "terminations" not in after
    assert "recoveryTermination" not in after
    assert len(lc.drs().describe_recovery_instances()["items"]) == 2


@pytest.mark.parametrize(
    "body",
    [None, {}, {CONFIRM: "another-execution"}, {CONFIRM: ""}],
    ids=["no-body", "empty", "other-id", "empty-id"],
)
def test_rest_refuses_a_recovery_without_its_confirmation(lc, body):
    # Given a COMPLETED real recovery with two running instances
    execution_id = _finished(lc, "p1", lc.servers(2), "RECOVERY")
    before = lc.record(execution_id)
    running = _running_instances()
    # When an admin terminates its instances without confirming this id
    status, answer = lc.rest(
        "POST", f"/executions/{execution_id}/terminate-instances", body=body
    )
    # Then 409 INVALID_STATE says how to confirm, and nothing is touched
    assert status == 409, answer
    assert answer["error"] == "INVALID_STATE"
    assert answer["executionType"] == "RECOVERY"
    assert answer["field"] == CONFIRM
    assert execution_id in answer["message"]
    _unchanged(lc, execution_id, before)
    lc.sim.clock.advance(60)
    lc.sim.tick()
    assert _running_instances() == running


def test_direct_refuses_a_recovery_without_its_confirmation(lc):
    execution_id = _finished(lc, "p1", lc.servers(2), "RECOVERY")
    before = lc.record(execution_id)
    answer = lc.direct(TERMINATE, {"executionId": execution_id})
    assert (answer["error"], answer["statusCode"]) == ("INVALID_STATE", 409)
    assert answer["field"] == CONFIRM
    _unchanged(lc, execution_id, before)


def test_a_confirmation_that_is_not_text_is_a_validation_error(lc):
    execution_id = _finished(lc, "p1", lc.servers(2), "RECOVERY")
    before = lc.record(execution_id)
    status, answer = lc.rest(
        "POST",
        f"/executions/{execution_id}/terminate-instances",
        body={CONFIRM: {"id": execution_id}},
    )
    assert (status, answer["error"]) == (400, "VALIDATION_ERROR")
    assert answer["field"] == CONFIRM
    _unchanged(lc, execution_id, before)


def test_confirmed_rest_termination_runs_and_records_who_and_when(lc):
    # Given a COMPLETED real recovery
    execution_id = _finished(lc, "p1", lc.servers(2), "RECOVERY")
    lc.sim.clock.advance(5)
    # When a recovery manager confirms with the execution id
    status, answer = lc.rest(
        "POST",
        f"/executions/{execution_id}/terminate-instances",
        body={CONFIRM: execution_id},
        groups=("DRSRecoveryManager",),
    )
    # Then the instances are terminated
    assert status == 200, answer
    assert answer["count"] == 2
    (job,) = answer["terminateJobs"]
    lc.sim.clock.advance(60)
    lc.sim.tick()
    assert lc.drs().describe_recovery_instances()["items"] == []
    # And the record says who confirmed it, when, and which job did it
    record = lc.record(execution_id)
    audit = record["recoveryTermination"]
    assert audit["by"] == "tester@example.com"
    assert audit["jobIds"] == [job["jobId"]]
    assert int(audit["at"]) == int(record["terminations"][0]["startTime"])
    assert int(audit["at"]) > 0
    (term,) = record["terminations"]
    assert term["terminatedBy"] == "tester@example.com"
    assert term["recoveryConfirmed"] is True


def test_confirmed_direct_termination_records_the_invoker(lc):
    # Given a COMPLETED real recovery
    execution_id = _finished(lc, "p1", lc.servers(2), "RECOVERY")
    # When an IAM script confirms by direct invocation, naming its caller
    answer = lc.handler(
        {
            "operation": TERMINATE,
            "caller": "arn:aws:iam::123456789012:role/dr-runbook",
            "body": {
                "executionId": execution_id,
                CONFIRM: execution_id,
                "requestedBy": "ticket CHG-42 (alice)",
            },
        },
        None,
    )
    # Then it runs (direct invocation is trusted to IAM)
    assert answer["count"] == 2, answer
    # And the record names the IAM caller and whom it acted for
    audit = lc.record(execution_id)["recoveryTermination"]
    assert audit["by"] == "arn:aws:iam::123456789012:role/dr-runbook"
    assert audit["requestedBy"] == "ticket CHG-42 (alice)"
    # And the execution's details show it
    details = lc.direct("get_execution_details", {"executionId": execution_id})
    assert details["recoveryTermination"]["by"] == audit["by"]


def test_drills_terminate_as_before_without_confirmation(lc):
    # Given a COMPLETED drill
    execution_id = _finished(lc, "p1", lc.servers(2), "DRILL")
    # When its instances are terminated with no confirmation at all
    status, answer = lc.rest(
        "POST", f"/executions/{execution_id}/terminate-instances"
    )
    # Then it works and no recovery audit is written
    assert (status, answer["count"]) == (200, 2)
    record = lc.record(execution_id)
    assert "recoveryTermination" not in record
    assert "recoveryConfirmed" not in record["terminations"][0]


def test_roles_without_terminate_instances_are_forbidden_first(lc):
    execution_id = _finished(lc, "p1", lc.servers(2), "RECOVERY")
    before = lc.record(execution_id)
    for role in ("DRSPlanManager", "DRSOperator", "DRSReadOnly"):
        status, answer = lc.rest(
            "POST",
            f"/executions/{execution_id}/terminate-instances",
            body={CONFIRM: execution_id},
            groups=(role,),
        )
        assert (status, answer["permission"]) == (
            403,
            "terminate_instances",
        ), role
    _unchanged(lc, execution_id, before)


def test_the_operation_itself_requires_the_permission_of_api_callers(lc):
    # Given a recovery and an API caller without terminate_instances that
    # reached the operation (the route table is not the only guard)
    execution_id = _finished(lc, "p1", lc.servers(2), "RECOVERY")
    before = lc.record(execution_id)
    from recovery_instances import terminate_recovery_instances_operation
    from shared.errors import ForbiddenError

    request = Request(
        body={CONFIRM: execution_id},
        path={"id": execution_id},
        caller=Caller("op@example.com", ("DRSOperator",), via="api"),
    )
    # When it confirms, Then it is forbidden and nothing changed
    with pytest.raises(ForbiddenError):
        terminate_recovery_instances_operation(request)
    _unchanged(lc, execution_id, before)
