"""The local REST API answers malformed bytes with the API's 400 instead
of dropping the connection (issue 15, defect 7c)."""

import http.client
import json

import pytest

from localcloud.rest_api import RestApi

ADMIN = {
    "Content-Type": "application/json",
    "X-Local-User": "alice@example.com",
    "X-Local-Groups": "DRSOrchestrationAdmin",
}


@pytest.fixture
def api():
    """A server whose functions answer 201 with the body they got."""
    calls = []

    def invoke(name, event):
        calls.append(event)
        return {"statusCode": 201, "body": json.dumps(event["body"])}

    server = RestApi(invoke)
    server.calls = calls
    server.start()
    yield server
    server.stop()


def _connection(api):
    port = int(api.url.rsplit(":", 1)[1])
    return http.client.HTTPConnection("127.0.0.1", port, timeout=10)


def _answer(connection):
    response = connection.getresponse()
    return response.status, json.loads(response.read() or b"null")


def test_invalid_utf8_body_is_400_and_the_connection_stays(api):
    connection = _connection(api)
    try:
        # When a POST body is not UTF-8
        connection.request(
            "POST",
            "/protection-groups",
            body=b'{"groupName": "\xff\xfe"}',
            headers=ADMIN,
        )
        status, body = _answer(connection)

        # Then 400 VALIDATION_ERROR naming the body; no function ran
        assert status == 400
        assert body["error"] == "VALIDATION_ERROR"
        assert body["field"] == "body"
        assert api.calls == []

        # And the same connection serves the next (valid) request
        connection.request(
            "POST",
            "/protection-groups",
            body='{"groupName": "é"}'.encode(),
            headers=ADMIN,
        )
        assert _answer(connection) == (201, '{"groupName": "é"}')
    finally:
        connection.close()


@pytest.mark.parametrize("length", ["abc", "-5"])
def test_a_bad_content_length_is_400(api, length):
    connection = _connection(api)
    try:
        # When Content-Length is not a non-negative integer
        connection.putrequest("POST", "/protection-groups")
        for name, value in ADMIN.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", length)
        connection.endheaders()
        status, body = _answer(connection)

        # Then 400 VALIDATION_ERROR naming the header; no function ran
        assert (status, body["field"]) == (400, "Content-Length")
        assert body["error"] == "VALIDATION_ERROR"
        assert api.calls == []
    finally:
        connection.close()
