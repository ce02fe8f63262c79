"""Target accounts: CRUD, role verification, RBAC."""

import boto3
from botocore.stub import Stubber

from target_account_ops import create_account
from tests.helpers import REGION
from tests.unit.data_management.conftest import (
    HUB,
    SPOKE,
    SPOKE_EXTERNAL_ID,
    SPOKE_ROLE,
)

TA_TABLE = "TARGET_ACCOUNTS_TABLE"
SPOKE_BODY = {
    "accountId": SPOKE,
    "accountName": "Portal spoke",
    "roleArn": SPOKE_ROLE,
    "externalId": SPOKE_EXTERNAL_ID,
    "stagingAccounts": ["111111111111"],
}


def test_crud_round_trip(dm):
    # When an admin registers the spoke (role assumed in moto's STS)
    status, created = dm.rest("POST", "/accounts/targets", SPOKE_BODY)
    # Then it is stored with its fields and bookkeeping
    assert status == 201, created
    assert created["roleArn"] == SPOKE_ROLE
    assert created["stagingAccounts"] == [{"accountId": "111111111111"}]
    assert created["isCurrentAccount"] is False and created["version"] == 1
    # And it can be read, listed, updated and deleted
    status, got = dm.rest(
        "GET", f"/accounts/targets/{SPOKE}", groups=("DRSReadOnly",)
    )
    assert status == 200 and got["accountName"] == "Portal spoke"
    listed = dm.direct("list_target_accounts")
    assert [a["accountId"] for a in listed["accounts"]] == [SPOKE]
    status, updated = dm.rest(
        "PUT",
        f"/accounts/targets/{SPOKE}",
        {"accountName": "Portal", "version": 1},
    )
    assert status == 200 and updated["version"] == 2
    stale = dm.direct(
        "update_target_account",
        {"accountId": SPOKE, "accountName": "x", "version": 1},
    )
    assert stale["error"] == "VERSION_CONFLICT"
    status, _ = dm.rest("DELETE", f"/accounts/targets/{SPOKE}")
    assert status == 200 and dm.item(TA_TABLE, "accountId", SPOKE) is None


def test_current_account_needs_no_role(dm):
    created = dm.direct(
        "create_target_account",
        {"accountId": HUB, "accountName": "hub", "isCurrentAccount": True},
    )
    assert created["isCurrentAccount"] is True and "roleArn" not in created


def test_bad_input_and_duplicates(dm):
    cases = [
        (dict(SPOKE_BODY, accountId="12"), "accountId"),
        (dict(SPOKE_BODY, roleArn="not-an-arn"), "roleArn"),
        (
            dict(SPOKE_BODY, roleArn="arn:aws:iam::999999999999:role/R"),
            "roleArn",
        ),
        ({k: v for k, v in SPOKE_BODY.items() if k != "roleArn"}, "roleArn"),
        (dict(SPOKE_BODY, extra=1), "extra"),
        (dict(SPOKE_BODY, stagingAccounts=["x"]), "stagingAccounts[0]"),
    ]
    for body, field in cases:
        answer = dm.direct("create_target_account", body)
        assert answer["error"] == "VALIDATION_ERROR", (body, answer)
        assert answer["field"].startswith(field), answer
    assert dm.direct("list_target_accounts")["count"] == 0
    dm.direct("create_target_account", SPOKE_BODY)
    again = dm.direct("create_target_account", SPOKE_BODY)
    assert again["statusCode"] == 409
    status, answer = dm.rest("GET", "/accounts/targets/333333333333")
    assert status == 404 and answer["error"] == "NOT_FOUND"


def test_role_that_cannot_be_assumed_is_a_clear_400(dm):
    # Given STS refusing the role (wrong ExternalId in the trust policy)
    sts = boto3.client("sts", region_name=REGION)
    stubber = Stubber(sts)
    stubber.add_client_error(
        "assume_role",
        service_error_code="AccessDenied",
        service_message="not authorized to perform sts:AssumeRole",
        http_status_code=403,
    )
    # When the account is created
    with stubber:
        try:
            create_account(dict(SPOKE_BODY), "tester", sts=sts)
        except Exception as error:  # noqa: BLE001 - inspected below
            raised = error
        else:
            raised = None
    # Then a 400 names roleArn and says why; nothing is stored
    assert raised is not None and raised.code == "VALIDATION_ERROR"
    assert raised.details["field"] == "roleArn"
    assert "AccessDenied" in raised.message
    assert dm.item(TA_TABLE, "accountId", SPOKE) is None


def test_account_used_by_a_group_cannot_be_deleted(dm):
    dm.direct("create_target_account", SPOKE_BODY)
    dm.direct(
        "create_protection_group",
        {
            "groupName": "Portal",
            "region": REGION,
            "accountId": SPOKE,
            "serverSelectionTags": {"Application": "Portal"},
        },
    )
    answer = dm.direct("delete_target_account", {"accountId": SPOKE})
    assert answer["error"] == "INVALID_STATE"
    assert answer["usedBy"][0]["groupName"] == "Portal"


def test_rbac_recovery_manager_cannot_manage_accounts(dm):
    status, _ = dm.rest(
        "POST",
        "/accounts/targets",
        SPOKE_BODY,
        groups=("DRSRecoveryManager",),
    )
    assert status == 403
    status, _ = dm.rest(
        "GET", "/accounts/targets", groups=("DRSRecoveryManager",)
    )
    assert status == 200


def test_current_account_must_be_the_callers_account(dm):
    # Given an account that is not the one the handler runs in
    body = {
        "accountId": SPOKE,
        "accountName": "not me",
        "isCurrentAccount": True,
    }
    # When it is registered as the current account (REST, then direct)
    status, rest = dm.rest("POST", "/accounts/targets", body)
    direct = dm.direct("create_target_account", body)
    # Then both are a 400 naming accountId; nothing is stored
    for code, answer in ((status, rest), (direct["statusCode"], direct)):
        assert (code, answer["error"]) == (400, "VALIDATION_ERROR"), answer
        assert answer["field"] == "accountId"
        assert SPOKE in answer["message"] and HUB in answer["message"]
    assert dm.item(TA_TABLE, "accountId", SPOKE) is None


def test_spoke_cannot_be_switched_to_current_account(dm):
    # Given the spoke registered with its role
    dm.direct("create_target_account", SPOKE_BODY)
    # When an update marks it as the current account
    answer = dm.direct(
        "update_target_account",
        {"accountId": SPOKE, "isCurrentAccount": True, "version": 1},
    )
    # Then it is refused naming accountId and the record is unchanged
    assert answer["error"] == "VALIDATION_ERROR", answer
    assert answer["field"] == "accountId"
    stored = dm.item(TA_TABLE, "accountId", SPOKE)
    assert stored["isCurrentAccount"] is False and stored["version"] == 1
