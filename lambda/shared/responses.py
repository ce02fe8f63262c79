"""Response shapes for API Gateway and direct invocation (CONTRACTS §2)."""

import json
from decimal import Decimal
from typing import Any, Dict

CORS_HEADERS = {
    "Content-Type": "application/json",
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": (
        "Content-Type,Authorization,X-Amz-Date,X-Api-Key,X-Amz-Security-Token"
    ),
    "Access-Control-Allow-Methods": "GET,POST,PUT,DELETE,OPTIONS",
}


class DecimalEncoder(json.JSONEncoder):
    """JSON encoder that understands DynamoDB's Decimal and sets."""

    def default(self, o: Any) -> Any:
        if isinstance(o, Decimal):
            return int(o) if o == o.to_integral_value() else float(o)
        if isinstance(o, (set, frozenset)):
            return sorted(o)
        return super().default(o)


def to_jsonable(value: Any) -> Any:
    """Deep-convert DynamoDB values (Decimal, sets) to plain JSON types."""
    return json.loads(json.dumps(value, cls=DecimalEncoder))


def dumps(value: Any) -> str:
    """Serialize with the Decimal-aware encoder."""
    return json.dumps(value, cls=DecimalEncoder)


def api_response(status_code: int, body: Any) -> Dict[str, Any]:
    """An API Gateway proxy response."""
    return {
        "statusCode": status_code,
        "headers": dict(CORS_HEADERS),
        "body": dumps(body),
    }


def direct_error(code: str, message: str, status: int, **details: Any):
    """The body a direct invocation answers for a client error."""
    body = {"error": code, "message": message, "statusCode": status}
    body.update(details)
    return to_jsonable(body)
