"""The one place AWS clients are created.

All clients share :data:`BOTO_CONFIG` (timeouts, adaptive retries with a
bounded attempt count). Cross-account clients assume
``arn:aws:iam::{accountId}:role/{assumeRoleName}`` with the account's
ExternalId; the assumed session is cached until shortly before its
credentials expire. Endpoints come from the standard ``AWS_ENDPOINT_URL*``
variables, which is how the local cloud is reached.
"""

import threading
from datetime import datetime, timezone
from typing import Any, Dict, Optional, Tuple

import boto3
from botocore.config import Config

from shared import clock
from shared.config import get_settings

BOTO_CONFIG = Config(
    connect_timeout=5,
    read_timeout=60,
    retries={"mode": "adaptive", "max_attempts": 5},
)
# Refresh assumed credentials this long before they expire so a call never
# starts with credentials that lapse mid-flight.
REFRESH_MARGIN_SECONDS = 300
ASSUME_ROLE_DURATION_SECONDS = 3600
DEFAULT_SESSION_NAME = "drs-orchestration"

_lock = threading.Lock()
_session_cache: Dict[Tuple[str, str, str], Tuple[boto3.Session, float]] = {}
_default_session: Optional[boto3.Session] = None


def _base_session() -> boto3.Session:
    global _default_session
    with _lock:
        if _default_session is None:
            _default_session = boto3.Session()
        return _default_session


def resolve_region(region: Optional[str] = None) -> str:
    """The explicit region, else the function's region, else us-east-1."""
    return region or get_settings().region or "us-east-1"


def get_client(service: str, region: Optional[str] = None) -> Any:
    """A client for the local (hub) account."""
    return _base_session().client(
        service, region_name=resolve_region(region), config=BOTO_CONFIG
    )


def get_resource(service: str, region: Optional[str] = None) -> Any:
    """A resource for the local (hub) account (DynamoDB tables)."""
    return _base_session().resource(
        service, region_name=resolve_region(region), config=BOTO_CONFIG
    )


def role_arn_for(account_context: Dict[str, Any]) -> str:
    """The role to assume for an account context."""
    if account_context.get("roleArn"):
        return account_context["roleArn"]
    role_name = (
        account_context.get("assumeRoleName")
        or get_settings().cross_account_role_name
    )
    return f"arn:aws:iam::{account_context['accountId']}:role/{role_name}"


def is_local_account(account_context: Optional[Dict[str, Any]]) -> bool:
    """True when calls should use this function's own credentials."""
    if not account_context or not account_context.get("accountId"):
        return True
    return bool(account_context.get("isCurrentAccount"))


def _sanitize_session_name(name: str) -> str:
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    allowed |= set("0123456789+=,.@-_")
    cleaned = "".join(ch if ch in allowed else "-" for ch in name)
    return (cleaned or DEFAULT_SESSION_NAME)[:64]


def _assume(
    role_arn: str, external_id: str, session_name: str
) -> Tuple[boto3.Session, float]:
    params = {
        "RoleArn": role_arn,
        "RoleSessionName": session_name,
        "DurationSeconds": ASSUME_ROLE_DURATION_SECONDS,
    }
    if external_id:
        params["ExternalId"] = external_id
    creds = get_client("sts").assume_role(**params)["Credentials"]
    session = boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    expiration = creds["Expiration"]
    if isinstance(expiration, datetime):
        if expiration.tzinfo is None:
            expiration = expiration.replace(tzinfo=timezone.utc)
        expires_at = expiration.timestamp()
    else:
        expires_at = clock.epoch_float() + ASSUME_ROLE_DURATION_SECONDS
    return session, expires_at


def session_for_account(
    account_context: Optional[Dict[str, Any]],
    session_name: Optional[str] = None,
) -> boto3.Session:
    """A boto3 session with credentials for the context's account."""
    if is_local_account(account_context):
        return _base_session()
    role_arn = role_arn_for(account_context)
    external_id = account_context.get("externalId") or ""
    name = _sanitize_session_name(
        session_name
        or account_context.get("sessionName")
        or DEFAULT_SESSION_NAME
    )
    key = (role_arn, external_id, name)
    now = clock.epoch_float()
    with _lock:
        cached = _session_cache.get(key)
    if cached and cached[1] - REFRESH_MARGIN_SECONDS > now:
        return cached[0]
    session, expires_at = _assume(role_arn, external_id, name)
    with _lock:
        _session_cache[key] = (session, expires_at)
    return session


def create_client_for_account(
    service: str,
    region: Optional[str] = None,
    account_context: Optional[Dict[str, Any]] = None,
    session_name: Optional[str] = None,
) -> Any:
    """A client in the target account (assumed role) or the local one."""
    session = session_for_account(account_context, session_name)
    return session.client(
        service, region_name=resolve_region(region), config=BOTO_CONFIG
    )


def create_drs_client(
    region: Optional[str] = None,
    account_context: Optional[Dict[str, Any]] = None,
    session_name: Optional[str] = None,
) -> Any:
    """A DRS client for the account context (seed name kept)."""
    return create_client_for_account(
        "drs", region, account_context, session_name
    )


def create_ec2_client(
    region: Optional[str] = None,
    account_context: Optional[Dict[str, Any]] = None,
    session_name: Optional[str] = None,
) -> Any:
    """An EC2 client for the account context."""
    return create_client_for_account(
        "ec2", region, account_context, session_name
    )


def reset_clients() -> None:
    """Forget cached sessions (tests switch mocked accounts)."""
    global _default_session
    with _lock:
        _session_cache.clear()
        _default_session = None
