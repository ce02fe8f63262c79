"""Injectable clock so tests and the local cloud control time."""

import time
from datetime import datetime, timezone
from typing import Any, Callable, Optional

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


def to_epoch(value: Any) -> Optional[float]:
    """Epoch seconds of an ISO-8601 string or an epoch number; None if
    ``value`` is neither (records hold both forms)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        pass
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def set_time_source(source: Callable[[], float]) -> None:
    """Replace the time source (tests); ``time.time`` by default."""
    global _now
    _now = source


def reset_time_source() -> None:
    """Restore the real clock."""
    set_time_source(time.time)
