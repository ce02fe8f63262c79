"""docs/openapi.json is the code's API: fresh, valid, complete."""

import json

import pytest
from openapi_spec_validator import validate

import gen_openapi
import openapi_schemas
from shared import rbac

WRITES = [e for e in rbac.ENDPOINTS if e.method in ("POST", "PUT")]


@pytest.fixture(scope="module")
def document():
    return gen_openapi.build_document()


def test_committed_document_is_up_to_date():
    # Given the committed document
    committed = gen_openapi.OUTPUT.read_text()
    # When it is generated afresh from the code
    fresh = gen_openapi.render()
    # Then nothing changed
    assert committed == fresh, (
        "docs/openapi.json is stale: run "
        ".venv/bin/python scripts/gen_openapi.py"
    )


def test_document_is_valid_openapi_3(document):
    # When the generated document is checked against the OpenAPI spec
    validate(json.loads(json.dumps(document)))
    # Then it is an OpenAPI 3 document (validate raised nothing)
    assert document["openapi"].startswith("3.")


@pytest.mark.parametrize("endpoint", rbac.ENDPOINTS, ids=lambda e: e.operation)
def test_every_endpoint_has_request_and_response_schemas(document, endpoint):
    # Given an endpoint of rbac.ENDPOINTS
    op = document["paths"][endpoint.path][endpoint.method.lower()]
    # Then it is documented with its operation, permission and security
    assert op["operationId"] == endpoint.operation
    assert op["x-permission"] == endpoint.permission
    assert document["security"] == [{"CognitoUserPool": []}]
    # and its success and error answers have schemas
    success = openapi_schemas.success_status(endpoint.operation)
    for status in (success, "400", "401", "403", "404", "409", "500"):
        assert op["responses"][status]["content"]["application/json"][
            "schema"
        ], status
    # and each path parameter is declared
    declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
    assert declared == set(gen_openapi.PATH_PARAM.findall(endpoint.path))
    # and a POST/PUT has a request body schema
    if endpoint in WRITES:
        body = op["requestBody"]["content"]["application/json"]["schema"]
        assert body["type"] == "object"


def test_schema_tables_name_only_real_operations():
    # Given every operation named by the schema module
    named = (
        set(openapi_schemas.BODY_FIELDS)
        | set(openapi_schemas.REQUIRED_BODY)
        | set(openapi_schemas.QUERY_PARAMS)
        | set(openapi_schemas.SUCCESS_STATUS)
        | set(openapi_schemas.LIST_KEYS)
        | openapi_schemas.OPEN_BODIES
        | openapi_schemas.IGNORED_BODIES
    )
    # Then each is an endpoint (a renamed operation cannot go stale)
    assert named <= set(rbac.ENDPOINTS_BY_OPERATION)


def test_required_body_fields_are_declared_fields():
    # Given the required fields of each body
    for operation, required in openapi_schemas.REQUIRED_BODY.items():
        # Then each is one of the fields the code accepts
        assert set(required) <= set(openapi_schemas.BODY_FIELDS[operation])


def test_error_schema_matches_the_domain_error_body():
    # Given the body the API answers for a domain error
    from shared.errors import ValidationError

    body = ValidationError("x is required", field="x").to_body()
    # Then it has the properties the Error schema requires
    assert set(openapi_schemas.ERROR["required"]) <= set(body)
    assert body["error"] == "VALIDATION_ERROR"
