"""Target account lookup -> account context (shared.target_accounts)."""

import pytest

from shared.errors import NotFoundError, ValidationError
from shared.target_accounts import account_context_for, get_target_account
from tests.helpers import HUB_ACCOUNT

SPOKE = "210987654321"


@pytest.fixture
def accounts(ddb_tables):
    table = ddb_tables["TARGET_ACCOUNTS_TABLE"]
    table.put_item(
        Item={
            "accountId": SPOKE,
            "accountName": "spoke",
            "assumeRoleName": "DRSOrchestrationCrossAccountRole",
            "externalId": "ext-1",
            "isCurrentAccount": False,
        }
    )
    return table


def test_registered_spoke_becomes_a_context(accounts):
    # When the spoke account is resolved
    context = account_context_for(SPOKE, session_name="q")
    # Then its role name, ExternalId and session name are carried
    assert context == {
        "accountId": SPOKE,
        "isCurrentAccount": False,
        "assumeRoleName": "DRSOrchestrationCrossAccountRole",
        "externalId": "ext-1",
        "accountName": "spoke",
        "sessionName": "q",
    }


@pytest.mark.parametrize("account_id", [None, "", HUB_ACCOUNT])
def test_hub_account_needs_no_context(accounts, account_id):
    # Given the hub account is not registered
    # When it (or no account) is resolved
    # Then the current credentials are used (no context)
    assert account_context_for(account_id) is None


def test_registered_hub_account_needs_no_context(accounts):
    # Given the hub account registered as the current account
    accounts.put_item(
        Item={"accountId": HUB_ACCOUNT, "isCurrentAccount": True}
    )
    # Then it resolves to no context
    assert account_context_for(HUB_ACCOUNT) is None


def test_unregistered_account_is_not_found(accounts):
    # When an unknown account is resolved
    with pytest.raises(NotFoundError) as raised:
        account_context_for("111122223333")
    # Then the 404 names it
    assert raised.value.details == {"accountId": "111122223333"}


def test_malformed_account_id_is_a_validation_error(accounts):
    with pytest.raises(ValidationError) as raised:
        get_target_account("12345")
    assert raised.value.details["field"] == "accountId"
