"""Synchronous and asynchronous Lambda invocation between functions."""

import json
from typing import Any, Dict, Optional

from shared.aws_clients import get_client
from shared.errors import InvocationError
from shared.responses import dumps


def invoke_function(
    function: str, payload: Dict[str, Any], client: Optional[Any] = None
) -> Any:
    """Invoke ``function`` (name or ARN) and return its decoded result.

    A ``FunctionError`` (the function raised or timed out) becomes an
    :class:`InvocationError` carrying the Lambda error payload.
    """
    client = client or get_client("lambda")
    response = client.invoke(
        FunctionName=function,
        InvocationType="RequestResponse",
        Payload=dumps(payload).encode("utf-8"),
    )
    raw = response["Payload"].read()
    result = json.loads(raw) if raw else None
    if response.get("FunctionError"):
        raise InvocationError(function, result)
    return result


def invoke_async(
    function: str, payload: Dict[str, Any], client: Optional[Any] = None
) -> None:
    """Queue an asynchronous invocation (InvocationType Event)."""
    client = client or get_client("lambda")
    client.invoke(
        FunctionName=function,
        InvocationType="Event",
        Payload=dumps(payload).encode("utf-8"),
    )
