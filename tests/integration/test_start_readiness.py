"""Readiness at start on the local cloud (issue 19 item 3): POST
/executions of a plan with a STALLED server answers 409 PLAN_NOT_READY
through the local REST API and the packaged execution-handler, naming the
server; nothing is recorded and no DRS job starts."""

import json
import urllib.error
import urllib.request

import pytest

from localcloud.drill.invoker import Invoker
from localcloud.drill.plan_setup import setup_plans
from localcloud.rest_api import serve_for
from tests.integration.test_plan_readiness import erp_only, stalled_scenario


@pytest.fixture
def api(local_cloud):
    server = serve_for(local_cloud)
    yield server
    server.stop()
    local_cloud.api_url = None


def post_execution(api, body):
    """(status, body) of POST /executions by a recovery manager."""
    request = urllib.request.Request(
        f"{api.url}/executions",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Local-User": "maria@example.com",
            "X-Local-Groups": "DRSRecoveryManager",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:  # nosec
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_stalled_server_refuses_the_start_through_the_rest_api(
    local_cloud, api
):
    # Given the ERP plan on a scenario whose erp-db-09 replication STALLED
    scenario = stalled_scenario()
    local_cloud.reset(scenario)
    invoker = Invoker(local_cloud.client("lambda"))
    (setup,) = setup_plans(invoker, erp_only(), scenario, "-sr")
    # When a recovery manager starts a drill of it
    status, body = post_execution(
        api, {"planId": setup.plan_id, "executionType": "DRILL"}
    )
    # Then 409 PLAN_NOT_READY names the replication check and the server
    assert (status, body["error"]) == (409, "PLAN_NOT_READY"), body
    assert body["failingChecks"] == ["replication"]
    (check,) = body["checks"]
    named = [(s["hostname"], s["waveNumber"]) for s in check["servers"]]
    assert named == [("erp-db-09", 1)]
    assert "erp-db-09" in body["message"]
    # And nothing was recorded and no DRS job started
    executions = invoker.execution("list_executions", query={})
    assert executions.get("executions", executions) == []
    assert local_cloud.client("drs").describe_jobs()["items"] == []
