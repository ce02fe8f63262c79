"""In-process interception: boto3 ``drs`` clients reach the simulator.

``intercept_drs(sim)`` registers a botocore ``before-send.drs`` handler.
It is more specific than moto's catch-all ``before-send`` stubber, so
botocore calls it first and moto never answers "not implemented".
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator
from unittest import mock
from urllib.parse import urlsplit

from botocore.awsrequest import AWSResponse
from botocore.handlers import BUILTIN_HANDLERS

from .protocol import dispatch

_ACTIVE: list[Any] = []


class _RawBody:
    """The minimal raw-stream interface botocore reads a body from."""

    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        """Yield the whole body once."""
        yield self._body

    def read(self, *args: Any) -> bytes:
        """Return the whole body."""
        body, self._body = self._body, b""
        return body


def _before_send(request: Any, **kwargs: Any) -> AWSResponse | None:
    host = urlsplit(request.url).hostname or ""
    # a client with its own endpoint (e.g. DrsHttpServer) goes there
    if not _ACTIVE or not host.endswith(".amazonaws.com"):
        return None
    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode()
    status, headers, payload = dispatch(
        _ACTIVE[-1].handle,
        request.method,
        request.url,
        dict(request.headers.items()),
        body,
    )
    return AWSResponse(request.url, status, headers, _RawBody(payload))


BUILTIN_HANDLERS.append(("before-send.drs", _before_send))


def patch_client(client: Any) -> Any:
    """Add the handler to a client created before this module loaded."""
    client.meta.events.register_first("before-send.drs", _before_send)
    return client


@contextlib.contextmanager
def intercept_drs(simulator: Any) -> Iterator[Any]:
    """Route ``drs`` clients created inside the block to ``simulator``.

    Resets boto3's default session so new clients pick up the handler.
    """
    with mock.patch("boto3.DEFAULT_SESSION", None):
        _ACTIVE.append(simulator)
        try:
            yield simulator
        finally:
            _ACTIVE.remove(simulator)
