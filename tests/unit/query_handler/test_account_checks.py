"""GET /accounts/targets/{id}/capacity and POST .../validate."""

import json

from tests.helpers import HUB_ACCOUNT, REGION, api_event, load_handler
from tests.unit.query_handler.conftest import SPOKE


def _call(world, method, path, folder="query-handler", query=None):
    handler = load_handler(folder).lambda_handler
    event = api_event(method, path, query=query, groups=("DRSReadOnly",))
    if method == "POST":
        event = api_event(
            method, path, body={}, query=query, groups=("DRSReadOnly",)
        )
    response = handler(event, None)
    return response["statusCode"], json.loads(response["body"])


def test_capacity_of_the_spoke_counts_its_servers(small_world):
    # Given the registered spoke with 3 replicating servers
    # When its capacity is asked
    status, body = _call(
        small_world, "GET", f"/accounts/targets/{SPOKE}/capacity"
    )
    # Then usage is the spoke's, the job quotas the deployment's
    assert status == 200, body
    assert body["accountId"] == SPOKE and body["region"] == REGION
    assert body["currentUsage"]["sourceServers"] == 3
    assert body["combined"]["totalReplicating"] == 3
    assert body["combined"]["status"] == "OK"
    assert body["concurrentJobs"] == {"current": 0, "max": 20, "available": 20}
    assert body["serversInJobs"]["max"] == 500
    assert body["maxServersPerJob"]["max"] == 100
    (account,) = body["accounts"]
    assert account["accountType"] == "target" and account["accessible"]
    assert account["regionalBreakdown"] == [
        {"region": REGION, "totalServers": 3, "replicatingServers": 3}
    ]


def test_job_quotas_follow_the_deployment_settings(small_world, monkeypatch):
    # Given a deployment with raised job quotas
    from shared.config import reset_settings

    monkeypatch.setenv("DRS_MAX_CONCURRENT_JOBS", "40")
    monkeypatch.setenv("DRS_MAX_SERVERS_PER_JOB", "150")
    reset_settings()
    # When the hub's capacity is asked
    status, body = _call(
        small_world, "GET", f"/accounts/targets/{HUB_ACCOUNT}/capacity"
    )
    reset_settings()
    # Then the quotas answered are the deployment's
    assert status == 200, body
    assert body["limits"]["maxConcurrentJobs"] == 40
    assert body["maxServersPerJob"]["max"] == 150
    assert body["currentUsage"]["sourceServers"] == 20


def test_capacity_of_an_unregistered_account_is_404(small_world):
    # When an account that is not registered is asked
    status, error = _call(
        small_world, "GET", "/accounts/targets/999999999999/capacity"
    )
    # Then 404
    assert (status, error["error"]) == (404, "NOT_FOUND"), error


def test_the_capacity_status_thresholds_are_the_consoles():
    # Given the console's thresholds of 300 replicating servers
    from account_capacity import capacity_status

    # Then each band has its status
    assert [
        capacity_status(n, 300) for n in (0, 199, 201, 226, 250, 280, 300)
    ] == [
        "OK",
        "OK",
        "INFO",
        "WARNING",
        "CRITICAL",
        "HYPER-CRITICAL",
        "HYPER-CRITICAL",
    ]


def test_validate_assumes_the_role_and_reads_drs(
    small_world, enforce_external_id
):
    # Given the spoke registered with the right ExternalId
    # When it is validated
    status, body = _call(
        small_world,
        "POST",
        f"/accounts/targets/{SPOKE}/validate",
        folder="data-management-handler",
    )
    # Then it is valid: role assumed, DRS answers
    assert status == 200, body
    assert body["valid"] is True and body["accountId"] == SPOKE
    assert body["details"]["roleAccessible"] is True
    assert body["details"]["drsInitialized"] is True


def test_validate_reports_a_wrong_external_id(
    small_world, enforce_external_id
):
    # Given the spoke registered with an ExternalId its trust refuses
    from tests.unit.query_handler.conftest import register_spoke

    register_spoke(
        small_world.tables["TARGET_ACCOUNTS_TABLE"], external_id="wrong-1"
    )
    # When it is validated
    status, body = _call(
        small_world,
        "POST",
        f"/accounts/targets/{SPOKE}/validate",
        folder="data-management-handler",
    )
    # Then the answer says why, nothing is raised
    assert status == 200, body
    assert body["valid"] is False and body["status"] == "ERROR"
    assert body["details"]["roleAccessible"] is False
    assert "ExternalId" in body["message"]


def test_validate_reports_drs_not_initialized(small_world):
    # Given the hub registered as the current account
    small_world.tables["TARGET_ACCOUNTS_TABLE"].put_item(
        Item={
            "accountId": HUB_ACCOUNT,
            "accountName": "hub",
            "isCurrentAccount": True,
        }
    )
    # When it is validated in a region where DRS is not initialized
    handler = load_handler("data-management-handler").lambda_handler
    body = handler(
        {
            "operation": "validate_target_account",
            "body": {"accountId": HUB_ACCOUNT, "region": "us-west-2"},
        },
        None,
    )
    # Then it is not valid, and the region is named
    assert body["valid"] is False, body
    assert body["details"]["drsInitialized"] is False
    assert "us-west-2" in body["message"]
