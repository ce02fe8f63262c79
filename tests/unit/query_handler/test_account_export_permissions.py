"""/accounts/current, /config/export and /user/permissions."""

import json
import os

import boto3
import pytest

from shared import rbac
from shared.name_claims import is_name_claim
from shared.config_manifest import validate_manifest
from tests.helpers import HUB_ACCOUNT, REGION, api_event, load_handler


def rest(world, path, groups=("DRSReadOnly",)):
    response = world.handler(api_event("GET", path, groups=groups), None)
    return response["statusCode"], json.loads(response["body"])


def test_current_account(bare_handler):
    # Given the hub account has an alias
    boto3.client("iam").create_account_alias(AccountAlias="dr-hub")
    # When the current account is asked for (REST)
    status, body = rest(bare_handler, "/accounts/current")
    # Then the id (STS), region and alias are answered
    assert status == 200
    assert body == {
        "accountId": HUB_ACCOUNT,
        "region": REGION,
        "accountAlias": "dr-hub",
        "accountName": "dr-hub",
        "isCurrentAccount": True,
    }


@pytest.mark.parametrize(
    "groups, expected",
    [
        (("DRSReadOnly",), sorted(rbac.VIEW_PERMISSIONS)),
        (
            ("DRSOperator", "Unknown"),
            sorted(rbac.ROLE_PERMISSIONS["DRSOperator"]),
        ),
        (("DRSOrchestrationAdmin",), sorted(rbac.ALL_PERMISSIONS)),
        ((), []),
    ],
)
def test_user_permissions_from_the_cognito_groups(
    bare_handler, groups, expected
):
    # When a user asks for their permissions
    status, body = rest(bare_handler, "/user/permissions", groups=groups)
    # Then their known roles and the union of permissions are answered
    assert status == 200
    assert body["user"] == "tester@example.com"
    assert body["roles"] == sorted(g for g in groups if g != "Unknown")
    assert body["permissions"] == expected


def test_direct_invocation_has_no_roles(bare_handler):
    # When the permissions are asked for by direct invocation
    body = bare_handler.handler(
        {"operation": "get_user_permissions", "caller": "ops-script"}, None
    )
    # Then the caller is named and holds no Cognito role
    assert body["user"] == "ops-script"
    assert (body["roles"], body["permissions"], body["via"]) == (
        [],
        [],
        "direct",
    )


def dm(event):
    return load_handler("data-management-handler").lambda_handler(event, None)


def create_group_and_plan(world):
    ids = [
        world.sim.server_id(HUB_ACCOUNT, REGION, h)
        for h in ("web-01", "db-01")
    ]
    group = dm(
        {
            "operation": "create_protection_group",
            "body": {
                "groupName": "Web",
                "region": REGION,
                "sourceServerIds": ids,
            },
        }
    )
    assert "groupId" in group, group
    plan = dm(
        {
            "operation": "create_recovery_plan",
            "body": {
                "planName": "Main",
                "waves": [
                    {
                        "waveNumber": 1,
                        "waveName": "web",
                        "protectionGroupId": group["groupId"],
                    }
                ],
            },
        }
    )
    assert "planId" in plan, plan
    return group, plan


def test_export_is_a_valid_manifest_of_everything(small_world):
    # Given a protection group and a recovery plan
    group, plan = create_group_and_plan(small_world)
    # When the configuration is exported (REST)
    status, body = rest(small_world, "/config/export")
    # Then it is an import manifest holding both, configuration only
    assert status == 200
    assert validate_manifest(body) is body
    [exported_group] = body["protectionGroups"]
    assert exported_group["groupId"] == group["groupId"]
    assert exported_group["groupName"] == "Web"
    assert len(exported_group["sourceServerIds"]) == 2
    assert "version" not in exported_group
    [exported_plan] = body["recoveryPlans"]
    assert exported_plan["planName"] == "Main"
    assert exported_plan["waves"][0]["protectionGroupId"] == group["groupId"]


def test_export_leaves_name_claims_out(small_world):
    # Given a group and a plan, whose names are claimed by claim items
    group, plan = create_group_and_plan(small_world)
    table = boto3.resource("dynamodb").Table(
        os.environ["PROTECTION_GROUPS_TABLE"]
    )
    assert any(is_name_claim(i) for i in table.scan()["Items"])
    # When the configuration is exported
    body = small_world.direct("export_configuration")
    # Then only the group and the plan appear
    assert [g["groupId"] for g in body["protectionGroups"]] == [
        group["groupId"]
    ]
    assert [p["planId"] for p in body["recoveryPlans"]] == [plan["planId"]]


def test_export_of_an_empty_configuration(bare_handler):
    body = bare_handler.direct("export_configuration")
    assert (body["protectionGroups"], body["recoveryPlans"]) == ([], [])


def without_ids(doc):
    """A manifest with ids replaced by names (import may assign new ids)."""
    names = {g["groupId"]: g["groupName"] for g in doc["protectionGroups"]}
    groups = [
        {k: v for k, v in g.items() if k != "groupId"}
        for g in doc["protectionGroups"]
    ]
    plans = []
    for plan in doc["recoveryPlans"]:
        plan = {k: v for k, v in plan.items() if k != "planId"}
        plan["waves"] = [
            dict(w, protectionGroupId=names[w["protectionGroupId"]])
            for w in plan["waves"]
        ]
        plans.append(plan)
    return groups, plans


def test_export_import_round_trip(small_world):
    # Given a group and a plan, exported
    create_group_and_plan(small_world)
    manifest = small_world.direct("export_configuration")
    # And the stored configuration is then lost
    for env, key in (
        ("RECOVERY_PLANS_TABLE", "planId"),
        ("PROTECTION_GROUPS_TABLE", "groupId"),
    ):
        table = small_world.tables[env]
        for item in table.scan()["Items"]:
            table.delete_item(Key={key: item[key]})
    assert small_world.direct("export_configuration")["recoveryPlans"] == []
    # When the export is imported by the data-management handler
    result = dm({"operation": "import_configuration", "body": manifest})
    assert result.get("error") is None, result
    # Then exporting again gives the same configuration
    again = small_world.direct("export_configuration")
    assert without_ids(again) == without_ids(manifest)
    assert len(again["protectionGroups"]) == len(again["recoveryPlans"]) == 1
