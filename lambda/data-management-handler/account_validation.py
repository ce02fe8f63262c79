"""``POST /accounts/targets/{id}/validate``: can the hub work there now?

The account management screen of the reference console validates a
registered account on demand. The answer reports what a recovery in
that account needs: the role assumed with the account's ExternalId
(``target_account_ops.verify_role``, the rule registration applies) and
DRS answering in the region (initialized, the role allowed to read it).
A refusal is reported in the answer (``valid: false``), not raised: the
screen shows it. An unknown account is a 404.
"""

from typing import Any, Dict, Optional

from botocore.exceptions import BotoCoreError, ClientError

from data_routes import router
from shared.account_context import account_context_from_target
from shared.api import Request
from shared.aws_clients import (
    create_drs_client,
    resolve_region,
    role_arn_for,
)
from shared.aws_errors import is_uninitialized
from shared.console_shapes import target_account_view
from shared.errors import ValidationError
from shared.target_accounts import get_target_account
from shared.validation import reject_unknown, validate_region
from target_account_ops import SESSION_NAME, verify_role

BODY_FIELDS = ("accountId", "region")


def _role_check(record: Dict[str, Any]) -> Optional[str]:
    """None when the role is assumed (or the hub needs none), else why."""
    record = dict(record)
    if not record.get("isCurrentAccount") and not record.get("roleArn"):
        # Registered with a role name only: the role the hub assumes.
        record["roleArn"] = role_arn_for(account_context_from_target(record))
    try:
        verify_role(record)
    except ValidationError as error:
        return error.message
    return None


def _drs_check(
    record: Dict[str, Any], region: str, drs_client: Any = None
) -> Optional[str]:
    """None when DRS answers in the account/region, else why."""
    context = None
    if not record.get("isCurrentAccount"):
        context = account_context_from_target(record, SESSION_NAME)
    try:
        drs = drs_client or create_drs_client(region, context, SESSION_NAME)
        drs.describe_source_servers(maxResults=1)
    except ClientError as error:
        if is_uninitialized(error):
            return f"DRS is not initialized in {region}"
        code = error.response.get("Error", {}).get("Code", "refused")
        return f"DRS refused DescribeSourceServers in {region} ({code})"
    except BotoCoreError as error:
        return f"DRS cannot be reached in {region} ({type(error).__name__})"
    return None


def validate_account(
    account_id: str, region: str, drs_client: Any = None
) -> Dict[str, Any]:
    """The validation report of a registered account."""
    record = get_target_account(account_id)
    role_error = _role_check(record)
    drs_error = None if role_error else _drs_check(record, region, drs_client)
    valid = role_error is None and drs_error is None
    details: Dict[str, Any] = {
        # AssumeRole cannot tell a missing role from a refused trust.
        "roleExists": role_error is None,
        "roleAccessible": role_error is None,
        "requiredPermissions": valid,
        "drsInitialized": valid,
        "region": region,
    }
    if not valid:
        details["error"] = role_error or drs_error
    view = target_account_view(record)
    return {
        "accountId": account_id,
        "accountName": view.get("accountName"),
        "isCurrentAccount": bool(view.get("isCurrentAccount")),
        "valid": valid,
        "status": view.get("status") if valid else "ERROR",
        "message": (
            f"account {account_id} is ready in {region}"
            if valid
            else details["error"]
        ),
        "details": details,
    }


@router.operation("validate_target_account")
def validate_target_account(request: Request) -> Dict[str, Any]:
    """Validate a target account (optional ``region``: the function's)."""
    reject_unknown(request.body, BODY_FIELDS, "body")
    raw = request.body.get("region") or request.query.get("region")
    region = validate_region(raw) if raw else resolve_region(None)
    return validate_account(request.path_param("id"), region)
