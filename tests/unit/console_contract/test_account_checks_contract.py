"""Console contract: account validation, the capacity dashboard, the
static-IP check of the launch settings dialog, and the staging-account
calls this API leaves out (``validateTargetAccount``,
``getCombinedCapacity``/``getAllAccountsCapacity``, ``validateStaticIP``,
the ``staging-accounts-api`` calls)."""

import json

import boto3
import pytest

from tests.helpers import REGION, api_event, load_handler
from tests.unit.data_management.conftest import db_group
from tests.unit.query_handler.conftest import SPOKE
from tests.unit.templates.cfn_helpers import load


def _call(folder, method, path, body=None, query=None):
    handler = load_handler(folder).lambda_handler
    event = api_event(
        method, path, body=body, query=query, groups=("DRSReadOnly",)
    )
    response = handler(event, None)
    return response["statusCode"], json.loads(response["body"])


def test_account_screen_validates_an_account(small_world, enforce_external_id):
    # Given the registered spoke
    # When the console posts its empty body to .../validate
    status, body = _call(
        "data-management-handler",
        "POST",
        f"/accounts/targets/{SPOKE}/validate",
        body={},
    )
    # Then it reads accountId, valid, message and the details' flags
    assert status == 200, body
    assert body["accountId"] == SPOKE
    assert body["valid"] is True and isinstance(body["message"], str)
    for flag in ("roleExists", "roleAccessible", "requiredPermissions"):
        assert body["details"][flag] is True, flag


def test_account_screen_reads_why_validation_failed(
    small_world, enforce_external_id
):
    # Given the spoke registered with an ExternalId its role refuses
    from tests.unit.query_handler.conftest import register_spoke

    register_spoke(
        small_world.tables["TARGET_ACCOUNTS_TABLE"], external_id="wrong-1"
    )
    # When the console validates it
    status, body = _call(
        "data-management-handler",
        "POST",
        f"/accounts/targets/{SPOKE}/validate",
        body={},
    )
    # Then valid is false, the message and details.error say why
    assert status == 200, body
    assert body["valid"] is False
    assert body["details"]["roleAccessible"] is False
    assert body["details"]["error"] == body["message"]


METER = ("current", "max", "available")
ACCOUNT_FIELDS = (
    "accountId",
    "accountName",
    "accountType",
    "replicatingServers",
    "totalServers",
    "maxReplicating",
    "percentUsed",
    "availableSlots",
    "status",
    "regionalBreakdown",
    "warnings",
)


def test_capacity_dashboard_reads_every_field(small_world):
    # Given the registered spoke (3 replicating servers)
    # When the dashboard asks as the console does
    status, body = _call(
        "query-handler",
        "GET",
        f"/accounts/targets/{SPOKE}/capacity",
        query={"includeRegionalBreakdown": "true"},
    )
    # Then every field it reads is there, with its type
    assert status == 200, body
    combined = body["combined"]
    for name in ("totalReplicating", "maxReplicating", "percentUsed"):
        assert isinstance(combined[name], int), name
    assert isinstance(combined["availableSlots"], int)
    assert combined["status"] in ("OK", "INFO", "WARNING", "CRITICAL")
    assert isinstance(combined["message"], str)
    (account,) = body["accounts"]
    assert not [f for f in ACCOUNT_FIELDS if f not in account]
    assert account["accountId"] == SPOKE
    assert account["regionalBreakdown"][0]["region"] == REGION
    recovery = body["recoveryCapacity"]
    for name in ("currentServers", "maxRecoveryInstances", "percentUsed"):
        assert isinstance(recovery[name], int), name
    assert recovery["status"] in ("OK", "WARNING", "CRITICAL")
    for meter in ("concurrentJobs", "serversInJobs"):
        assert all(isinstance(body[meter][k], int) for k in METER), meter
    per_job = body["maxServersPerJob"]
    assert all(isinstance(per_job[k], int) for k in METER)
    assert isinstance(per_job["status"], str)
    assert isinstance(per_job["message"], str)
    assert isinstance(body["warnings"], list)
    assert isinstance(body["timestamp"], str)


IP_DETAILS = ("inCidrRange", "notReserved", "available", "subnetCidr")


def test_launch_dialog_validates_a_static_ip(dm):
    # Given a group, its server and an address held by an interface
    group = db_group(dm)
    server = group["sourceServerIds"][0]
    subnet = dm.subnet("data")
    boto3.client("ec2", region_name=REGION).create_network_interface(
        SubnetId=subnet, PrivateIpAddress="10.10.1.80"
    )
    path = f"/protection-groups/{group['groupId']}/servers/{server}"
    # When the dialog posts {staticPrivateIp, subnetId} for a free and
    # for the held address
    answers = [
        dm.rest(
            "POST",
            path + "/validate-ip",
            {"staticPrivateIp": ip, "subnetId": subnet},
            groups=("DRSReadOnly",),
        )
        for ip in ("10.10.1.81", "10.10.1.80")
    ]
    # Then it reads valid, ip, subnetId, message and the details
    for (status, body), ip in zip(answers, ("10.10.1.81", "10.10.1.80")):
        assert status == 200, body
        assert (body["ip"], body["subnetId"]) == (ip, subnet)
        assert isinstance(body["message"], str)
        assert not [f for f in IP_DETAILS if f not in body["details"]]
    assert answers[0][1]["valid"] is True
    held = answers[1][1]
    assert held["valid"] is False and isinstance(held["error"], str)
    conflict = held["conflictingResource"]
    assert conflict["type"] == "network-interface"
    assert conflict["id"].startswith("eni-")
    assert isinstance(conflict["isDrsResource"], bool)


# The staging-account calls of the console, as it builds them.
STAGING_CALLS = [
    ("POST", "/staging-accounts/validate"),
    ("POST", "/accounts/targets/{id}/staging-accounts"),
    ("GET", "/accounts/targets/{id}/staging-accounts/discover"),
    ("DELETE", "/accounts/targets/{id}/staging-accounts/{stagingAccountId}"),
]


@pytest.mark.parametrize("method, path", STAGING_CALLS)
def test_staging_account_calls_are_404_out_of_scope(method, path):
    # Given the REST API the template deploys
    body = load("api-gateway-stack.yaml")["Resources"]["RestApi"]
    operation = body["Properties"]["Body"]["paths"][path][method.lower()]
    # When the console makes the call, API Gateway answers it itself
    integration = operation["x-amazon-apigateway-integration"]
    answer = integration["responses"]["default"]
    error = json.loads(answer["responseTemplates"]["application/json"])
    # Then 404 NOT_FOUND saying the extension is out of scope, with the
    # CORS header the browser needs to read it
    assert answer["statusCode"] == "404"
    assert error["error"] == "NOT_FOUND"
    assert "staging-account extension" in error["message"]
    assert "out of scope" in error["message"]
    origin = "method.response.header.Access-Control-Allow-Origin"
    assert answer["responseParameters"][origin] == "'*'"
