"""API Gateway's own error answers carry CORS headers (issue 20).

Without them a browser console sees API Gateway's 401/403 (expired token,
authorizer refusal), throttling and integration failures as network
errors instead of answers it can show.
"""

import pytest

from tests.unit.templates.cfn_helpers import load

CORS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Headers",
    "Access-Control-Allow-Methods",
)


def _responses():
    api = load("api-gateway-stack.yaml")["Resources"]["RestApi"]
    return api["Properties"]["Body"]["x-amazon-apigateway-gateway-responses"]


@pytest.mark.parametrize(
    "kind, status, code",
    [
        ("UNAUTHORIZED", "401", None),
        ("ACCESS_DENIED", "403", "FORBIDDEN"),
        ("DEFAULT_4XX", None, None),
        ("DEFAULT_5XX", None, "INTERNAL_ERROR"),
    ],
)
def test_gateway_response_has_cors_headers_and_json_body(kind, status, code):
    # Given the REST API body of the template
    response = _responses()[kind]
    # Then the gateway response sends every CORS header
    params = response["responseParameters"]
    for header in CORS:
        assert params[f"gatewayresponse.header.{header}"].startswith("'")
    assert params["gatewayresponse.header.Access-Control-Allow-Origin"] == (
        "'*'"
    )
    # And a JSON body with API Gateway's message (and our code if any)
    body = response["responseTemplates"]["application/json"]
    assert "$context.error.messageString" in body
    assert (f'"error": "{code}"' in body) is (code is not None)
    assert response.get("statusCode") == status


def test_gateway_responses_allow_every_method_the_api_has():
    # Given the methods of the API's paths
    api = load("api-gateway-stack.yaml")["Resources"]["RestApi"]
    methods = {
        method.upper()
        for path in api["Properties"]["Body"]["paths"].values()
        for method in path
    }
    # Then the gateway responses allow them all
    allowed = _responses()["DEFAULT_4XX"]["responseParameters"][
        "gatewayresponse.header.Access-Control-Allow-Methods"
    ].strip("'")
    assert set(allowed.split(",")) == methods
