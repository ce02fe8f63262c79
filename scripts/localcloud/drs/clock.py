"""Clocks for the DRS simulator: scaled wall time or manual time."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

EPOCH_START = datetime(2026, 1, 1, tzinfo=timezone.utc)


class SimClock:
    """Simulated time running ``speed`` simulated seconds per wall second."""

    def __init__(self, speed: float = 1.0, start: datetime | None = None):
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self.speed = float(speed)
        self._start = start or datetime.now(timezone.utc)
        self._wall0 = time.monotonic()

    def now(self) -> datetime:
        """Return the current simulated time (UTC)."""
        elapsed = (time.monotonic() - self._wall0) * self.speed
        return self._start + timedelta(seconds=elapsed)

    def wall_seconds(self, sim_seconds: float) -> float:
        """Wall seconds that ``sim_seconds`` of simulated time take."""
        return sim_seconds / self.speed


class ManualClock:
    """A clock that only moves when ``advance`` is called (tests)."""

    def __init__(self, start: datetime | None = None):
        self._now = start or EPOCH_START
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the current time (UTC)."""
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward by ``seconds`` and return the new time."""
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now
