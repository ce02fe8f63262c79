"""The REST API on loopback, shaped like API Gateway in front of the
functions: ``python -m localcloud.rest_api`` or ``RestApi(...).start()``.

Each request becomes an API Gateway REST proxy event (``resource``,
``path``, ``httpMethod``, ``pathParameters``, ``queryStringParameters``,
``body``, ``requestContext.authorizer.claims`` with ``cognito:groups`` and
``email``) and is invoked on the function owning the endpoint
(``shared.rbac.ENDPOINTS``, names of CONTRACTS §1) through the local
cloud's Lambda, i.e. the packaged code. Its ``statusCode``, ``headers`` and
``body`` are the HTTP answer.

Identity (the Cognito authorizer's job): headers ``X-Local-User`` and
``X-Local-Groups`` (comma separated), else the server's defaults
(``--local-user``, ``--local-groups``); neither -> 401 as API Gateway's
authorizer answers. ``GET /health`` and ``GET /openapi.json`` (the
committed ``docs/openapi.json``, ``scripts/gen_openapi.py``) need no
identity. Unknown routes
answer 404 ``NOT_FOUND``; a function error answers 502.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "lambda") not in sys.path:  # shared.rbac is the route table
    sys.path.insert(0, str(ROOT / "lambda"))

from shared import rbac  # noqa: E402
from shared.rbac import parse_groups  # noqa: E402,F401

from .drill.invoker import function_name  # noqa: E402

Invoke = Callable[[str, dict], dict]
DEFAULT_USER = "local-user@example.com"
OPENAPI_DOCUMENT = ROOT / "docs" / "openapi.json"
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": (
        "Content-Type,Authorization,X-Amz-Date,X-Api-Key,"
        "X-Amz-Security-Token,X-Local-User,X-Local-Groups"
    ),
    "Access-Control-Allow-Methods": "GET,POST,PUT,DELETE,OPTIONS",
}


def _compile(path: str) -> re.Pattern:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path))
    return re.compile(f"^{pattern}$")


# Literal routes before templated ones (/protection-groups/resolve).
ROUTES = sorted(
    ((e, _compile(e.path)) for e in rbac.ENDPOINTS),
    key=lambda item: item[0].path.count("{"),
)


def match_route(method: str, path: str):
    """``(endpoint, path parameters)``; endpoint ``None`` if no route;
    ``(None, {"allowed": [...]})`` when only the method is wrong."""
    allowed = []
    for endpoint, pattern in ROUTES:
        found = pattern.match(path)
        if not found:
            continue
        if endpoint.method == method:
            return endpoint, found.groupdict()
        allowed.append(endpoint.method)
    return None, {"allowed": sorted(set(allowed))}


def lambda_invoker(lambda_client: Any) -> Invoke:
    """An ``Invoke`` through a boto3 Lambda client (the local cloud)."""

    def invoke(name: str, event: dict) -> dict:
        response = lambda_client.invoke(
            FunctionName=name,
            InvocationType="RequestResponse",
            Payload=json.dumps(event).encode(),
        )
        payload = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            raise RuntimeError(f"{name}: {payload}")
        return payload

    return invoke


def build_event(
    endpoint: Any,
    method: str,
    path: str,
    params: dict[str, str],
    query: dict[str, list[str]],
    headers: dict[str, str],
    body: str | None,
    identity: tuple[str, list[str]],
) -> dict[str, Any]:
    """The API Gateway REST proxy event of one request."""
    user, groups = identity
    claims = {
        "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, user)),
        "email": user,
        "cognito:username": user,
        "cognito:groups": ",".join(groups),
    }
    return {
        "resource": endpoint.path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": (
            {k: v[-1] for k, v in query.items()} or None
        ),
        "multiValueQueryStringParameters": query or None,
        "pathParameters": params or None,
        "stageVariables": None,
        "body": body,
        "isBase64Encoded": False,
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "stage": "local",
            "httpMethod": method,
            "path": path,
            "resourcePath": endpoint.path,
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": {"claims": claims},
        },
    }


def _content_length(value: str | None) -> int | None:
    """The request's body length; None when the header is not a
    non-negative integer."""
    if value is None or not value.strip():
        return 0
    try:
        length = int(value)
    except ValueError:
        return None
    return length if length >= 0 else None


def _invalid(field: str, message: str) -> dict[str, str]:
    """The API's VALIDATION_ERROR body (shared.errors.ValidationError)."""
    return {"error": "VALIDATION_ERROR", "message": message, "field": field}


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: Any) -> None:
        if self.server.api.verbose:
            sys.stderr.write("rest-api: " + fmt % args + "\n")

    def _send(
        self, status: int, body: Any, headers: dict | None = None
    ) -> None:
        data = body if isinstance(body, str) else json.dumps(body)
        raw = data.encode()
        self.send_response(status)
        merged = {"Content-Type": "application/json", **CORS}
        merged.update(headers or {})
        for name, value in merged.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, str(value))
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _send_openapi(self) -> None:
        """The API's OpenAPI document, as committed."""
        try:
            text = OPENAPI_DOCUMENT.read_text()
        except OSError:
            return self._send(
                404, {"error": "NOT_FOUND", "message": "no OpenAPI document"}
            )
        return self._send(200, text)

    def _identity(self) -> tuple[str, list[str]] | None:
        api = self.server.api
        user = self.headers.get("X-Local-User") or api.default_user
        raw = self.headers.get("X-Local-Groups")
        groups = rbac.parse_groups(raw) if raw else list(api.default_groups)
        if not user and not groups:
            return None
        return user or DEFAULT_USER, groups

    def _serve(self) -> None:
        url = urlsplit(self.path)
        method = self.command
        length = _content_length(self.headers.get("Content-Length"))
        if length is None:
            # The body's end is unknown: answer, then drop the connection.
            self.close_connection = True
            return self._send(
                400,
                _invalid(
                    "Content-Length",
                    "Content-Length must be a non-negative integer",
                ),
            )
        raw = self.rfile.read(length) if length else None
        if method == "OPTIONS":
            return self._send(200, "")
        if url.path == "/health" and method == "GET":
            return self._send(200, {"status": "healthy", "local": True})
        if url.path == "/openapi.json" and method == "GET":
            return self._send_openapi()
        endpoint, params = match_route(method, url.path)
        if endpoint is None:
            if params["allowed"]:
                return self._send(
                    405,
                    {
                        "error": "METHOD_NOT_ALLOWED",
                        "message": f"{method} is not allowed on {url.path}",
                        "allowed": params["allowed"],
                    },
                )
            return self._send(
                404, {"error": "NOT_FOUND", "message": "no such endpoint"}
            )
        identity = self._identity()
        if identity is None:
            return self._send(401, {"message": "Unauthorized"})
        try:
            body = raw.decode("utf-8") if raw is not None else None
        except UnicodeDecodeError:
            return self._send(400, _invalid("body", "body must be UTF-8 text"))
        event = build_event(
            endpoint,
            method,
            url.path,
            params,
            parse_qs(url.query, keep_blank_values=True),
            {k: v for k, v in self.headers.items()},
            body,
            identity,
        )
        name = function_name(endpoint.handler, self.server.api.names)
        try:
            answer = self.server.api.invoke(name, event)
        except Exception as exc:  # the function failed: API GW says 502
            self.log_message("function error: %s", exc)
            return self._send(502, {"message": "Internal server error"})
        if not isinstance(answer, dict) or "statusCode" not in answer:
            return self._send(502, {"message": "Internal server error"})
        self._send(
            int(answer["statusCode"]),
            answer.get("body") or "",
            answer.get("headers") or {},
        )

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve
    do_OPTIONS = do_HEAD = _serve

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, QUERY...) is routed too: API Gateway
        # answers it as a wrong method (405 here), not http.server's 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: "RestApi"


class RestApi:
    """The local REST API server (threaded, loopback only)."""

    def __init__(
        self,
        invoke: Invoke,
        port: int = 0,
        default_user: str | None = None,
        default_groups: list[str] | tuple[str, ...] = (),
        names: dict[str, str] | None = None,
        verbose: bool = False,
    ) -> None:
        self.invoke = invoke
        self.port = port
        self.default_user = default_user
        self.default_groups = list(default_groups)
        self.names = names
        self.verbose = verbose
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL (after ``start``)."""
        if self._server is None:
            raise RuntimeError("the REST API is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> str:
        """Serve in a background thread; return the base URL."""
        self._server = _Server(("127.0.0.1", self.port), _Handler)
        self._server.api = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="local-rest-api",
            daemon=True,
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop serving (waits for the thread)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def serve_for(
    cloud: Any,
    default_groups: list[str] | tuple[str, ...] = (),
    default_user: str | None = None,
    port: int = 0,
) -> RestApi:
    """Serve the REST API in front of a started ``LocalCloud``; sets
    ``cloud.api_url`` (so ``cloud.env()`` exports ``DRS_ORCH_API_URL``)."""
    api = RestApi(
        lambda_invoker(cloud.client("lambda")),
        port=port,
        default_user=default_user,
        default_groups=default_groups,
    )
    cloud.api_url = api.start()
    return api


def main(argv: list[str] | None = None) -> int:
    """Serve the REST API in front of a running local cloud."""
    import boto3

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint-url", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--local-user", default=None)
    parser.add_argument(
        "--local-groups",
        default="",
        help="default Cognito groups, comma separated",
    )
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)
    client = boto3.client(
        "lambda", endpoint_url=args.endpoint_url, region_name=args.region
    )
    api = RestApi(
        lambda_invoker(client),
        port=args.port,
        default_user=args.local_user,
        default_groups=rbac.parse_groups(args.local_groups),
        verbose=True,
    )
    print(f"export DRS_ORCH_API_URL={api.start()}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        api.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
