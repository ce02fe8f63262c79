"""``GET /accounts/current``: the account and region this function runs in."""

from typing import Any, Dict, Optional

from query_routes import router
from shared.api import Request
from shared.aws_clients import get_client, resolve_region
from shared.aws_errors import aws_errors
from shared.console_shapes import current_account_view
from shared.target_accounts import current_account_id


def current_account_info(
    sts_client: Optional[Any] = None, iam_client: Optional[Any] = None
) -> Dict[str, Any]:
    """Account id (STS), region and the account alias when one is set."""
    region = resolve_region(None)
    with aws_errors("STS", region=region):
        account_id = current_account_id(sts_client)
    alias = None
    with aws_errors("IAM", account_id):
        iam = iam_client or get_client("iam", region)
        aliases = iam.list_account_aliases().get("AccountAliases") or []
        alias = aliases[0] if aliases else None
    return {
        "accountId": account_id,
        "region": region,
        "accountAlias": alias,
        "accountName": alias or account_id,
    }


@router.operation("get_current_account_info")
def get_current_account_info(request: Request) -> Dict[str, Any]:
    """The hub account's id, region and alias."""
    return current_account_view(current_account_info())
