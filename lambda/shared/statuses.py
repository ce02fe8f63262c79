"""Execution and wave status values and their legal transitions."""

from typing import Dict, FrozenSet

PENDING = "PENDING"
RUNNING = "RUNNING"
PAUSED = "PAUSED"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
CANCELLING = "CANCELLING"
CANCELLED = "CANCELLED"
TIMEOUT = "TIMEOUT"

ACTIVE_STATUSES = frozenset({PENDING, RUNNING, PAUSED, CANCELLING})
TERMINAL_STATUSES = frozenset({COMPLETED, FAILED, CANCELLED, TIMEOUT})

# Target status -> statuses it may be reached from (CONTRACTS §4).
LEGAL_PREDECESSORS: Dict[str, FrozenSet[str]] = {
    RUNNING: frozenset({PENDING, PAUSED}),
    PAUSED: frozenset({RUNNING}),
    COMPLETED: frozenset({RUNNING}),
    FAILED: frozenset({PENDING, RUNNING, PAUSED}),
    CANCELLING: frozenset({PENDING, RUNNING, PAUSED}),
    CANCELLED: frozenset({CANCELLING}),
    TIMEOUT: frozenset({RUNNING}),
}

# Orchestration state status (lower case) -> stored execution status.
STATE_TO_EXECUTION_STATUS = {
    "running": RUNNING,
    "paused": PAUSED,
    "completed": COMPLETED,
    "failed": FAILED,
    "cancelled": CANCELLED,
    "timeout": TIMEOUT,
}

WAVE_PENDING = "PENDING"
WAVE_STARTED = "STARTED"
WAVE_COMPLETED = "COMPLETED"
WAVE_FAILED = "FAILED"
WAVE_CANCELLED = "CANCELLED"
# Round two (CONTRACTS §8): chunks waiting for DRS quota, a ready wave
# waiting for approval, a wave whose dependency failed.
WAVE_QUEUED = "QUEUED"
WAVE_WAITING_APPROVAL = "WAITING_APPROVAL"
WAVE_SKIPPED = "SKIPPED"

EXECUTION_TYPES = ("DRILL", "RECOVERY")
