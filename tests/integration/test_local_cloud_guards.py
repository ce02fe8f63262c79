"""The local cloud refuses what AWS refuses (issue 15, defect 7), seen
through the REST API and the packaged functions: a spoke whose role or
ExternalId is wrong cannot be registered, a body that is not UTF-8 and a
region that does not exist are 400s."""

import http.client
import json

import pytest

from localcloud.rest_api import serve_for

ADMIN = {
    "Content-Type": "application/json",
    "X-Local-User": "ad@example.com",
    "X-Local-Groups": "DRSOrchestrationAdmin",
}


@pytest.fixture
def api(local_cloud):
    server = serve_for(local_cloud)
    yield server
    server.stop()
    local_cloud.api_url = None


def call(api, method, path, body=None):
    """(status, JSON body); ``body`` bytes are sent as they are."""
    port = int(api.url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    if body is not None and not isinstance(body, bytes):
        body = json.dumps(body).encode()
    try:
        connection.request(method, path, body=body, headers=ADMIN)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def spoke_account(local_cloud, **changes):
    spoke = local_cloud.scenario.spokes[0]
    account = {
        "accountId": spoke.account_id,
        "accountName": spoke.name,
        "roleArn": f"arn:aws:iam::{spoke.account_id}:role/"
        f"{spoke.cross_account_role}",
        "externalId": spoke.external_id,
    }
    account.update(changes)
    return account


@pytest.mark.parametrize(
    "changes",
    [
        {"externalId": "not-the-external-id"},
        {"roleArn": "arn:aws:iam::210987654321:role/NoSuchRole"},
    ],
    ids=["wrong-external-id", "missing-role"],
)
def test_a_spoke_whose_role_cannot_be_assumed_is_refused(
    api, local_cloud, changes
):
    # Given the scenario's spoke with a wrong ExternalId or role
    account = spoke_account(local_cloud, **changes)
    assert account["accountId"] == "210987654321"

    # When an admin registers it, Then STS refused: 400 on roleArn
    status, body = call(api, "POST", "/accounts/targets", account)
    assert (status, body["error"], body["field"]) == (
        400,
        "VALIDATION_ERROR",
        "roleArn",
    ), body
    assert "AccessDenied" in body["message"]

    # And with the right role and ExternalId it is registered
    status, body = call(
        api, "POST", "/accounts/targets", spoke_account(local_cloud)
    )
    assert status in (200, 201), body


def test_invalid_utf8_and_unknown_region_are_400(api):
    # When a body is not UTF-8 / a query names a region AWS lacks
    body = call(api, "POST", "/protection-groups", b'{"groupName":"\xff"}')
    region = call(api, "GET", "/ec2/instance-types?region=zz-nowhere-9")

    # Then both are 400 VALIDATION_ERROR naming what is wrong
    assert body[0] == 400 and body[1]["field"] == "body"
    assert region[0] == 400 and region[1]["field"] == "region", region
