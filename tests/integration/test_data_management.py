"""data-management-handler on the local cloud: packaged function, DRS
simulator over HTTP, the spoke's cross-account role from the template,
configuration export (query-handler) -> import round trip."""

import json

import pytest

REGION = "us-east-1"
PREFIX = "hrp-drs-tech-adapter"


@pytest.fixture
def invoke(local_cloud):
    """Direct invocation of a deployed function: the answered body."""
    lam = local_cloud.client("lambda")

    def call(operation, body=None, function="data-management-handler"):
        response = lam.invoke(
            FunctionName=f"{PREFIX}-{function}-dev",
            Payload=json.dumps({"operation": operation, "body": body or {}}),
        )
        assert "FunctionError" not in response, response
        return json.load(response["Payload"])

    return call


def test_spoke_group_resolve_apply_and_status(local_cloud, invoke):
    # Given the scenario's spoke registered through its template role
    spoke = local_cloud.scenario.spokes[0]
    registered = invoke(
        "create_target_account",
        {
            "accountId": spoke.account_id,
            "accountName": spoke.name,
            "roleArn": f"arn:aws:iam::{spoke.account_id}:role/"
            f"{spoke.cross_account_role}",
            "externalId": spoke.external_id,
        },
    )
    assert registered.get("version") == 1, registered
    # When its portal servers are resolved by tags
    resolved = invoke(
        "resolve_protection_group_tags",
        {
            "region": REGION,
            "accountId": spoke.account_id,
            "serverSelectionTags": {"application": "PORTAL"},
        },
    )
    # Then the spoke's servers answer, with hostname and replication
    assert resolved["serverCount"] == 2, resolved
    assert sorted(s["hostname"] for s in resolved["servers"]) == [
        "portal-web-01",
        "portal-web-02",
    ]
    # When a spoke group with launch defaults is created and applied
    group = invoke(
        "create_protection_group",
        {
            "groupName": "Portal",
            "region": REGION,
            "accountId": spoke.account_id,
            "serverSelectionTags": {"Application": "Portal"},
            "launchConfig": {
                "launchDisposition": "STOPPED",
                "instanceType": "t3.large",
            },
        },
    )
    assert group.get("accountId") == spoke.account_id, group
    applied = invoke("apply_launch_configs", {"groupId": group["groupId"]})
    # Then both spoke servers carry it in DRS and the status records it
    assert applied["status"] == "APPLIED" and applied["applied"] == 2, applied
    for server in local_cloud.simulator.servers(spoke.account_id, REGION):
        assert server.launch_config["launchDisposition"] == "STOPPED"
    for server in local_cloud.simulator.servers(
        local_cloud.hub_account, REGION
    ):
        assert server.launch_config["launchDisposition"] == "STARTED"
    status = invoke("get_launch_config_status", {"groupId": group["groupId"]})
    assert {s["status"] for s in status["servers"]} == {"APPLIED"}
    # And a plan of that group records the spoke account
    plan = invoke(
        "create_recovery_plan",
        {
            "planName": "Portal DR",
            "waves": [
                {
                    "waveNumber": 1,
                    "waveName": "web",
                    "protectionGroupId": group["groupId"],
                }
            ],
        },
    )
    assert plan["accountId"] == spoke.account_id, plan


def _counts(answer):
    return {k: answer["summary"][k] for k in ("create", "update", "skip")}


def test_export_then_import_round_trip(local_cloud, invoke):
    # Given a hub group and plan
    db = invoke(
        "create_protection_group",
        {
            "groupName": "ERP DB",
            "region": REGION,
            "serverSelectionTags": {"Tier": "Database"},
        },
    )
    invoke(
        "create_recovery_plan",
        {
            "planName": "ERP",
            "waves": [
                {
                    "waveNumber": 1,
                    "waveName": "db",
                    "protectionGroupId": db["groupId"],
                }
            ],
        },
    )
    # When the query-handler exports and the manifest is imported back
    manifest = invoke("export_configuration", function="query-handler")
    dry = invoke(
        "import_configuration", {"manifest": manifest, "dryRun": True}
    )
    # Then nothing would change (the seeds' counts; the console's
    # per-type counts are beside them)
    assert _counts(dry) == {"create": 0, "update": 0, "skip": 2}, dry
    assert dry["summary"]["protectionGroups"]["skipped"] == 1
    # When a renamed copy is imported
    manifest["protectionGroups"][0]["description"] = "imported"
    done = invoke("import_configuration", {"manifest": manifest})
    assert _counts(done) == {"create": 0, "update": 1, "skip": 1}, done
    assert done["summary"]["protectionGroups"]["updated"] == 1
    got = invoke("get_protection_group", {"groupId": db["groupId"]})
    assert got["description"] == "imported" and got["version"] == 2
