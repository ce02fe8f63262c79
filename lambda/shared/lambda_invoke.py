"""Synchronous and asynchronous Lambda invocation between functions.

A synchronous invoke waits for the callee to finish, so its client needs a
read timeout above the callee's own timeout, and it must never be retried:
an invoke is not idempotent (botocore retries a read timeout, which would
run ``start_wave_recovery`` twice and start a second DRS job). The client
for synchronous invokes therefore has its own ``Config``, derived from the
shared :data:`shared.aws_clients.BOTO_CONFIG`.
"""

import json
from typing import Any, Dict, Optional

from botocore.config import Config

from shared.aws_clients import (
    BOTO_CONFIG,
    get_client,
    resolve_region,
    session_for_account,
)
from shared.errors import InvocationError
from shared.observability import traced
from shared.responses import dumps

# The longest callee timeout (execution-handler: 300 s) plus a margin.
SYNC_READ_TIMEOUT_SECONDS = 310


def sync_invoke_config(
    read_timeout: int = SYNC_READ_TIMEOUT_SECONDS,
) -> Config:
    """The shared config with ``read_timeout`` and a single attempt."""
    mode = (BOTO_CONFIG.retries or {}).get("mode", "standard")
    return BOTO_CONFIG.merge(
        Config(
            read_timeout=read_timeout,
            retries={"mode": mode, "total_max_attempts": 1},
        )
    )


def sync_lambda_client(
    read_timeout: int = SYNC_READ_TIMEOUT_SECONDS,
    region: Optional[str] = None,
) -> Any:
    """A Lambda client for synchronous invokes (see the module doc)."""
    return session_for_account(None).client(
        "lambda",
        region_name=resolve_region(region),
        config=sync_invoke_config(read_timeout),
    )


def invoke_function(
    function: str,
    payload: Dict[str, Any],
    client: Optional[Any] = None,
    read_timeout: int = SYNC_READ_TIMEOUT_SECONDS,
) -> Any:
    """Invoke ``function`` (name or ARN) and return its decoded result.

    ``read_timeout`` must exceed the callee's timeout. A ``FunctionError``
    (the function raised or timed out) becomes an :class:`InvocationError`
    carrying the Lambda error payload.
    """
    client = client or sync_lambda_client(read_timeout)
    # The traced boto3 call propagates the trace header, so the callee's
    # segment joins this trace under this subsegment.
    with traced(
        f"invoke {_short_name(function)}",
        function=_short_name(function),
        action=payload.get("action") or payload.get("operation"),
    ):
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
    with traced(
        f"invoke async {_short_name(function)}",
        function=_short_name(function),
        action=payload.get("action") or payload.get("operation"),
    ):
        client.invoke(
            FunctionName=function,
            InvocationType="Event",
            Payload=dumps(payload).encode("utf-8"),
        )


def _short_name(function: str) -> str:
    """The function name of a name or ARN (``arn:...:function:NAME``)."""
    return function.split(":function:", 1)[-1].split(":", 1)[0]
