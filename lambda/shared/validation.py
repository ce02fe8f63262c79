"""Input validators: each raises ValidationError naming the field."""

import json
import re
import unicodedata
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
# DynamoDB nests attributes at most 32 levels deep; deeper JSON would also
# exhaust the recursion of every walker (json, boto3's serializer).
MAX_BODY_DEPTH = 32
# DRS and EC2 tag limits.
MAX_TAG_KEY_LENGTH = 128
MAX_TAG_VALUE_LENGTH = 256
MAX_TAGS = 50
# An identity recorded in the audit trail (initiatedBy, requestedBy).
MAX_IDENTITY_LENGTH = 256
# Unicode bidi embedding/override/isolate controls: text shown differently
# from how it is stored ("Trojan Source"), never stored.
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
LINE_BREAKS = frozenset("\t\n\r")


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


def check_text(
    value: Any,
    field: str,
    max_length: int,
    multiline: bool = False,
    label: Optional[str] = None,
) -> str:
    """The one rule for stored text: a string of at most ``max_length``
    characters without control characters (NUL, escapes; tab and line
    breaks only when ``multiline``), lone surrogates or bidi overrides.
    ``label`` names the text in the message (default: the field)."""
    label = label or field
    if not isinstance(value, str):
        raise ValidationError(f"{label} must be a string", field=field)
    if len(value) > max_length:
        raise ValidationError(
            f"{label} must be at most {max_length} characters", field=field
        )
    for index, char in enumerate(value):
        if char in BIDI_CONTROLS:
            what = "a Unicode bidi control character"
        elif unicodedata.category(char) in ("Cc", "Cs") and not (
            multiline and char in LINE_BREAKS
        ):
            what = "a control character"
        else:
            continue
        raise ValidationError(
            f"{label} contains {what} (U+{ord(char):04X} at position "
            f"{index})",
            field=field,
        )
    return value


def validate_identity(value: Any, field: str) -> str:
    """Who asked (``caller``, ``requestedBy``): 1-256 printable
    characters, trimmed (the audit trail never stores more)."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(
            f"{field} must be a non-empty string", field=field
        )
    value = check_text(value.strip(), field, MAX_IDENTITY_LENGTH)
    if not value.isprintable():
        raise ValidationError(
            f"{field} contains characters that are not printable",
            field=field,
        )
    return value


def validate_name(value: Any, field: str) -> str:
    """A display name: 1-128 printable characters, trimmed."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field} is required", field=field)
    value = check_text(value.strip(), field, MAX_NAME_LENGTH)
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
    return check_text(value, field, MAX_DESCRIPTION_LENGTH, multiline=True)


def validate_tags(value: Any, field: str = "tags") -> Dict[str, str]:
    """A non-empty mapping of tag keys to string values, within the DRS
    limits: at most 50 tags, keys 1-128 and values 0-256 characters."""
    if not isinstance(value, dict) or not value:
        raise ValidationError(
            f"{field} must be a non-empty object of tag key/value",
            field=field,
        )
    if len(value) > MAX_TAGS:
        raise ValidationError(
            f"{field} has more than {MAX_TAGS} tags", field=field
        )
    for key, tag_value in value.items():
        if not isinstance(key, str) or not key.strip():
            raise ValidationError(f"{field} has an empty key", field=field)
        # The key is not echoed: it may be the oversized input itself.
        check_text(key, field, MAX_TAG_KEY_LENGTH, label=f"a key of {field}")
        if not isinstance(tag_value, str):
            raise ValidationError(
                f"{field}.{key} must be a string", field=field
            )
        check_text(
            tag_value,
            field,
            MAX_TAG_VALUE_LENGTH,
            label=f"the value of {field}.{key}",
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


def check_depth(
    value: Any, field: str = "body", limit: int = MAX_BODY_DEPTH
) -> Any:
    """Refuse JSON nested deeper than ``limit`` (iteratively: a walk that
    recursed would fail on the very input it checks)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, (list, tuple)):
            children = item
        else:
            continue
        if depth > limit:
            raise ValidationError(
                f"{field} is nested deeper than {limit} levels", field=field
            )
        stack.extend((child, depth + 1) for child in children)
    return value


def _loads(raw: Any, field: str, what: str) -> Any:
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValidationError(
            f"{what} is nested deeper than {MAX_BODY_DEPTH} levels",
            field=field,
        ) from None
    except (TypeError, ValueError):
        raise ValidationError(
            f"{what} is not valid JSON", field=field
        ) from None


def parse_json_body(raw: Any) -> Dict[str, Any]:
    """Decode a request body: a JSON object of bounded size and depth, or
    empty. Anything else (a number, a list, deep nesting) is a 400."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, dict):
        return check_depth(raw)
    if not isinstance(raw, (str, bytes, bytearray)):
        raise ValidationError(
            "request body must be a JSON object", field="body"
        )
    if len(raw.encode("utf-8") if isinstance(raw, str) else raw) > (
        MAX_BODY_BYTES
    ):
        raise ValidationError(
            f"request body exceeds {MAX_BODY_BYTES} bytes", field="body"
        )
    body = _loads(raw, "body", "request body")
    if not isinstance(body, dict):
        raise ValidationError(
            "request body must be a JSON object", field="body"
        )
    return check_depth(body)


def parse_json_param(raw: Any, field: str) -> Any:
    """A query parameter holding JSON (e.g. ``tags``)."""
    if raw is None:
        return raw
    if isinstance(raw, (dict, list)):
        return check_depth(raw, field)
    return check_depth(_loads(raw, field, field), field)
