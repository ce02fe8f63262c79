"""DynamoDB requests served one at a time by the local cloud's moto.

moto's DynamoDB has no locking, and its threaded server runs requests
concurrently: two ``TransactWriteItems`` with the same condition on the
same version can both pass the check before either writes (AWS lets
exactly one through), a failed transaction rolls back by restoring a
whole-table copy (losing writes made meanwhile by other requests), and a
scan can iterate a table another request is changing. Serializing the
DynamoDB requests of the process gives AWS's guarantees; they take
milliseconds, so the local cloud does not notice the queue.

A DynamoDB request never calls back into the server (no streams, no
triggers), so holding the lock while it runs cannot deadlock.
"""

import threading
from typing import Any

from moto.dynamodb.responses import DynamoHandler

_LOCK = threading.RLock()
_ORIGINAL = DynamoHandler.call_action


def _call_action(self: Any) -> Any:
    with _LOCK:
        return _ORIGINAL(self)


def install() -> None:
    """Serialize DynamoDB requests (idempotent)."""
    DynamoHandler.call_action = _call_action


def uninstall() -> None:
    """Restore moto's concurrent DynamoDB."""
    DynamoHandler.call_action = _ORIGINAL
