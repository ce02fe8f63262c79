"""Query-parameter parsing shared by the read-only query operations.

Each helper raises ``ValidationError`` naming the parameter, so a bad
request is a 400 before any AWS call is made.
"""

import re
from dataclasses import dataclass
from typing import Any, Dict, Optional

from shared.api import Request
from shared.errors import ValidationError
from shared.target_accounts import account_context_for
from shared.validation import validate_region

VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")
INSTANCE_FAMILY = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
SESSION_NAME = "drs-orchestration-query"


@dataclass(frozen=True)
class Target:
    """Where a query runs: region, account id and its context."""

    region: str
    account_id: Optional[str]
    account_context: Optional[Dict[str, Any]]


def text_param(request: Request, name: str) -> Optional[str]:
    """An optional text parameter, trimmed; None when absent or empty."""
    value = request.query.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be text", field=name)
    return value.strip() or None


def required_text(request: Request, name: str) -> str:
    """A required text parameter, trimmed; a 400 naming it if absent."""
    value = text_param(request, name)
    if value is None:
        raise ValidationError(f"{name} is required", field=name)
    return value


def region_param(request: Request, required: bool = True) -> Optional[str]:
    """The ``region`` parameter, validated."""
    if required:
        return validate_region(required_text(request, "region"))
    value = text_param(request, "region")
    return validate_region(value) if value else None


def target_param(request: Request, region: str) -> Target:
    """The region plus the optional ``accountId`` resolved to a context.

    An unregistered account is a 404; the hub account has no context.
    """
    account_id = text_param(request, "accountId")
    context = account_context_for(account_id, session_name=SESSION_NAME)
    return Target(region, account_id, context)


def vpc_param(request: Request, required: bool = True) -> Optional[str]:
    """The ``vpcId`` parameter (None when optional and absent)."""
    if not required and text_param(request, "vpcId") is None:
        return None
    value = required_text(request, "vpcId")
    if not VPC_ID.match(value):
        raise ValidationError(
            "vpcId must be a VPC id (vpc- + 8 or 17 hex)", field="vpcId"
        )
    return value


def availability_zone_param(request: Request, region: str) -> Optional[str]:
    """The optional ``availabilityZone``; it must belong to ``region``."""
    value = text_param(request, "availabilityZone")
    if value is None:
        return None
    suffix = value[len(region) :]
    if not value.startswith(region) or not re.match(
        r"^(-[a-z0-9]+)*[a-z]$", suffix
    ):
        raise ValidationError(
            f"availabilityZone must be a zone of {region} "
            f"(e.g. {region}a)",
            field="availabilityZone",
        )
    return value


def instance_family_param(request: Request) -> Optional[str]:
    """The optional ``instanceFamily`` (``m5``, ``t3``, ``c6gn``)."""
    value = text_param(request, "instanceFamily")
    if value is None:
        return None
    value = value.lower().rstrip(".")
    if not INSTANCE_FAMILY.match(value):
        raise ValidationError(
            "instanceFamily must be an instance family such as m5",
            field="instanceFamily",
        )
    return value
