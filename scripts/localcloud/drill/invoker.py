"""Direct invocation of the deployed functions (CONTRACTS §2), as a user's
script does it (seeds/004, Example 6): ``{"operation", "body",
"queryParams"}`` through ``lambda.invoke``."""

from __future__ import annotations

import json
import os
from typing import Any, Callable

HANDLERS = ("data-management-handler", "execution-handler", "query-handler")


class ApiError(Exception):
    """A client error answered by an operation (``{"error": CODE ...}``)."""

    def __init__(self, operation: str, body: dict[str, Any]) -> None:
        self.operation = operation
        self.code = str(body.get("error") or "ERROR")
        self.status = body.get("statusCode")
        self.body = body
        super().__init__(
            f"{operation}: {self.code}: {body.get('message', '')}"
        )


class FunctionFailed(Exception):
    """The function raised (``FunctionError``): an unexpected error."""


def function_name(folder: str, names: dict[str, str] | None = None) -> str:
    """The deployed name of a handler folder (CONTRACTS §1)."""
    if names and folder in names:
        return names[folder]
    project = os.environ.get("PROJECT_NAME", "hrp-drs-tech-adapter")
    env = os.environ.get("ENVIRONMENT", "dev")
    short = {
        "dr-orchestration-stepfunction": "dr-orch-sf",
        "orchestration-stepfunctions": "orch-sf",
    }.get(folder, folder)
    return f"{project}-{short}-{env}"


class Invoker:
    """Invoke operations of the three API handlers.

    ``lambda_client`` is a boto3 Lambda client pointed at the (local)
    cloud; ``names`` maps handler folder -> deployed function name;
    ``caller`` is the identity the functions record for direct
    invocations (the event's ``caller``; a body cannot claim one).
    """

    def __init__(
        self,
        lambda_client: Any,
        names: dict[str, str] | None = None,
        on_call: Callable[[str, float], None] | None = None,
        caller: str | None = None,
    ) -> None:
        self.client = lambda_client
        self.names = dict(names or {})
        self.on_call = on_call
        self.caller = caller

    def call(
        self,
        folder: str,
        operation: str,
        body: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
    ) -> Any:
        """Run one operation; raise ``ApiError`` on a client error."""
        payload: dict[str, Any] = {"operation": operation}
        if self.caller:
            payload["caller"] = self.caller
        if body is not None:
            payload["body"] = body
        if query is not None:
            payload["queryParams"] = query
        response = self.client.invoke(
            FunctionName=function_name(folder, self.names),
            InvocationType="RequestResponse",
            Payload=json.dumps(payload).encode(),
        )
        raw = response["Payload"].read()
        result = json.loads(raw) if raw else None
        if response.get("FunctionError"):
            message = result
            if isinstance(result, dict):
                message = result.get("errorMessage") or result
            raise FunctionFailed(f"{operation}: function error: {message}")
        if (
            isinstance(result, dict)
            and "error" in result
            and ("statusCode" in result)
        ):
            raise ApiError(operation, result)
        return result

    # shorthands ---------------------------------------------------------
    def data(self, operation: str, body=None, query=None) -> Any:
        """An operation of the data-management-handler."""
        return self.call("data-management-handler", operation, body, query)

    def execution(self, operation: str, body=None, query=None) -> Any:
        """An operation of the execution-handler."""
        return self.call("execution-handler", operation, body, query)

    def query(self, operation: str, body=None, query=None) -> Any:
        """An operation of the query-handler."""
        return self.call("query-handler", operation, body, query)
