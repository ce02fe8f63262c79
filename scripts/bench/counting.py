"""Counters wrapped around the local cloud (no change to its code).

``InvocationCounter`` counts Lambda invocations per function by wrapping
the ``invoke``/``invoke_async`` methods of one ``LambdaRuntime``
instance; ``DrsCallLog`` records every DRS call the simulator receives by
wrapping ``DrsSimulator.handle`` of one instance. Both are bench-side: the
runtime and simulator modules are untouched.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any, Dict, Iterable, List, Sequence, Tuple

START_RECOVERY = "StartRecovery"
# What one poll of a wave calls (``poll_wave_status``).
POLL_OPERATIONS = (
    "DescribeJobs",
    "DescribeJobLogItems",
    "DescribeRecoveryInstances",
)


class InvocationCounter:
    """Lambda invocations per function name (sync and ``Event``)."""

    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self._lock = threading.Lock()

    def record(self, name: str) -> None:
        """Count one invocation of ``name``."""
        with self._lock:
            self.counts[name] += 1

    def snapshot(self) -> Dict[str, int]:
        """The counts so far (a copy)."""
        with self._lock:
            return dict(self.counts)

    def install(self, runtime: Any) -> None:
        """Wrap ``runtime.invoke`` and ``runtime.invoke_async``."""
        for method in ("invoke", "invoke_async"):
            original = getattr(runtime, method)

            def wrapped(spec: Any, payload: bytes, _orig=original) -> Any:
                self.record(spec.name)
                return _orig(spec, payload)

            setattr(runtime, method, wrapped)


class DrsCallLog:
    """Every DRS call in arrival order: ``(operation, account, region)``."""

    def __init__(self) -> None:
        self.calls: List[Tuple[str, str, str]] = []
        self._lock = threading.Lock()

    def install(self, simulator: Any) -> None:
        """Wrap ``simulator.handle`` (an instance attribute)."""
        original = simulator.handle

        def handle(
            operation: str, params: dict, account_id: str, region: str
        ) -> dict:
            with self._lock:
                self.calls.append((operation, account_id, region))
            return original(operation, params, account_id, region)

        simulator.handle = handle

    def mark(self) -> int:
        """The current position (calls before it are excluded later)."""
        with self._lock:
            return len(self.calls)

    def operations(self, since: int = 0) -> List[str]:
        """Operations of the calls from position ``since``."""
        with self._lock:
            return [op for op, _, _ in self.calls[since:]]


def delta(after: Dict[str, int], before: Dict[str, int]) -> Dict[str, int]:
    """``after - before`` per key, zero entries dropped, keys sorted."""
    keys = sorted(set(after) | set(before))
    diff = {k: after.get(k, 0) - before.get(k, 0) for k in keys}
    return {k: v for k, v in diff.items() if v}


def split_by_marker(
    operations: Sequence[str], marker: str = START_RECOVERY
) -> List[Dict[str, int]]:
    """Per-operation counts: ``[before the first marker, from marker 1 up
    to marker 2, ...]`` — i.e. setup, then one segment per wave (a wave's
    segment also holds the discovery of the next wave, which precedes its
    ``StartRecovery``)."""
    segments: List[Counter] = [Counter()]
    for operation in operations:
        if operation == marker:
            segments.append(Counter())
        segments[-1][operation] += 1
    return [dict(sorted(s.items())) for s in segments]


def split_waves(
    operations: Sequence[str],
    poll_operations: Iterable[str],
    marker: str = START_RECOVERY,
) -> List[Dict[str, int]]:
    """Like :func:`split_by_marker`, but the calls that follow a
    segment's last poll operation (the next wave's discovery and launch
    configuration, made before its ``StartRecovery``) move to the next
    segment: ``[setup, wave 1, wave 2, ...]`` with each wave holding its
    own discovery, start and polls."""
    polls = set(poll_operations)
    groups: List[List[str]] = [[]]
    for operation in operations:
        if operation == marker:
            current = groups[-1]
            last_poll = max(
                (i for i, op in enumerate(current) if op in polls),
                default=-1,
            )
            groups[-1] = current[: last_poll + 1]
            carried = current[last_poll + 1 :]
            groups.append(carried)
        groups[-1].append(operation)
    return [dict(sorted(Counter(g).items())) for g in groups]


def per_cycle(
    counts: Dict[str, int], cycles: int, exclude: Iterable[str] = ()
) -> Dict[str, float]:
    """Calls per cycle for each operation not in ``exclude`` (and their
    total under ``"total"``); empty when there was no cycle."""
    if cycles <= 0:
        return {}
    skip = set(exclude)
    kept = {k: v for k, v in counts.items() if k not in skip}
    result = {k: round(v / cycles, 2) for k, v in sorted(kept.items())}
    result["total"] = round(sum(kept.values()) / cycles, 2)
    return result
