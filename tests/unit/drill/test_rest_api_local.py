"""The local REST API server in front of the real handlers (in-process
invoke under moto): routing, identity, RBAC, errors, /health."""

import json
import urllib.error
import urllib.request

import pytest

from localcloud.drill.invoker import function_name
from localcloud.rest_api import RestApi, match_route
from tests.helpers import load_handler

FOLDERS = ("data-management-handler", "query-handler")


@pytest.fixture
def api(ddb_tables):
    """A server whose invoke runs the handler code in this process."""
    handlers = {
        function_name(f): load_handler(f).lambda_handler for f in FOLDERS
    }
    calls = []

    def invoke(name, event):
        calls.append((name, event))
        return handlers[name](event, None)

    server = RestApi(invoke)
    server.calls = calls
    server.start()
    yield server
    server.stop()


def request(api, method, path, body=None, user=None, groups=None):
    """(status, parsed body) of one HTTP request, curl-like."""
    headers = {"Content-Type": "application/json"}
    if user:
        headers["X-Local-User"] = user
    if groups is not None:
        headers["X-Local-Groups"] = groups
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        api.url + path, data=data, method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as response:  # nosec
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def test_health_answers_without_identity(api):
    # When /health is asked without any identity
    status, body = request(api, "GET", "/health")
    # Then it is healthy and no function was invoked
    assert (status, body["status"]) == (200, "healthy")
    assert api.calls == []


def test_no_identity_is_401_like_the_authorizer(api):
    # When an endpoint is called without identity and no server default
    status, body = request(api, "GET", "/protection-groups")
    # Then 401, the function is never reached
    assert status == 401
    assert api.calls == []


def test_admin_lists_groups_through_the_owning_function(api):
    # When an admin lists protection groups
    status, body = request(
        api,
        "GET",
        "/protection-groups",
        user="alice@example.com",
        groups="DRSOrchestrationAdmin",
    )
    # Then the data-management-handler answered with a proxy event
    assert status == 200, body
    name, event = api.calls[-1]
    assert name == function_name("data-management-handler")
    claims = event["requestContext"]["authorizer"]["claims"]
    assert claims["email"] == "alice@example.com"
    assert claims["cognito:groups"] == "DRSOrchestrationAdmin"
    assert event["resource"] == "/protection-groups"


def test_operator_may_not_manage_accounts(api):
    # When an operator registers a target account
    status, body = request(
        api,
        "POST",
        "/accounts/targets",
        {"accountId": "210987654321", "accountName": "spoke"},
        user="bob@example.com",
        groups="DRSOperator",
    )
    # Then RBAC answers 403 with a machine-readable code
    assert status == 403
    assert body["error"] == "FORBIDDEN"


def test_bad_input_and_unknown_routes(api):
    # When a group without a name is created, and an unknown path is asked
    status, body = request(
        api, "POST", "/protection-groups", {}, groups="DRSOrchestrationAdmin"
    )
    missing, _ = request(api, "GET", "/nope", groups="DRSReadOnly")
    wrong, allowed = request(api, "PATCH", "/protection-groups")
    # Then 400 VALIDATION_ERROR, 404, 405 listing the methods
    assert (status, body["error"]) == (400, "VALIDATION_ERROR")
    assert missing == 404
    assert wrong == 405 and allowed["allowed"] == ["GET", "POST"]


def test_server_default_identity_and_path_parameters():
    # Given a server defaulting to the read-only group
    seen = []

    def invoke(name, event):
        seen.append(event)
        return {"statusCode": 404, "headers": {}, "body": "{}"}

    server = RestApi(invoke, default_groups=["DRSReadOnly"])
    server.start()
    try:
        # When a templated path is asked without headers
        status, _ = request(server, "GET", "/executions/ex-9/waves?x=1")
    finally:
        server.stop()
    # Then the route's parameters and the default identity are passed
    assert status == 404
    event = seen[0]
    assert event["pathParameters"] == {"id": "ex-9"}
    assert event["queryStringParameters"] == {"x": "1"}
    assert event["resource"] == "/executions/{id}/waves"
    assert match_route("POST", "/protection-groups/resolve")[0].operation == (
        "resolve_protection_group_tags"
    )


def test_function_error_is_502_and_preflight_has_cors():
    # Given a function that fails (the invoke raises, as on FunctionError)
    def invoke(name, event):
        raise RuntimeError("boom")

    server = RestApi(invoke, default_groups=["DRSOrchestrationAdmin"])
    server.start()
    try:
        # When an endpoint and a CORS preflight are asked
        status, body = request(server, "GET", "/protection-groups")
        req = urllib.request.Request(
            server.url + "/protection-groups", method="OPTIONS"
        )
        with urllib.request.urlopen(req, timeout=10) as response:  # nosec
            preflight = response.status, dict(response.headers)
    finally:
        server.stop()
    # Then 502 like API Gateway (no internals), and the preflight allows
    assert (status, body) == (502, {"message": "Internal server error"})
    assert preflight[0] == 200
    assert preflight[1]["Access-Control-Allow-Origin"] == "*"
