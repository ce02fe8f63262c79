"""``outcomeDetails`` of an execution for the reference console (issue 20).

The console's execution page shows how an execution ended, or how far it
is, in one summary. It is derived from the execution record only (no
DRS call): the recorded servers of each wave (``waves[i].serverIds``),
each server's DRS launch status (``waves[i].servers[].status``), the
wave statuses, the record's status, its reason and error in our words,
and the drill cleanup's result.
"""

from typing import Any, Dict, List

from shared.statuses import (
    ACTIVE_STATUSES,
    CANCELLED,
    COMPLETED,
    FAILED,
    TIMEOUT,
)

Item = Dict[str, Any]
LAUNCHED = "LAUNCHED"
# DRS launch statuses of a server whose launch did not succeed.
LAUNCH_FAILED = frozenset({"FAILED", "TERMINATED"})
IN_PROGRESS = "IN_PROGRESS"
SUCCEEDED = "SUCCEEDED"
PARTIAL = "PARTIAL"


def _wave_outcome(wave: Item) -> Item:
    servers = wave.get("servers") or []
    ids = {str(i) for i in wave.get("serverIds") or []}
    ids |= {str(s.get("sourceServerId")) for s in servers}
    statuses = [str(s.get("status") or "") for s in servers]
    launched = statuses.count(LAUNCHED)
    failed = sum(1 for s in statuses if s in LAUNCH_FAILED)
    return {
        "waveNumber": wave.get("waveNumber"),
        "waveName": wave.get("waveName"),
        "status": wave.get("status"),
        "totalServers": len(ids),
        "launchedServers": launched,
        "failedServers": failed,
        "failedServerIds": sorted(
            str(s.get("sourceServerId"))
            for s in servers
            if str(s.get("status") or "") in LAUNCH_FAILED
        ),
    }


def _outcome(status: str, launched: int) -> str:
    if status in ACTIVE_STATUSES:
        return IN_PROGRESS
    if status == COMPLETED:
        return SUCCEEDED
    if status == FAILED:
        return PARTIAL if launched else FAILED
    return status  # CANCELLED, TIMEOUT


def _message(status: str, total: int, launched: int, failed: int) -> str:
    counted = f"{launched} of {total} server(s) launched"
    if failed:
        counted += f", {failed} failed"
    if status in ACTIVE_STATUSES:
        return f"{status.lower()}: {counted} so far"
    words = {
        COMPLETED: "completed",
        FAILED: "failed",
        CANCELLED: "cancelled",
        TIMEOUT: "timed out",
    }
    return f"{words.get(status, status.lower())}: {counted}"


def outcome_details(record: Item) -> Item:
    """How the execution ended (or stands), in the console's summary."""
    status = str(record.get("status") or "")
    waves: List[Item] = [_wave_outcome(w) for w in record.get("waves") or []]
    total = sum(w["totalServers"] for w in waves)
    launched = sum(w["launchedServers"] for w in waves)
    failed = sum(w["failedServers"] for w in waves)
    by_status: Dict[str, int] = {}
    for wave in waves:
        key = str(wave["status"] or "PENDING")
        by_status[key] = by_status.get(key, 0) + 1
    details: Item = {
        "outcome": _outcome(status, launched),
        "status": status,
        "message": _message(status, total, launched, failed),
        "totalWaves": len(waves),
        "wavesByStatus": by_status,
        "totalServers": total,
        "launchedServers": launched,
        "failedServers": failed,
        "pendingServers": max(total - launched - failed, 0),
        "waves": waves,
    }
    for key in ("statusReason", "error", "errorCode", "drillCleanupError"):
        if record.get(key):
            details[key] = record[key]
    terminated = [
        i
        for item in record.get("terminations") or []
        for i in item.get("recoveryInstanceIds") or []
    ]
    details["terminatedInstances"] = len(terminated)
    return details
