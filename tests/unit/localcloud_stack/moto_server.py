"""An in-process moto server with the local cloud's moto patches."""

import logging
from contextlib import contextmanager
from typing import Iterator

from localcloud import moto_patches
from localcloud.stack import free_port


@contextmanager
def patched_moto_server() -> Iterator[str]:
    """Serve moto on a free loopback port, patched as the local cloud
    patches it; yields the endpoint URL."""
    from moto.server import ThreadedMotoServer

    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.WARNING)  # one line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(
        ip_address="127.0.0.1", port=port, verbose=False
    )
    server.start()
    moto_patches.install()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        moto_patches.uninstall()
        server.stop()
        werkzeug.setLevel(level)
