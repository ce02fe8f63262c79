"""Input validators: each raises ValidationError naming the field."""

import json
import re
import uuid
from typing import Any, Dict, Iterable, List, Optional

from shared.aws_regions import is_known_region
from shared.errors import ValidationError

SOURCE_SERVER_ID = re.compile(r"^s-[0-9a-f]{17}$")
ACCOUNT_ID = re.compile(r"^\d{12}$")
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
NAME = re.compile(r"^[\w .,:()/+@&'-]+$")
MAX_NAME_LENGTH = 128
MAX_DESCRIPTION_LENGTH = 1024
MAX_BODY_BYTES = 256 * 1024


def require(body: Dict[str, Any], field: str) -> Any:
    """A required field's value."""
    value = body.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError(f"{field} is required", field=field)
    return value


def validate_source_server_id(value: Any, field: str = "sourceServerId"):
    """``s-`` followed by 17 lowercase hex digits."""
    if not isinstance(value, str) or not SOURCE_SERVER_ID.match(value):
        raise ValidationError(
            f"{field} must be a DRS source server id (s- + 17 hex)",
            field=field,
            value=value if isinstance(value, str) else None,
        )
    return value


def validate_source_server_ids(
    values: Any, field: str = "sourceServerIds"
) -> List[str]:
    """A non-empty list of unique source server ids."""
    if not isinstance(values, list) or not values:
        raise ValidationError(f"{field} must be a non-empty list", field=field)
    for value in values:
        validate_source_server_id(value, field)
    if len(set(values)) != len(values):
        raise ValidationError(f"{field} has duplicates", field=field)
    return values


def validate_account_id(value: Any, field: str = "accountId") -> str:
    """A 12-digit AWS account id."""
    if not isinstance(value, str) or not ACCOUNT_ID.match(value):
        raise ValidationError(
            f"{field} must be a 12-digit AWS account id", field=field
        )
    return value


def validate_region(value: Any, field: str = "region") -> str:
    """An AWS region name such as us-east-1, one that exists."""
    if not isinstance(value, str) or not REGION.fullmatch(value):
        raise ValidationError(
            f"{field} must be an AWS region (e.g. us-east-1)", field=field
        )
    if not is_known_region(value):
        # Well-formed but unknown: the SDK would fail to reach it (500).
        raise ValidationError(
            f"{field} {value} is not an AWS region", field=field
        )
    return value


def validate_uuid(value: Any, field: str) -> str:
    """A canonical UUID string."""
    try:
        if str(uuid.UUID(str(value))) != str(value).lower():
            raise ValueError(value)
    except (ValueError, TypeError, AttributeError):
        raise ValidationError(f"{field} must be a UUID", field=field) from None
    return str(value)


def validate_name(value: Any, field: str) -> str:
    """A display name: 1-128 printable characters, trimmed."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field} is required", field=field)
    value = value.strip()
    if len(value) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"{field} must be at most {MAX_NAME_LENGTH} characters",
            field=field,
        )
    if not NAME.match(value):
        raise ValidationError(
            f"{field} contains characters that are not allowed", field=field
        )
    return value


def validate_description(value: Any, field: str = "description") -> str:
    """Optional free text up to 1024 characters."""
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION_LENGTH:
        raise ValidationError(
            f"{field} must be text of at most {MAX_DESCRIPTION_LENGTH} "
            "characters",
            field=field,
        )
    return value


def validate_tags(value: Any, field: str = "tags") -> Dict[str, str]:
    """A non-empty mapping of tag keys to string values."""
    if not isinstance(value, dict) or not value:
        raise ValidationError(
            f"{field} must be a non-empty object of tag key/value",
            field=field,
        )
    for key, tag_value in value.items():
        if not isinstance(key, str) or not key.strip():
            raise ValidationError(f"{field} has an empty key", field=field)
        if not isinstance(tag_value, str):
            raise ValidationError(
                f"{field}.{key} must be a string", field=field
            )
    return value


def validate_bool(value: Any, field: str) -> bool:
    """A JSON boolean."""
    if not isinstance(value, bool):
        raise ValidationError(f"{field} must be true or false", field=field)
    return value


def validate_int(
    value: Any, field: str, minimum: int = 0, maximum: Optional[int] = None
) -> int:
    """An integer within bounds (bool is not an integer here)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{field} must be an integer", field=field)
    if value < minimum or (maximum is not None and value > maximum):
        raise ValidationError(
            f"{field} must be between {minimum} and {maximum}", field=field
        )
    return value


def validate_choice(value: Any, field: str, choices: Iterable[str]) -> str:
    """One of a fixed set of strings."""
    allowed = list(choices)
    if value not in allowed:
        raise ValidationError(
            f"{field} must be one of {', '.join(allowed)}",
            field=field,
        )
    return value


def reject_unknown(
    body: Dict[str, Any], allowed: Iterable[str], where: str = "body"
) -> None:
    """Refuse fields the operation does not know (typos lose data)."""
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise ValidationError(
            f"unknown field(s) in {where}: {', '.join(unknown)}",
            field=unknown[0],
        )


def parse_json_body(raw: Any) -> Dict[str, Any]:
    """Decode a request body: a JSON object of bounded size, or empty."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, dict):
        return raw
    if len(raw.encode("utf-8") if isinstance(raw, str) else raw) > (
        MAX_BODY_BYTES
    ):
        raise ValidationError(
            f"request body exceeds {MAX_BODY_BYTES} bytes", field="body"
        )
    try:
        body = json.loads(raw)
    except (TypeError, ValueError):
        raise ValidationError(
            "request body is not valid JSON", field="body"
        ) from None
    if not isinstance(body, dict):
        raise ValidationError(
            "request body must be a JSON object", field="body"
        )
    return body


def parse_json_param(raw: Any, field: str) -> Any:
    """A query parameter holding JSON (e.g. ``tags``)."""
    if raw is None or isinstance(raw, (dict, list)):
        return raw
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        raise ValidationError(
            f"{field} must be valid JSON", field=field
        ) from None
