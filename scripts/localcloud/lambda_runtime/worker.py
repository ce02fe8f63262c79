"""One Lambda worker process: the function's code, like the AWS runtime.

Started by :mod:`localcloud.lambda_runtime.pool` as
``python -I -S worker.py TASK_ROOT LAYER_DIR``: isolated mode and no
``site``, so ``sys.path`` is the standard library, the extracted zip
(``TASK_ROOT``) and the runtime layer only — never the developer's venv.
The handler (``_HANDLER``, e.g. ``index.handler``) is imported on the first
invocation, as AWS does on a cold start; an import failure answers every
invocation with ``Runtime.ImportModuleError`` until it imports.

Protocol (the inherited stdin/stdout, one JSON document per line): request
``{"requestId", "event" (JSON text), "deadlineMs", "arn"}``, response
``{"result": JSON text}`` or ``{"error": {errorMessage, errorType,
stackTrace}}``. The function's own stdout/stderr go to the log file the
parent gave as stderr. Standard library only.
"""

import importlib
import json
import os
import sys
import time
import traceback


class LambdaContext:
    """The ``context`` argument of a handler (the attributes AWS gives)."""

    def __init__(self, request: dict) -> None:
        env = os.environ
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "")
        self.invoked_function_arn = request.get("arn", "")
        self.memory_limit_in_mb = env.get(
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"
        )
        self.aws_request_id = request["requestId"]
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = int(request["deadlineMs"])

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function times out."""
        return max(0, self._deadline_ms - int(time.time() * 1000))


def error_payload(exc: BaseException, error_type: str = "") -> dict:
    """The Lambda error payload of an exception."""
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if frame.filename != __file__
    ]
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_list(frames),
    }


def load_handler(name: str):
    """Import ``module.function`` like the AWS Python runtime."""
    module_name, _, function_name = name.rpartition(".")
    if not module_name:
        raise _RuntimeError(
            "Runtime.MalformedHandlerName",
            f"Bad handler '{name}': not enough values to unpack",
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise _RuntimeError(
            "Runtime.ImportModuleError",
            f"Unable to import module '{module_name}': {exc}",
        ) from None
    except SyntaxError as exc:
        raise _RuntimeError(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {exc}",
        ) from None
    handler = getattr(module, function_name, None)
    if handler is None:
        raise _RuntimeError(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        )
    return handler


class _RuntimeError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def invoke(handler, request: dict) -> dict:
    """Run the handler once; the response document."""
    try:
        event = json.loads(request["event"]) if request["event"] else {}
    except ValueError as exc:
        return {"error": error_payload(exc, "Runtime.UnmarshalError")}
    try:
        result = handler(event, LambdaContext(request))
    except Exception as exc:  # the function failed: report, keep serving
        payload = error_payload(exc)
        sys.stderr.write(
            f"[ERROR] {payload['errorType']}: {payload['errorMessage']}\n"
            + "".join(traceback.format_exception(exc))
        )
        return {"error": payload}
    try:
        return {"result": json.dumps(result)}
    except (TypeError, ValueError) as exc:
        return {
            "error": {
                "errorMessage": f"Unable to marshal response: {exc}",
                "errorType": "Runtime.MarshalError",
                "stackTrace": [],
            }
        }


def scale_retry_waits(speed: float) -> bool:
    """The local cloud runs DRS time ``speed`` times faster than the wall
    clock (``LOCAL_CLOUD_SPEED``): botocore's retry back-off, a wall-time
    sleep of up to 20 s, is scaled the same way, so a throttled call
    waits what it would in the simulated time. The attempts stay real.
    False when botocore is not importable or ``speed`` is not > 1."""
    if speed <= 1:
        return False
    try:
        from botocore.retries import standard
    except ImportError:
        return False
    original = standard.ExponentialBackoff.delay_amount

    def scaled(self, context):
        return original(self, context) / speed

    standard.ExponentialBackoff.delay_amount = scaled
    return True


def _speed() -> float:
    try:
        return float(os.environ.get("LOCAL_CLOUD_SPEED") or 1)
    except ValueError:
        return 1.0


def serve(task_root: str, layer_dir: str) -> None:
    """Answer invocations until the parent closes the pipe."""
    proto_in = os.fdopen(os.dup(0), "rb")
    proto_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # the function's stdout goes to the log file too
    sys.stdout = os.fdopen(1, "w", buffering=1)
    sys.stderr = os.fdopen(2, "w", buffering=1)
    sys.path[:0] = [task_root, layer_dir]
    os.chdir(task_root)
    scale_retry_waits(_speed())
    handler = None
    for line in proto_in:
        request = json.loads(line)
        rid = request["requestId"]
        version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        print(f"START RequestId: {rid} Version: {version}")
        started = time.monotonic()
        if handler is None:
            try:
                handler = load_handler(os.environ.get("_HANDLER", ""))
            except _RuntimeError as exc:
                response = {"error": error_payload(exc, exc.error_type)}
                response["error"]["stackTrace"] = []
                print(f"[ERROR] {exc.error_type}: {exc}")
        if handler is not None:
            response = invoke(handler, request)
        elapsed = (time.monotonic() - started) * 1000
        print(f"END RequestId: {rid}")
        print(f"REPORT RequestId: {rid}\tDuration: {elapsed:.2f} ms")
        proto_out.write(json.dumps(response).encode() + b"\n")
        proto_out.flush()


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
