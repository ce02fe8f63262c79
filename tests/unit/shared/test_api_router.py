"""The Router: REST (with RBAC), direct operations and actions."""

import json

import pytest

from shared.api import Request, Router
from shared.errors import NotFoundError, ValidationError
from tests.helpers import api_event


@pytest.fixture
def router():
    router = Router("execution-handler")

    @router.operation("get_execution_details")
    def details(request: Request):
        if request.path["id"] == "missing":
            raise NotFoundError("execution missing not found")
        return {"executionId": request.path["id"], "by": request.caller.name}

    @router.operation("execute_recovery_plan", status=202)
    def execute(request: Request):
        if "planId" not in request.body:
            raise ValidationError("planId is required", field="planId")
        return {"planId": request.body["planId"]}

    @router.operation("list_executions")
    def boom(request: Request):
        raise RuntimeError("secret internals")

    @router.action("start_wave_recovery")
    def start(event):
        if event.get("wave_number") == 99:
            raise RuntimeError("DRS exploded")
        return {"wave": event["wave_number"]}

    return router


def test_registering_an_operation_of_another_handler_fails():
    with pytest.raises(ValueError):
        Router("query-handler").operation("execute_recovery_plan")


def test_rest_call_with_permission(router):
    # Given a read-only user
    event = api_event("GET", "/executions/e-1", groups=("DRSReadOnly",))
    # When they read an execution
    response = router.handle(event)
    # Then it answers 200 with CORS headers and the body
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {
        "executionId": "e-1",
        "by": "tester@example.com",
    }
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("groups", [("DRSReadOnly",), (), None])
def test_rest_call_without_permission_is_forbidden(router, groups):
    event = api_event(
        "POST", "/executions", body={"planId": "p"}, groups=groups
    )
    response = router.handle(event)
    assert response["statusCode"] == 403
    body = json.loads(response["body"])
    assert body["error"] == "FORBIDDEN"
    assert body["permission"] == "start_recovery"


def test_rest_domain_errors_map_to_status(router):
    response = router.handle(api_event("GET", "/executions/missing"))
    assert response["statusCode"] == 404
    assert json.loads(response["body"])["error"] == "NOT_FOUND"
    response = router.handle(api_event("POST", "/executions", body={}))
    assert response["statusCode"] == 400
    assert json.loads(response["body"]) == {
        "error": "VALIDATION_ERROR",
        "message": "planId is required",
        "field": "planId",
    }


def test_rest_custom_status_and_invalid_json(router):
    ok = router.handle(api_event("POST", "/executions", body={"planId": "p"}))
    assert ok["statusCode"] == 202
    event = api_event("POST", "/executions")
    event["body"] = "{not json"
    bad = router.handle(event)
    assert bad["statusCode"] == 400
    assert json.loads(bad["body"])["field"] == "body"


def test_rest_unexpected_error_hides_internals(router):
    response = router.handle(api_event("GET", "/executions"))
    assert response["statusCode"] == 500
    assert "secret" not in response["body"]
    assert json.loads(response["body"])["error"] == "INTERNAL_ERROR"


def test_rest_unknown_route_is_404(router):
    response = router.handle(api_event("GET", "/nope"))
    assert response["statusCode"] == 404


def test_direct_operation_uses_id_alias_and_records_caller(router):
    result = router.handle(
        {
            "operation": "get_execution_details",
            "caller": "script",
            "body": {"executionId": "e-9", "initiatedBy": "someone-else"},
        }
    )
    # The event's caller is the identity; a body initiatedBy never is.
    assert result == {"executionId": "e-9", "by": "script"}


def test_direct_client_error_is_an_error_body(router):
    result = router.handle({"operation": "execute_recovery_plan"})
    assert result == {
        "error": "VALIDATION_ERROR",
        "message": "planId is required",
        "statusCode": 400,
        "field": "planId",
    }


def test_direct_unknown_operation(router):
    result = router.handle({"operation": "nope"})
    assert result["error"] == "VALIDATION_ERROR"
    assert result["field"] == "operation"


def test_direct_unexpected_error_raises(router):
    with pytest.raises(RuntimeError):
        router.handle({"operation": "list_executions"})


def test_action_result_and_errors_propagate(router):
    assert router.handle(
        {"action": "start_wave_recovery", "wave_number": 1}
    ) == {"wave": 1}
    with pytest.raises(RuntimeError, match="DRS exploded"):
        router.handle({"action": "start_wave_recovery", "wave_number": 99})
    with pytest.raises(ValueError, match="unknown action"):
        router.handle({"action": "nope"})


def test_unrecognised_event_shape(router):
    assert router.handle({"foo": 1})["error"] == "VALIDATION_ERROR"
