"""DRS errors as the service models them (name, HTTP status, members)."""

from __future__ import annotations

from typing import Any


class DrsError(Exception):
    """An error answered as a modelled DRS exception shape.

    ``code`` is the shape name (e.g. ``ConflictException``); ``members``
    are extra modelled members (``retryAfterSeconds``, ``quotaCode``...).
    """

    def __init__(self, code: str, message: str, **members: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        self.members = members


def validation_error(
    message: str, field: str | None = None, reason: str = "other"
) -> DrsError:
    """A ``ValidationException`` naming the offending field."""
    members: dict[str, Any] = {"reason": reason}
    if field:
        members["fieldList"] = [{"name": field, "message": message}]
    return DrsError("ValidationException", message, **members)


def not_found(resource_type: str, resource_id: str) -> DrsError:
    """A ``ResourceNotFoundException`` for one resource."""
    return DrsError(
        "ResourceNotFoundException",
        f"{resource_type} {resource_id} not found",
        resourceId=resource_id,
        resourceType=resource_type,
    )


def uninitialized(account_id: str, region: str) -> DrsError:
    """The account/region has not initialized DRS."""
    return DrsError(
        "UninitializedAccountException",
        f"Account {account_id} is not initialized for Elastic Disaster "
        f"Recovery in {region}",
    )
