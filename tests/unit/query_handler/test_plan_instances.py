"""GET /recovery-plans/{id}/check-existing-instances."""

import json

from tests.helpers import api_event, load_handler
from tests.unit.execution_lifecycle.conftest import (  # noqa: F401
    lc,
    lc_factory,
)
from tests.unit.execution_lifecycle.test_execution_queries import _launched


def _check(plan_id, groups=("DRSReadOnly",)):
    handler = load_handler("query-handler").lambda_handler
    path = f"/recovery-plans/{plan_id}/check-existing-instances"
    response = handler(api_event("GET", path, groups=groups), None)
    return response["statusCode"], json.loads(response["body"])


def test_instances_left_by_an_earlier_drill_are_reported(lc):
    # Given a completed drill of the plan's two servers, not terminated
    servers = lc.servers(2)
    execution_id, job_id = _launched(lc, "p1", servers)
    # When the console checks the plan before a new drill
    status, body = _check("p1")
    # Then both instances are reported with the execution that ran them
    assert status == 200, body
    assert body["hasExistingInstances"] is True
    assert body["instanceCount"] == 2 and body["planId"] == "p1"
    assert [i["sourceServerId"] for i in body["existingInstances"]] == sorted(
        servers
    )
    for instance in body["existingInstances"]:
        assert instance["recoveryInstanceId"] and instance["ec2InstanceId"]
        assert instance["ec2InstanceState"] not in ("TERMINATED",)
        assert instance["region"] and instance["jobId"] == job_id
        assert instance["sourceExecutionId"] == execution_id
        assert instance["sourcePlanName"] == "Plan p1"
    assert body["unreadable"] == []


def test_terminated_instances_and_other_servers_are_not_reported(lc):
    # Given a drill of server A whose instances were terminated, and a
    # drill of server B (not in the plan checked)
    a, b = lc.servers(2)
    _launched(lc, "p1", [a])
    _launched(lc, "p2", [b])
    ids = [
        i["recoveryInstanceID"]
        for i in lc.drs().describe_recovery_instances(
            filters={"sourceServerIDs": [a]}
        )["items"]
    ]
    lc.drs().terminate_recovery_instances(recoveryInstanceIDs=ids)
    lc.sim.clock.advance(600)
    lc.sim.tick()
    # When plan p1 is checked
    status, body = _check("p1")
    # Then nothing alive is left of its server
    assert status == 200, body
    assert body["hasExistingInstances"] is False, body
    assert body["existingInstances"] == [] and body["instanceCount"] == 0


def test_unknown_plan_is_404(lc):
    # When a plan that does not exist is checked
    status, error = _check("no-such-plan")
    # Then 404 NOT_FOUND
    assert (status, error["error"]) == (404, "NOT_FOUND"), error
