"""The one place botocore errors become domain errors (CONTRACTS §7).

Wrap AWS calls (client creation included: that is where a cross-account
role is assumed) in :func:`aws_errors`::

    with aws_errors("DRS", account_id=account_id, region=region):
        drs = create_drs_client(region, context)
        servers = ...

* STS refusing ``AssumeRole`` -> 403 ``FORBIDDEN`` naming the account/role
* AccessDenied from the service in the account -> 403 ``FORBIDDEN``
* throttling that outlived the client's adaptive retries -> 429
  ``DRS_LIMIT_EXCEEDED`` (the service throttled; retry later)
* ``UninitializedAccountException`` -> 409 ``INVALID_STATE``
* ``ConflictException`` (resource busy in an active job) -> 409
  ``INVALID_STATE``
* ``*NotFound`` / ``ResourceNotFoundException`` -> 404 ``NOT_FOUND``
* no endpoint of the service in the region (a region where AWS does not
  offer it) -> 400 ``VALIDATION_ERROR`` on ``region``

Anything else propagates (500 ``INTERNAL_ERROR``; no AWS internals leak).
"""

from contextlib import contextmanager
from typing import Iterator, List, Optional, Tuple

from botocore.exceptions import ClientError, EndpointConnectionError

from shared import metrics
from shared.aws_regions import service_unavailable_in
from shared.errors import (
    DomainError,
    DrsLimitExceededError,
    ForbiddenError,
    InvalidStateError,
    NotFoundError,
    ValidationError,
)

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "ProvisionedThroughputExceededException",
    }
)
ACCESS_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthorizationError",
        "InvalidClientTokenId",
        "ExpiredToken",
    }
)
UNINITIALIZED_CODES = frozenset({"UninitializedAccountException"})
# DRS answers ConflictException when a resource is busy (e.g. a server or
# recovery instance already in an active job): the caller can retry later.
CONFLICT_CODES = frozenset({"ConflictException"})


def _where(account_id: Optional[str], region: Optional[str]) -> str:
    parts = []
    if account_id:
        parts.append(f"account {account_id}")
    if region:
        parts.append(f"region {region}")
    return " in " + ", ".join(parts) if parts else ""


def translate_client_error(
    error: ClientError,
    service: str = "AWS",
    account_id: Optional[str] = None,
    region: Optional[str] = None,
) -> Optional[DomainError]:
    """The domain error for a botocore ``ClientError``; None if unmapped."""
    code = str(error.response.get("Error", {}).get("Code", ""))
    where = _where(account_id, region)
    details = {"accountId": account_id} if account_id else {}
    if error.operation_name == "AssumeRole" and (
        code in ACCESS_DENIED_CODES or code.startswith("AccessDenied")
    ):
        return ForbiddenError(
            f"cannot assume the cross-account role of account "
            f"{account_id or '?'}: check the role exists, trusts this "
            "account and the ExternalId matches",
            reason="ASSUME_ROLE_DENIED",
            **details,
        )
    if code in THROTTLING_CODES:
        metrics.throttled(service)
        return DrsLimitExceededError(
            f"{service} throttled the request{where} after retries; "
            "retry later",
            reason="THROTTLED",
            **details,
        )
    if code in ACCESS_DENIED_CODES:
        return ForbiddenError(
            f"{service} denied {error.operation_name}{where}",
            reason="ACCESS_DENIED",
            **details,
        )
    if code in UNINITIALIZED_CODES:
        return InvalidStateError(
            f"{service} is not initialized{where}",
            reason="DRS_NOT_INITIALIZED",
            **details,
        )
    if code in CONFLICT_CODES:
        return InvalidStateError(
            f"{service} refused {error.operation_name}{where}: "
            f"{error.response.get('Error', {}).get('Message', code)}",
            reason="AWS_CONFLICT",
            **details,
        )
    if code.endswith(".NotFound") or code in (
        "ResourceNotFoundException",
        "NoSuchEntity",
    ):
        return NotFoundError(f"{service}: {code}{where}", **details)
    return None


def is_uninitialized(error: ClientError) -> bool:
    """True when DRS answered that the account/region is not initialized."""
    code = error.response.get("Error", {}).get("Code", "")
    return code in UNINITIALIZED_CODES


@contextmanager
def aws_errors(
    service: str = "AWS",
    account_id: Optional[str] = None,
    region: Optional[str] = None,
) -> Iterator[None]:
    """Re-raise mapped botocore errors as domain errors."""
    try:
        yield
    except ClientError as error:
        mapped = translate_client_error(error, service, account_id, region)
        if mapped is None:
            raise
        raise mapped from error
    except EndpointConnectionError as error:
        # No such host: AWS has no endpoint of the service in that region
        # (a network failure elsewhere stays a 500).
        if not service_unavailable_in(service, region):
            raise
        raise ValidationError(
            f"{service} is not available in region {region}",
            field="region",
            reason="SERVICE_NOT_IN_REGION",
        ) from error


def recovery_start_error(
    error: Exception,
    server_ids: List[str],
    account_id: Optional[str] = None,
    region: Optional[str] = None,
) -> Tuple[str, str]:
    """(code, message) recorded for a refused ``StartRecovery``.

    In our words: the AWS text goes to the logs only (an execution's
    ``statusReason`` is read by people, not parsed). ``server_ids`` are
    the servers to name (those found busy, for a conflict).
    """
    where = _where(account_id, region)
    if not isinstance(error, ClientError):
        return (
            "DRS_START_RECOVERY_FAILED",
            f"DRS could not be reached to start the recovery{where}",
        )
    code = str(error.response.get("Error", {}).get("Code", ""))
    if code in CONFLICT_CODES:
        return (
            "SERVER_CONFLICT",
            f"server(s) {', '.join(server_ids)} are already in an active "
            f"DRS job{where}",
        )
    if code in THROTTLING_CODES:
        metrics.throttled("DRS")
        return (
            "DRS_LIMIT_EXCEEDED",
            f"DRS throttled the recovery start{where}; start it again later",
        )
    if code in ACCESS_DENIED_CODES:
        return (
            "FORBIDDEN",
            f"DRS denied the recovery start{where}: check the role's "
            "drs:StartRecovery permission",
        )
    if code in UNINITIALIZED_CODES:
        return "INVALID_STATE", f"DRS is not initialized{where}"
    return (
        "DRS_START_RECOVERY_FAILED",
        f"DRS refused to start the recovery{where} ({code or 'error'})",
    )
