"""DRS REST-JSON protocol driven by botocore's own ``drs`` service model.

Routing (method + requestUri), input validation, output shaping and error
encoding, independent of any transport (HTTP server or botocore hook).
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any, Callable
from urllib.parse import parse_qs, unquote, urlsplit

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape

from .errors import DrsError, validation_error

Handler = Callable[[str, dict, str, str], dict]
Response = tuple[int, dict[str, str], bytes]
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/")


@functools.lru_cache(maxsize=1)
def service_model() -> ServiceModel:
    """botocore's ``drs`` service model (loaded once)."""
    return botocore.session.get_session().get_service_model("drs")


@functools.lru_cache(maxsize=1)
def _routes() -> list[tuple[str, re.Pattern, str]]:
    model = service_model()
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        uri = http["requestUri"].split("?")[0]
        pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(uri))
        routes.append((http["method"], re.compile(f"^{pattern}$"), name))
    return routes


def route(method: str, path: str) -> tuple[str, dict[str, str]]:
    """Return the operation name and URI parameters of a request."""
    for verb, pattern, name in _routes():
        match = pattern.match(path)
        if verb == method and match:
            params = {k: unquote(v) for k, v in match.groupdict().items()}
            return name, params
    raise validation_error(
        f"No DRS operation for {method} {path}", reason="unknownOperation"
    )


def parse_request(
    method: str, url: str, body: bytes | None
) -> tuple[str, dict[str, Any]]:
    """Turn an HTTP request into ``(operation, params)``."""
    parts = urlsplit(url)
    name, uri_params = route(method, parts.path)
    op = service_model().operation_model(name)
    try:
        params = json.loads(body) if body else {}
    except ValueError:
        raise validation_error(
            "Request body is not valid JSON", reason="cannotParse"
        )
    if not isinstance(params, dict):
        raise validation_error("Request body must be a JSON object")
    query = parse_qs(parts.query)
    for member, shape in (
        op.input_shape.members if op.input_shape else {}
    ).items():
        loc = shape.serialization.get("location")
        wire = shape.serialization.get("name", member)
        if loc == "uri" and wire in uri_params:
            params[member] = uri_params[wire]
        elif loc == "querystring" and wire in query:
            values = query[wire]
            params[member] = values if shape.type_name == "list" else values[0]
    return name, params


def account_and_region(headers: dict[str, str]) -> tuple[str, str]:
    """Caller's account (from its access key) and region (SigV4 scope)."""
    auth = next(
        (v for k, v in headers.items() if k.lower() == "authorization"), ""
    )
    if isinstance(auth, bytes):
        auth = auth.decode("latin-1")
    match = _CREDENTIAL.search(auth)
    if not match:
        raise DrsError(
            "AccessDeniedException", "Missing or invalid SigV4 Authorization"
        )
    from moto.iam.models import get_account_id_from

    return get_account_id_from(match.group(1)), match.group(2)


def _check_scalar(shape: Shape, value: Any, path: str) -> None:
    kind = shape.type_name
    meta = shape.metadata
    if kind == "string":
        if not isinstance(value, str):
            raise _bad(path, "Member must be a string")
        if shape.enum and value not in shape.enum:
            raise _bad(
                path,
                "Member must satisfy enum value set: "
                f"[{', '.join(shape.enum)}]",
            )
        _check_range(len(value), meta, path, "length")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(path, "Member must be an integer")
        _check_range(value, meta, path, "value")
    elif kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _bad(path, "Member must be a number")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise _bad(path, "Member must be a boolean")


def _check_range(size: int, meta: dict, path: str, what: str) -> None:
    if "min" in meta and size < meta["min"]:
        raise _bad(path, f"Member must have {what} >= {meta['min']}")
    if "max" in meta and size > meta["max"]:
        raise _bad(path, f"Member must have {what} <= {meta['max']}")


def _bad(path: str, constraint: str) -> DrsError:
    return validation_error(
        f"1 validation error detected: Value at '{path}' failed to satisfy "
        f"constraint: {constraint}",
        field=path,
        reason="fieldValidationFailed",
    )


def validate(shape: Shape | None, value: Any, path: str = "") -> None:
    """Validate ``value`` against ``shape``; raise ``ValidationException``.

    Checks unknown and missing required members, types, enums, lengths
    and ranges; the message names the offending field (dotted path).
    """
    if shape is None:
        return
    if shape.type_name == "structure":
        _validate_structure(shape, value, path)
    elif shape.type_name == "list":
        if not isinstance(value, list):
            raise _bad(path, "Member must be a list")
        _check_range(len(value), shape.metadata, path, "length")
        for index, item in enumerate(value):
            validate(shape.member, item, f"{path}.{index}")
    elif shape.type_name == "map":
        if not isinstance(value, dict):
            raise _bad(path, "Member must be a map")
        _check_range(len(value), shape.metadata, path, "length")
        for key, item in value.items():
            validate(shape.key, key, f"{path}.key")
            validate(shape.value, item, f"{path}.{key}")
    else:
        _check_scalar(shape, value, path)


def _validate_structure(shape: Shape, value: Any, path: str) -> None:
    if not isinstance(value, dict):
        raise _bad(path or "body", "Member must be an object")
    for key in value:
        if key not in shape.members:
            raise validation_error(
                f"Unknown member '{_join(path, key)}'",
                field=_join(path, key),
                reason="fieldValidationFailed",
            )
    for key in shape.required_members:
        if value.get(key) is None:
            raise _bad(_join(path, key), "Member must not be null")
    for key, item in value.items():
        if item is not None:
            validate(shape.members[key], item, _join(path, key))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def shape_output(shape: Shape | None, value: Any) -> Any:
    """Keep only what ``shape`` models (recursively); drop ``None``."""
    if shape is None:
        return {}
    if shape.type_name == "structure":
        return {
            k: shape_output(shape.members[k], v)
            for k, v in value.items()
            if k in shape.members and v is not None
        }
    if shape.type_name == "list":
        return [shape_output(shape.member, v) for v in value]
    if shape.type_name == "map":
        return {k: shape_output(shape.value, v) for k, v in value.items()}
    return value


def encode_error(err: DrsError) -> Response:
    """REST-JSON error: status of the error shape, ``x-amzn-ErrorType``."""
    model = service_model()
    try:
        shape = model.shape_for(err.code)
        status = shape.metadata["error"]["httpStatusCode"]
        members = shape.members
    except Exception:  # an unmodelled code: answer as a 500
        status, members = 500, {}
    body = {"message": err.message, "code": err.code}
    body.update({k: v for k, v in err.members.items() if k in members})
    headers = {
        "Content-Type": "application/json",
        "x-amzn-ErrorType": err.code,
    }
    if "retryAfterSeconds" in err.members:
        headers["Retry-After"] = str(err.members["retryAfterSeconds"])
    return status, headers, json.dumps(body).encode()


def encode_result(op: OperationModel, result: dict) -> Response:
    """Success response with the operation's modelled status code."""
    status = op.http.get("responseCode", 200)
    body = shape_output(op.output_shape, result)
    headers = {"Content-Type": "application/json"}
    return status, headers, json.dumps(body).encode()


def dispatch(
    handler: Handler,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None,
) -> Response:
    """Serve one HTTP request through ``handler(op, params, acct, region)``."""
    try:
        account, region = account_and_region(headers)
        name, params = parse_request(method, url, body)
        result = handler(name, params, account, region)
        return encode_result(service_model().operation_model(name), result)
    except DrsError as err:
        return encode_error(err)
