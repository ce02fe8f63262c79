"""The local REST API serves the API's OpenAPI document without identity."""

import json
import urllib.error
import urllib.request

import pytest

from localcloud.rest_api import OPENAPI_DOCUMENT, serve_for
from shared import rbac


@pytest.fixture
def api(local_cloud):
    """The REST API served for the local cloud (no default identity)."""
    server = serve_for(local_cloud)
    yield server
    server.stop()
    local_cloud.api_url = None


def test_openapi_document_is_served_without_identity(api):
    # When GET /openapi.json is asked without any identity
    request = urllib.request.Request(api.url + "/openapi.json")
    with urllib.request.urlopen(request, timeout=30) as response:  # nosec
        status = response.status
        document = json.loads(response.read())
    # Then it answers the committed document, listing every endpoint
    assert status == 200
    assert document == json.loads(OPENAPI_DOCUMENT.read_text())
    operations = {
        op["operationId"]
        for methods in document["paths"].values()
        for op in methods.values()
    }
    assert operations == set(rbac.ENDPOINTS_BY_OPERATION)


@pytest.mark.parametrize("method", ["TRACE", "QUERY"])
def test_other_http_methods_answer_405_not_501(api, method):
    # When a method no endpoint has is sent to a known path
    request = urllib.request.Request(
        api.url + "/protection-groups", method=method
    )
    try:
        urllib.request.urlopen(request, timeout=30)  # nosec
        status = 200
    except urllib.error.HTTPError as error:
        status = error.code
    # Then it is a wrong method (405), as for DELETE on a list path
    assert status == 405
