"""Fault injection declared by a scenario (``FaultSpec``)."""

from __future__ import annotations

from collections import Counter

from ..scenario import FaultSpec
from .errors import DrsError
from .model import hex_id

ID_DIGITS = 13


class FaultInjector:
    """Decides, deterministically from a seed, when each fault fires.

    A fault with ``nth`` fires on the nth matching occurrence only, one
    with ``rate`` on that fraction of occurrences, one with neither on
    every occurrence. A ``rate`` draw depends on (seed, fault, account,
    region, occurrence in that account/region) only, not on other
    accounts' calls. Not thread-safe: the simulator holds its lock.
    """

    def __init__(self, faults: list[FaultSpec], seed: int = 0):
        self.faults = list(faults)
        self.seed = seed
        self._seen = [0] * len(self.faults)
        self._seen_in: Counter = Counter()

    def _fires(
        self,
        kinds: tuple[str, ...],
        account: str,
        region: str,
        operation: str | None = None,
        server: tuple[str, ...] = (),
    ) -> list[FaultSpec]:
        fired = []
        for index, fault in enumerate(self.faults):
            if fault.type not in kinds:
                continue
            if fault.account and fault.account != account:
                continue
            if fault.region and fault.region != region:
                continue
            if fault.operation and fault.operation != operation:
                continue
            if fault.server and fault.server not in server:
                continue
            self._seen[index] += 1
            if fault.nth is not None:
                hit = self._seen[index] == fault.nth
            elif fault.rate is not None:
                hit = self._draw(index, account, region) < fault.rate
            else:
                hit = True
            if hit:
                fired.append(fault)
        return fired

    def _draw(self, index: int, account: str, region: str) -> float:
        """A uniform [0, 1) value for this fault's next occurrence in
        ``account``/``region``."""
        self._seen_in[(index, account, region)] += 1
        n = self._seen_in[(index, account, region)]
        digest = hex_id(self.seed, index, account, region, n, length=ID_DIGITS)
        return int(digest, 16) / 16**ID_DIGITS

    def before_call(self, operation: str, account: str, region: str) -> float:
        """Raise an injected error for this call; return latency seconds."""
        latency = sum(
            f.seconds
            for f in self._fires(("latency",), account, region, operation)
        )
        for fault in self._fires(
            ("throttle", "internal_error"), account, region, operation
        ):
            if fault.type == "throttle":
                raise DrsError(
                    "ThrottlingException",
                    "Rate exceeded",
                    retryAfterSeconds=str(fault.retry_after_seconds),
                    serviceCode="drs",
                )
            raise DrsError(
                "InternalServerException",
                "Internal server error (injected by the local DRS simulator)",
                retryAfterSeconds=fault.retry_after_seconds,
            )
        return latency

    def launch_fails(
        self, account: str, region: str, server_id: str, hostname: str
    ) -> bool:
        """Whether this server's launch is declared to fail."""
        return bool(
            self._fires(
                ("launch_failure",),
                account,
                region,
                server=(server_id, hostname),
            )
        )

    def job_fails(self, account: str, region: str) -> bool:
        """Whether this new recovery job fails as a whole."""
        return bool(self._fires(("job_failure",), account, region))

    def event_copies(self, account: str, region: str) -> int:
        """How many copies of an event to publish (0 dropped, 2 dup)."""
        if self._fires(("drop_events",), account, region):
            return 0
        if self._fires(("duplicate_events",), account, region):
            return 2
        return 1
