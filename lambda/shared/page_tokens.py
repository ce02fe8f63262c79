"""Opaque ``nextToken`` values of paginated answers: the key of the next
page (a DynamoDB ``LastEvaluatedKey`` or an offset), JSON in URL-safe
base64. One codec for every listing; callers check what the key holds."""

import base64
import json
from typing import Any, Dict, Optional

from shared.errors import ValidationError
from shared.responses import to_jsonable


def encode_token(key: Dict[str, Any]) -> str:
    """The opaque token of ``key``."""
    raw = json.dumps(to_jsonable(key), sort_keys=True).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode_token(token: Optional[str]) -> Optional[Dict[str, Any]]:
    """The key inside a token (None without one); 400 ``nextToken`` when
    it is not a token of ours."""
    if not token:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (ValueError, TypeError, UnicodeError):
        value = None
    if not isinstance(value, dict):
        raise ValidationError("nextToken is not valid", field="nextToken")
    return value


def page_limit(raw: Optional[str], default: int, maximum: int) -> int:
    """A listing's ``limit`` query parameter (``default`` when absent);
    400 ``limit`` unless a whole number from 1 to ``maximum``."""
    try:
        limit = int(raw or default)
    except ValueError:
        raise ValidationError("limit must be an integer", field="limit")
    if not 1 <= limit <= maximum:
        raise ValidationError(
            f"limit must be between 1 and {maximum}", field="limit"
        )
    return limit
