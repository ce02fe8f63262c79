"""Route moto's Lambda invocations to the local runtime.

With ``use_docker`` off, every invoke moto serves — from boto3 and from
Step Functions ``lambda:invoke`` tasks — lands in
``LambdaSimpleBackend.invoke``. :func:`install` replaces it with one that
runs the registered function (its zip, handler, environment, timeout as
stored in moto's Lambda registry) in a :class:`LambdaRuntime` worker. A
function error sets ``X-Amz-Function-Error: Unhandled`` and returns the
Lambda error payload, as AWS does.
"""

from typing import Any, Optional

from moto.awslambda.exceptions import LambdaClientError
from moto.awslambda_simple.models import LambdaSimpleBackend

from .pool import FunctionSpec, LambdaRuntime, Throttled

_ORIGINAL_INVOKE = LambdaSimpleBackend.invoke
_runtime: Optional[LambdaRuntime] = None


class TooManyRequests(LambdaClientError):
    """Lambda's throttling error (HTTP 429)."""

    code = 429

    def __init__(self, message: str) -> None:
        super().__init__("TooManyRequestsException", message)


def spec_from_moto(function: Any) -> FunctionSpec:
    """A :class:`FunctionSpec` from moto's stored function."""
    return FunctionSpec(
        name=function.function_name,
        arn=function.function_arn,
        handler=function.handler or "",
        zip_bytes=function.code_bytes,
        environment=dict(function.environment_vars or {}),
        timeout=float(function.timeout or 3),
        memory=int(function.memory_size or 128),
    )


def _invoke(
    backend: LambdaSimpleBackend,
    function_name: str,
    qualifier: Optional[str],
    body: Any,
    headers: Any,
    response_headers: Any,
) -> bytes:
    runtime = _runtime
    if runtime is None:  # uninstalled while a request was in flight
        return _ORIGINAL_INVOKE(
            backend, function_name, qualifier, body, headers, response_headers
        )
    function = backend.get_function(function_name, qualifier)
    spec = spec_from_moto(function)
    payload = body.encode() if isinstance(body, str) else (body or b"")
    if headers.get("X-Amz-Invocation-Type") == "Event":
        runtime.invoke_async(spec, payload)
        return b""
    try:
        result = runtime.invoke(spec, payload)
    except Throttled as exc:
        raise TooManyRequests(str(exc)) from None
    if result.function_error:
        response_headers["x-amz-function-error"] = "Unhandled"
    return result.payload


def install(runtime: LambdaRuntime) -> None:
    """Serve moto's Lambda invocations with ``runtime``."""
    global _runtime
    _runtime = runtime
    LambdaSimpleBackend.invoke = _invoke


def uninstall() -> None:
    """Restore moto's own (canned) Lambda invoke."""
    global _runtime
    _runtime = None
    LambdaSimpleBackend.invoke = _ORIGINAL_INVOKE
