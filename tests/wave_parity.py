"""Comparing two runs of the wave engine (generic vs legacy): drop the
values that differ run to run (wall-clock times, generated ids)."""

from typing import Any, Iterable

# Wall-clock times, the ids moto generates (EC2 instances, private IPs)
# and the STS session name derived from the execution id.
VOLATILE = frozenset(
    {
        "startTime",
        "endTime",
        "launchTime",
        "lastLaunchTime",
        "updatedTime",
        "claimedAt",
        "readyTime",
        "start_time",
        "end_time",
        "duration_seconds",
        "durationSeconds",
        "instanceId",
        "recoveryInstanceId",
        "recoveryInstanceIds",
        "privateIp",
        "sessionName",
    }
)


def stable(value: Any, also: Iterable[str] = ()) -> Any:
    """``value`` without the volatile keys (and ``also``), recursively."""
    drop = VOLATILE | frozenset(also)
    if isinstance(value, dict):
        return {k: stable(v, drop) for k, v in value.items() if k not in drop}
    if isinstance(value, list):
        return [stable(v, drop) for v in value]
    return value
