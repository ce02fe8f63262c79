"""``DrsHttpServer``: the simulator on a loopback HTTP endpoint.

Point unmodified clients at it with ``AWS_ENDPOINT_URL_DRS`` or
``endpoint_url=`` (boto3) / ``--endpoint-url`` (AWS CLI).
"""

from __future__ import annotations

import ipaddress
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .protocol import dispatch


class _Handler(BaseHTTPRequestHandler):
    server_version = "LocalDRS/1.0"
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, payload = dispatch(
            self.server.simulator.handle,  # type: ignore[attr-defined]
            self.command,
            self.path,
            dict(self.headers.items()),
            body,
        )
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", "local-drs")
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet (tests and the stack log elsewhere)."""


class DrsHttpServer:
    """Threaded HTTP front of a ``DrsSimulator`` (loopback only)."""

    def __init__(self, simulator: Any, host: str = "127.0.0.1", port: int = 0):
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError("the local DRS endpoint binds loopback only")
        self.simulator = simulator
        self.host = host
        self.port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL (``http://127.0.0.1:PORT``) once started."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> str:
        """Start serving in a daemon thread; return the base URL."""
        httpd = ThreadingHTTPServer((self.host, self.port), _Handler)
        httpd.daemon_threads = True
        httpd.simulator = self.simulator  # type: ignore[attr-defined]
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="drs-http",
            daemon=True,
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None
