"""Registered target accounts (TARGET_ACCOUNTS_TABLE) -> account contexts.

Every handler that takes an ``accountId`` resolves it here: a registered
spoke account becomes the account context the client factory assumes a
role for; the hub (current) account, registered or not, needs no context.
"""

from typing import Any, Dict, Optional

from shared.account_context import account_context_from_target
from shared.aws_clients import get_client
from shared.errors import NotFoundError
from shared.tables import target_accounts_table
from shared.validation import validate_account_id


def get_target_account(
    account_id: str, table: Optional[Any] = None
) -> Dict[str, Any]:
    """The registered record of ``account_id``.

    A malformed id is a 400 naming ``accountId``; an unregistered one a 404.
    """
    validate_account_id(account_id)
    table = table if table is not None else target_accounts_table()
    item = table.get_item(Key={"accountId": account_id}).get("Item")
    if not item:
        raise NotFoundError(
            f"account {account_id} is not a registered target account",
            accountId=account_id,
        )
    return item


def current_account_id(sts_client: Optional[Any] = None) -> str:
    """The account this function runs in (STS GetCallerIdentity)."""
    sts = sts_client if sts_client is not None else get_client("sts")
    return str(sts.get_caller_identity()["Account"])


def account_context_for(
    account_id: Optional[str],
    table: Optional[Any] = None,
    sts_client: Optional[Any] = None,
    session_name: Optional[str] = None,
) -> Optional[Dict[str, Any]]:
    """The account context for ``account_id``; None for the hub account.

    None (or empty) means the current account. A registered account marked
    ``isCurrentAccount`` is the hub too. An unregistered id is accepted
    only when it is the account this function runs in; otherwise 404.
    """
    if not account_id:
        return None
    validate_account_id(account_id)
    try:
        record = get_target_account(account_id, table=table)
    except NotFoundError:
        if account_id == current_account_id(sts_client):
            return None
        raise
    if record.get("isCurrentAccount"):
        return None
    return account_context_from_target(record, session_name=session_name)


def in_account(
    item_account: Optional[str], wanted: str, hub_account: str
) -> bool:
    """Whether an item stored with ``item_account`` (None/empty: the hub)
    lives in account ``wanted``."""
    return (item_account or hub_account) == wanted
