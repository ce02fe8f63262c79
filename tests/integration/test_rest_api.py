"""The local REST API in front of the local cloud's packaged functions:
curl-like requests through ``urllib``."""

import json
import urllib.error
import urllib.request

import pytest

from localcloud.rest_api import serve_for


@pytest.fixture
def api(local_cloud):
    """The REST API served for the local cloud (no default identity)."""
    server = serve_for(local_cloud)
    yield server
    server.stop()
    local_cloud.api_url = None


def call(url, method="GET", body=None, user=None, groups=None):
    """(status, JSON body) of one request."""
    headers = {"Content-Type": "application/json"}
    if user:
        headers["X-Local-User"] = user
    if groups:
        headers["X-Local-Groups"] = groups
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:  # nosec
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def test_health_and_401_without_identity(api, local_cloud):
    # When /health and an endpoint are asked without identity
    health = call(api.url + "/health")
    denied = call(api.url + "/protection-groups")
    # Then health answers, the endpoint is refused like the authorizer does
    assert health[0] == 200
    assert denied[0] == 401
    assert local_cloud.env()["DRS_ORCH_API_URL"] == api.url


def test_read_only_user_sees_source_servers_from_the_simulator(api):
    # When a read-only user lists the DRS source servers of the hub
    status, body = call(
        api.url + "/drs/source-servers?region=us-east-1",
        user="rita@example.com",
        groups="DRSReadOnly",
    )
    # Then the packaged query-handler answers with the scenario's servers
    assert status == 200, body
    hostnames = {s["hostname"] for s in body["servers"]}
    assert {"erp-db-01", "erp-app-03", "erp-web-02"} <= hostnames


def test_rbac_403_then_admin_registers_the_spoke(api, local_cloud):
    # Given the spoke account of the scenario
    spoke = local_cloud.scenario.spokes[0]
    account = {
        "accountId": spoke.account_id,
        "accountName": spoke.name,
        "roleArn": f"arn:aws:iam::{spoke.account_id}:role/"
        f"{spoke.cross_account_role}",
        "externalId": spoke.external_id,
    }
    # When an operator and then an admin register it
    url = api.url + "/accounts/targets"
    operator = call(url, "POST", account, "op@example.com", "DRSOperator")
    admin = call(
        url, "POST", account, "ad@example.com", "DRSOrchestrationAdmin"
    )
    listed = call(url, user="ro@example.com", groups="DRSReadOnly")
    # Then the operator gets 403 FORBIDDEN, the admin creates it
    assert operator[0] == 403 and operator[1]["error"] == "FORBIDDEN"
    assert admin[0] in (200, 201), admin
    # (the REST list is the JSON array the console reads)
    assert [a["accountId"] for a in listed[1]] == [spoke.account_id]


def test_unknown_execution_is_404(api):
    # When an unknown execution is asked
    status, body = call(
        api.url + "/executions/no-such-id", groups="DRSReadOnly"
    )
    # Then the execution-handler answers 404 NOT_FOUND
    assert (status, body["error"]) == (404, "NOT_FOUND")
