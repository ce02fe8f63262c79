"""Injectable clock so tests and the local cloud control time."""

import time
from datetime import datetime, timezone
from typing import Callable

_now: Callable[[], float] = time.time


def epoch() -> int:
    """Current time as whole epoch seconds."""
    return int(_now())


def epoch_float() -> float:
    """Current time as fractional epoch seconds."""
    return float(_now())


def utcnow() -> datetime:
    """Current time as an aware UTC datetime."""
    return datetime.fromtimestamp(_now(), tz=timezone.utc)


def iso_now() -> str:
    """Current time as an ISO-8601 UTC string (seconds precision)."""
    return utcnow().replace(microsecond=0).isoformat()


def set_time_source(source: Callable[[], float]) -> None:
    """Replace the time source (tests); ``time.time`` by default."""
    global _now
    _now = source


def reset_time_source() -> None:
    """Restore the real clock."""
    set_time_source(time.time)
