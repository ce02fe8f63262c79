"""Plan readiness on the local cloud: GET /recovery-plans/{id}/readiness
through the local REST API and the packaged query-handler, for a healthy
plan and for a plan with a STALLED server; the drill stops on the
latter before anything starts."""

import io
import json
import time
import urllib.request

import pytest
import yaml

from localcloud.drill.invoker import Invoker
from localcloud.drill.plan_setup import load_plan, plans_of, setup_plans
from localcloud.drill.runner import DrillOptions, run_drill
from localcloud.rest_api import serve_for
from localcloud.scenario import scenario_from_dict
from tests.helpers import SCRIPTS_DIR

SCENARIO = SCRIPTS_DIR / "scenarios" / "three-tier.yaml"
QUERY_HANDLER = "hrp-drs-tech-adapter-query-handler-dev"
PLANS_TABLE = "hrp-drs-tech-adapter-recovery-plans-dev"


@pytest.fixture
def api(local_cloud):
    server = serve_for(local_cloud)
    yield server
    server.stop()
    local_cloud.api_url = None


def readiness(api, plan_id):
    """(status, body) of GET /recovery-plans/{id}/readiness."""
    request = urllib.request.Request(
        f"{api.url}/recovery-plans/{plan_id}/readiness",
        headers={
            "X-Local-User": "rita@example.com",
            "X-Local-Groups": "DRSReadOnly",
        },
    )
    with urllib.request.urlopen(request, timeout=60) as answer:  # nosec
        return answer.status, json.loads(answer.read())


def stalled_scenario():
    """The sample scenario with one more ERP database, erp-db-09, whose
    replication STALLED."""
    data = yaml.safe_load(SCENARIO.read_text())
    servers = data["accounts"][0]["regions"]["us-east-1"]["source_servers"]
    database = dict(servers[0], hostname="erp-db-09", count=1)
    database["replication_state"] = "STALLED"
    servers.append(database)
    return scenario_from_dict(data)


def erp_only():
    definition = load_plan()
    definition["plans"] = plans_of(definition)[:1]
    return definition


def test_healthy_plan_is_ready_through_the_rest_api(local_cloud, api):
    # Given the sample definition's plans set up on the local cloud
    invoker = Invoker(local_cloud.client("lambda"))
    setups = setup_plans(invoker, load_plan(), local_cloud.scenario, "-r1")
    # When a read-only user asks each plan's readiness
    for setup in setups:
        began = time.monotonic()
        status, body = readiness(api, setup.plan_id)
        # Then each is READY in every check, quickly
        assert status == 200
        assert body["status"] == "READY", body
        assert body["planId"] == setup.plan_id
        assert all(c["status"] == "READY" for c in body["checks"])
        assert time.monotonic() - began < 10
    # When the scheduled action runs in the packaged query-handler
    answer = local_cloud.client("lambda").invoke(
        FunctionName=QUERY_HANDLER,
        Payload=json.dumps({"action": "evaluate_readiness"}).encode(),
    )
    assert "FunctionError" not in answer
    evaluated = json.load(answer["Payload"])
    # Then every plan was evaluated and its result stored on the plan
    statuses = {p["planId"]: p["status"] for p in evaluated["plans"]}
    assert {s.plan_id for s in setups} <= set(statuses)
    table = local_cloud.client("dynamodb")
    for setup in setups:
        item = table.get_item(
            TableName=PLANS_TABLE, Key={"planId": {"S": setup.plan_id}}
        )["Item"]
        assert item["readiness"]["M"]["status"]["S"] == "READY"


def test_stalled_server_is_named_and_the_drill_stops(
    local_cloud, api, tmp_path
):
    # Given a database server whose replication stalled
    scenario = stalled_scenario()
    local_cloud.reset(scenario)
    invoker = Invoker(local_cloud.client("lambda"))
    # When the drill of the ERP plan runs on this scenario
    stream = io.StringIO()
    options = DrillOptions(
        plan=erp_only(),
        scenario=scenario,
        speed=local_cloud.speed,
        timeout=60,
        out_dir=tmp_path,
        stream=stream,
        tty=False,
    )
    run = run_drill(invoker, options)
    # Then it stops non-zero with the readiness report, nothing started
    assert run.exit_code == 1
    report = run.results[0].report
    assert report["status"] == "NOT_READY"
    assert "replication (erp-db-09)" in report["statusReason"]
    printed = stream.getvalue()
    assert "readiness: NOT_READY" in printed
    assert "erp-db-09" in printed and "STALLED" in printed
    executions = invoker.execution("list_executions", query={})
    assert executions.get("executions", executions) == []
    # When the plan's readiness is asked through the REST API
    status, body = readiness(api, report["planId"])
    # Then it is NOT_READY, naming the server under replication only
    assert status == 200
    assert body["status"] == "NOT_READY"
    replication = next(c for c in body["checks"] if c["name"] == "replication")
    named = [(s["hostname"], s["waveNumber"]) for s in replication["servers"]]
    assert named == [("erp-db-09", 1)]
    others = [c["status"] for c in body["checks"] if c is not replication]
    assert others == ["READY"] * 4
