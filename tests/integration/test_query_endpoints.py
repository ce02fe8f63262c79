"""The packaged query-handler's read-only operations in the local cloud
(direct invocation, as the seed's examples do)."""

import json

import pytest

FUNCTION = "hrp-drs-tech-adapter-query-handler-dev"
TARGETS_TABLE = "hrp-drs-tech-adapter-target-accounts-dev"


@pytest.fixture
def invoke(local_cloud):
    lam = local_cloud.client("lambda")

    def call(operation, **query):
        response = lam.invoke(
            FunctionName=FUNCTION,
            Payload=json.dumps({"operation": operation, "queryParams": query}),
        )
        assert "FunctionError" not in response
        return json.load(response["Payload"])

    return call


@pytest.fixture
def spoke(local_cloud):
    """The scenario's spoke, registered as a target account."""
    spoke = local_cloud.scenario.spokes[0]
    local_cloud.client("dynamodb").put_item(
        TableName=TARGETS_TABLE,
        Item={
            "accountId": {"S": spoke.account_id},
            "accountName": {"S": spoke.name},
            "roleArn": {
                "S": f"arn:aws:iam::{spoke.account_id}:role/"
                f"{spoke.cross_account_role}"
            },
            "externalId": {"S": spoke.external_id},
            "isCurrentAccount": {"BOOL": False},
        },
    )
    return spoke


def test_example_3_answers_the_documented_fields(invoke):
    # When Example 3 of the seed runs against the local cloud
    body = invoke("get_drs_source_servers", region="us-east-1")
    # Then the scenario's hub servers are answered as documented
    assert body["region"] == "us-east-1"
    assert body["serverCount"] == body["totalCount"] == 8
    db = next(s for s in body["servers"] if s["hostname"] == "erp-db-01")
    assert db["sourceServerID"].startswith("s-")
    assert db["replicationState"] == "CONTINUOUS"
    assert db["lifecycleState"] == "READY_FOR_LAUNCH"
    assert db["hardware"] == {
        "totalCores": 8,
        "ramGiB": 64,
        "totalDiskGiB": 600,
    }
    assert db["tags"]["Tier"] == "Database"


def test_spoke_servers_and_accounts_through_the_spoke_role(invoke, spoke):
    # When the spoke's servers are listed by account id
    body = invoke(
        "get_drs_source_servers",
        region="us-east-1",
        accountId=spoke.account_id,
        tags='{"application": "portal"}',
    )
    # Then the packaged function assumed the spoke role and read them
    assert sorted(s["hostname"] for s in body["servers"]) == [
        "portal-web-01",
        "portal-web-02",
    ]
    # When the accounts are listed for two regions
    accounts = invoke("get_drs_accounts", regions="us-east-1,us-west-2")
    # Then both accounts answer, initialized in us-east-1 only
    assert [a["accountId"] for a in accounts["accounts"]] == [
        "123456789012",
        spoke.account_id,
    ]
    for account in accounts["accounts"]:
        assert [r["drsInitialized"] for r in account["regions"]] == [
            True,
            False,
        ]


def test_quotas_and_export(invoke):
    # When the quotas of the hub region are read
    quotas = invoke("get_drs_quotas", region="us-east-1")
    # Then the scenario's servers replicate and nothing runs
    assert quotas["currentUsage"]["replicatingServers"] == 8
    assert quotas["currentUsage"]["activeJobs"] == 0
    assert quotas["limits"]["maxServersPerJob"] == 100
    # And the (empty) configuration exports as a manifest
    manifest = invoke("export_configuration")
    assert manifest["version"] == 1
    assert manifest["protectionGroups"] == []
