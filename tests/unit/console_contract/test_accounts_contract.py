"""Console contract: the account screens and the "Setup Required" guard."""

from tests.unit.data_management.conftest import (
    HUB,
    SPOKE,
    SPOKE_EXTERNAL_ID,
    SPOKE_ROLE,
)

# What the console reads of each account of the list and of an answer.
ACCOUNT_FIELDS = ("accountId", "accountName", "roleArn", "isCurrentAccount")


def test_setup_wizard_registers_the_hub_without_a_role(dm):
    # Given the body the setup wizard sends for the current account
    body = {"accountId": HUB, "accountName": "hub", "roleArn": ""}
    # When it posts it as a DRSOrchestrationAdmin
    status, created = dm.rest("POST", "/accounts/targets", body)
    # Then the hub is registered as the current account, no role stored
    assert status == 201, created
    assert created["isCurrentAccount"] is True
    assert created["status"] == "ACTIVE"
    assert "roleArn" not in created


def test_an_empty_role_is_refused_for_another_account(dm):
    # Given the wizard's body naming an account other than the hub
    body = {"accountId": SPOKE, "accountName": "spoke", "roleArn": ""}
    # When it is posted
    status, error = dm.rest("POST", "/accounts/targets", body)
    # Then 400 names the missing role and nothing is stored
    assert (status, error["field"]) == (400, "roleArn"), error
    assert dm.scan("TARGET_ACCOUNTS_TABLE") == []


def test_rest_list_is_the_json_array_the_console_reads(dm):
    # Given the hub (wizard body) and a spoke (account dialog body)
    dm.rest(
        "POST",
        "/accounts/targets",
        {"accountId": HUB, "accountName": "hub", "roleArn": ""},
    )
    dm.register_spoke()
    # When the console lists the target accounts (no query)
    status, listed = dm.rest(
        "GET", "/accounts/targets", groups=("DRSReadOnly",)
    )
    # Then it gets an array whose items carry every field it reads
    assert status == 200 and isinstance(listed, list), listed
    assert [a["accountId"] for a in listed] == [HUB, SPOKE]
    for account in listed:
        assert account["status"] == "ACTIVE"
        assert isinstance(account["isCurrentAccount"], bool)
        assert isinstance(account["accountName"], str)
    assert listed[1]["roleArn"] == SPOKE_ROLE


def test_direct_list_keeps_its_envelope(dm):
    # Given a registered spoke
    dm.register_spoke()
    # When a script lists the accounts by direct invocation
    listed = dm.direct("list_target_accounts")
    # Then the direct answer stays {accounts, count} (CONTRACTS §2)
    assert listed["count"] == 1
    assert [a["accountId"] for a in listed["accounts"]] == [SPOKE]


def test_get_and_update_answer_the_fields_the_dialog_reads(dm):
    # Given the spoke registered with its role and ExternalId
    dm.rest(
        "POST",
        "/accounts/targets",
        {
            "accountId": SPOKE,
            "accountName": "spoke",
            "roleArn": SPOKE_ROLE,
            "externalId": SPOKE_EXTERNAL_ID,
        },
    )
    # When the settings dialog reads it and renames it
    _, got = dm.rest("GET", f"/accounts/targets/{SPOKE}")
    status, updated = dm.rest(
        "PUT", f"/accounts/targets/{SPOKE}", {"accountName": "portal"}
    )
    # Then both answers carry what the console reads
    assert status == 200, updated
    for answer in (got, updated):
        assert {f: answer[f] for f in ACCOUNT_FIELDS} == {
            "accountId": SPOKE,
            "accountName": answer["accountName"],
            "roleArn": SPOKE_ROLE,
            "isCurrentAccount": False,
        }
        assert answer["status"] == "ACTIVE"
        assert answer["stagingAccounts"] == []
    assert updated["accountName"] == "portal"
