"""Target accounts CRUD (TARGET_ACCOUNTS_TABLE).

A spoke account is registered with the role the hub assumes in it and the
ExternalId; create (and an update that changes them) proves the role can be
assumed before anything is stored.
"""

import re
from typing import Any, Dict, List, Optional

from botocore.exceptions import BotoCoreError, ClientError

from crud_routes import register_crud, sorted_by
from dm_store import (
    check_version,
    delete_unless_used,
    get_item,
    list_items,
    put_new,
    put_versioned,
    stamp_new,
    stamp_update,
)
from shared.aws_clients import get_client
from shared.aws_errors import aws_errors
from shared.console_shapes import target_account_list, target_account_view
from shared.errors import ValidationError
from shared.tables import protection_groups_table, target_accounts_table
from shared.target_accounts import current_account_id
from shared.validation import (
    reject_unknown,
    validate_account_id,
    validate_bool,
    validate_name,
)

KEY = "accountId"
FIELDS = (
    "accountId",
    "accountName",
    "roleArn",
    "externalId",
    "isCurrentAccount",
    "stagingAccounts",
)
ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")
EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
SESSION_NAME = "drs-account-validation"


def _staging(value: Any) -> List[Dict[str, str]]:
    if not isinstance(value, list):
        raise ValidationError(
            "stagingAccounts must be a list", field="stagingAccounts"
        )
    result = []
    for index, entry in enumerate(value):
        where = f"stagingAccounts[{index}]"
        if isinstance(entry, str):
            entry = {"accountId": entry}
        if not isinstance(entry, dict):
            raise ValidationError(f"{where} must be an object", field=where)
        reject_unknown(entry, ("accountId", "accountName"), where)
        staged = {
            "accountId": validate_account_id(
                entry.get("accountId"), f"{where}.accountId"
            )
        }
        if entry.get("accountName"):
            staged["accountName"] = validate_name(
                entry["accountName"], f"{where}.accountName"
            )
        result.append(staged)
    return result


def validate_account(body: Dict[str, Any]) -> Dict[str, Any]:
    """A target account record from input (400 naming the field)."""
    reject_unknown(body, FIELDS + ("version",))
    record: Dict[str, Any] = {
        KEY: validate_account_id(body.get(KEY)),
        "accountName": validate_name(body.get("accountName"), "accountName"),
        "isCurrentAccount": validate_bool(
            body.get("isCurrentAccount", False), "isCurrentAccount"
        ),
        "stagingAccounts": _staging(body.get("stagingAccounts") or []),
    }
    role_arn = body.get("roleArn")
    if role_arn:
        match = ROLE_ARN.match(role_arn) if isinstance(role_arn, str) else None
        if not match:
            raise ValidationError(
                "roleArn must be an IAM role ARN", field="roleArn"
            )
        if match.group(1) != record[KEY]:
            raise ValidationError(
                f"roleArn belongs to account {match.group(1)}, not "
                f"{record[KEY]}",
                field="roleArn",
            )
        record["roleArn"] = role_arn
    external_id = body.get("externalId")
    if external_id:
        if not isinstance(external_id, str) or not EXTERNAL_ID.match(
            external_id
        ):
            raise ValidationError(
                "externalId must be 2-1224 characters", field="externalId"
            )
        record["externalId"] = external_id
    return record


def verify_current_account(record: Dict[str, Any], sts: Any) -> None:
    """``isCurrentAccount`` only for the account this function runs in."""
    with aws_errors("STS"):
        own = current_account_id(sts)
    if record[KEY] != own:
        raise ValidationError(
            f"accountId {record[KEY]} is not the current account ({own}): "
            "isCurrentAccount is only for the account the solution runs in",
            field="accountId",
        )


def verify_role(record: Dict[str, Any], sts: Optional[Any] = None) -> None:
    """Assume the account's role with its ExternalId; 400 if refused.

    The current account needs no role but must be the caller's account.
    """
    sts = sts if sts is not None else get_client("sts")
    if not record.get("roleArn") and not record.get("isCurrentAccount"):
        _infer_current_account(record, sts)
    if record.get("isCurrentAccount"):
        verify_current_account(record, sts)
        return
    params = {"RoleArn": record["roleArn"], "RoleSessionName": SESSION_NAME}
    if record.get("externalId"):
        params["ExternalId"] = record["externalId"]
    try:
        sts.assume_role(**params)
    except (ClientError, BotoCoreError) as error:
        raise ValidationError(
            f"cannot assume {record['roleArn']} with the given externalId "
            f"({_reason(error)}): check the role's trust policy and "
            "ExternalId",
            field="roleArn",
        ) from None


def _infer_current_account(record: Dict[str, Any], sts: Any) -> None:
    """No role given: only the hub (the account this runs in) needs none.

    The console registers the hub with ``roleArn: ""`` and no
    ``isCurrentAccount``; that account is marked current, any other one
    is refused for want of a role."""
    with aws_errors("STS"):
        own = current_account_id(sts)
    if record[KEY] != own:
        raise ValidationError(
            "roleArn is required for an account other than the current one",
            field="roleArn",
        )
    record["isCurrentAccount"] = True


def _reason(error: Exception) -> str:
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code", "refused")
    return type(error).__name__


def create_account(
    body: Dict[str, Any],
    caller: str,
    table: Optional[Any] = None,
    sts: Optional[Any] = None,
) -> Dict[str, Any]:
    """Register a target account after proving its role can be assumed."""
    table = table if table is not None else target_accounts_table()
    record = validate_account(body)
    verify_role(record, sts)
    item = stamp_new(record, caller)
    put_new(table, item, KEY)
    return target_account_view(item)


def update_account(
    account_id: str,
    body: Dict[str, Any],
    caller: str,
    table: Optional[Any] = None,
    sts: Optional[Any] = None,
) -> Dict[str, Any]:
    """Change a target account; a changed role is verified again."""
    table = table if table is not None else target_accounts_table()
    current = get_item(table, KEY, account_id, "target account")
    version = check_version(body, current)
    body = {KEY: account_id, **body}
    merged = {k: current[k] for k in FIELDS if k in current}
    merged.update({k: v for k, v in body.items() if k != "version"})
    if merged.get(KEY) != account_id:
        raise ValidationError("accountId cannot change", field="accountId")
    record = validate_account(merged)
    changed = any(
        record.get(k) != current.get(k)
        for k in ("roleArn", "externalId", "isCurrentAccount")
    )
    if changed:
        verify_role(record, sts)
    item = stamp_update(record, current, caller)
    put_versioned(table, item, KEY, version)
    return target_account_view(item)


def delete_account(
    account_id: str,
    table: Optional[Any] = None,
    groups_table: Optional[Any] = None,
) -> Dict[str, Any]:
    """Unregister an account no protection group uses."""
    table = table if table is not None else target_accounts_table()
    current = get_item(table, KEY, account_id, "target account")
    groups = (
        groups_table
        if groups_table is not None
        else (protection_groups_table())
    )
    users = [
        {"groupId": g["groupId"], "groupName": g.get("groupName")}
        for g in list_items(groups)
        if g.get("accountId") == account_id
    ]
    return delete_unless_used(
        table, KEY, current, users, "groupName", "target account"
    )


def list_accounts() -> List[Dict[str, Any]]:
    """Every registered target account, by account id."""
    return sorted_by(list_items(target_accounts_table()), KEY)


def get_account(account_id: str) -> Dict[str, Any]:
    """A registered target account; 404 when unknown."""
    validate_account_id(account_id)
    return target_account_view(
        get_item(target_accounts_table(), KEY, account_id, "target account")
    )


register_crud(
    "target_account",
    "accounts",
    list_accounts,
    create_account,
    get_account,
    update_account,
    lambda account_id: delete_account(validate_account_id(account_id)),
    list_shape=target_account_list,
)
