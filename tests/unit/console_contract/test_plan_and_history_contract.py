"""Console contract: the "Run" dialog's existing-instances warning and
the history page's delete (``checkExistingRecoveryInstances``,
``deleteExecutions``, ``deleteCompletedExecutions`` of the console)."""

import json

from tests.helpers import api_event, load_handler
from tests.unit.execution_lifecycle.test_execution_queries import _launched

# What the warning dialog reads of each existing instance.
INSTANCE_FIELDS = (
    "sourceServerId",
    "recoveryInstanceId",
    "ec2InstanceId",
    "ec2InstanceState",
    "sourceExecutionId",
    "sourcePlanName",
    "region",
)


def _query_handler(method, path, groups=("DRSReadOnly",)):
    handler = load_handler("query-handler").lambda_handler
    response = handler(api_event(method, path, groups=groups), None)
    return response["statusCode"], json.loads(response["body"])


def test_run_dialog_reads_the_instances_an_earlier_drill_left(lc):
    # Given a completed drill of the plan whose instances are alive
    servers = lc.servers(2)
    execution_id, _ = _launched(lc, "p1", servers)
    # When the "Run" dialog checks the plan as the console does
    status, body = _query_handler(
        "GET", "/recovery-plans/p1/check-existing-instances"
    )
    # Then every field it reads is there
    assert status == 200, body
    assert body["planId"] == "p1"
    assert body["hasExistingInstances"] is True
    assert body["instanceCount"] == len(body["existingInstances"]) == 2
    for instance in body["existingInstances"]:
        missing = [f for f in INSTANCE_FIELDS if f not in instance]
        assert not missing, (missing, instance)
        assert all(isinstance(instance[f], str) for f in INSTANCE_FIELDS)
        assert instance["sourceExecutionId"] == execution_id
    # And the warning's EC2 details (name, IP, type, launch time) too
    assert all("instanceType" in i for i in body["existingInstances"])


def test_run_dialog_reads_no_warning_for_a_fresh_plan(lc):
    # Given a plan never run
    lc.plan("p1", ("g1", lc.servers(1)))
    # When the dialog checks it
    status, body = _query_handler(
        "GET", "/recovery-plans/p1/check-existing-instances"
    )
    # Then no warning: false, 0 and an empty list
    assert status == 200, body
    assert body["hasExistingInstances"] is False
    assert (body["instanceCount"], body["existingInstances"]) == (0, [])


# What the history page reads of the delete answer.
DELETE_COUNTS = (
    "deletedCount",
    "totalRequested",
    "notFound",
    "activeSkipped",
    "failed",
)


def test_history_page_deletes_the_selection_and_reads_the_report(lc):
    # Given a finished execution and a running one, selected together
    lc.plan("p1", ("g1", lc.servers(1)))
    lc.plan("p2", ("g2", lc.servers(1, offset=1)))
    finished = lc.start("p1")
    lc.set_record(finished, status="CANCELLED")
    running = lc.start("p2")
    lc.set_record(running, status="RUNNING")
    # When the console sends DELETE /executions?ids=<a>,<b> (the comma
    # URL-encoded; API Gateway hands the decoded value to the function)
    status, body = lc.rest(
        "DELETE",
        "/executions",
        query={"ids": f"{finished},{running},gone"},
        groups=("DRSOrchestrationAdmin",),
    )
    # Then every field it reads is there, the running one kept and named
    assert status == 200, body
    assert isinstance(body["message"], str)
    assert {k: body[k] for k in DELETE_COUNTS} == {
        "deletedCount": 1,
        "totalRequested": 3,
        "notFound": 1,
        "activeSkipped": 1,
        "failed": 0,
    }
    assert body["notFoundIds"] == ["gone"]
    (kept,) = body["activeExecutionsSkipped"]
    assert kept == {
        "executionId": running,
        "status": "RUNNING",
        "reason": kept["reason"],
    }
    assert isinstance(kept["reason"], str) and kept["reason"]
    assert body["failedDeletes"] == []
    assert lc.record(running)["status"] == "RUNNING"


def test_delete_all_completed_without_ids_is_refused_clearly(lc):
    # Given the console's "delete completed" call (no ids)
    # When it is sent
    status, error = lc.rest("DELETE", "/executions")
    # Then a 400 whose message the console shows says ids are needed
    assert (status, error["error"], error["field"]) == (
        400,
        "VALIDATION_ERROR",
        "ids",
    )
    assert "ids" in error["message"]
