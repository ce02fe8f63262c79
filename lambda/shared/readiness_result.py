"""The shape of a readiness answer (CONTRACTS section 8).

A plan's report is ``{"planId", "status", "checkedAt", "checks": [{"name",
"status", "message", "servers": [...]}]}``; each entry of ``servers`` is
``{"sourceServerId", "hostname", "waveNumber", "status", "message"}`` for a
server the check finds WARNING or NOT_READY (READY servers are not listed,
so a 1,000-server plan answers a small body).
"""

from typing import Any, Dict, Iterable, List, Optional

READY = "READY"
WARNING = "WARNING"
NOT_READY = "NOT_READY"
SEVERITY = {READY: 0, WARNING: 1, NOT_READY: 2}
# Servers named in a check's message; the full list is under ``servers``.
MESSAGE_NAMES = 10


def worst(statuses: Iterable[str]) -> str:
    """The most severe status; READY when there is none."""
    return max(statuses, key=SEVERITY.__getitem__, default=READY)


def server_finding(
    server_id: str,
    status: str,
    message: str,
    wave_number: Optional[int] = None,
    host: Optional[str] = None,
) -> Dict[str, Any]:
    """One server's finding within a check."""
    return {
        "sourceServerId": server_id,
        "hostname": host,
        "waveNumber": wave_number,
        "status": status,
        "message": message,
    }


def check_result(
    name: str,
    ready_message: str,
    servers: List[Dict[str, Any]],
    problems: Optional[List[Dict[str, Any]]] = None,
) -> Dict[str, Any]:
    """A check's answer from its server findings and its problems that
    concern no single server (``{"status", "message", "resource"}``)."""
    problems = problems or []
    status = worst([s["status"] for s in servers + problems])
    if status == READY:
        return {
            "name": name,
            "status": READY,
            "message": ready_message,
            "servers": [],
        }
    parts = [p["message"] for p in problems]
    if servers:
        named = [
            f"{s.get('hostname') or s['sourceServerId']}: {s['message']}"
            for s in servers[:MESSAGE_NAMES]
        ]
        more = len(servers) - MESSAGE_NAMES
        if more > 0:
            named.append(f"and {more} more")
        parts.append(f"{len(servers)} server(s): " + "; ".join(named))
    result = {
        "name": name,
        "status": status,
        "message": " | ".join(parts),
        "servers": servers,
    }
    if problems:
        result["resources"] = problems
    return result


def summary(report: Dict[str, Any]) -> Dict[str, Any]:
    """The short form stored on the plan: status per check, failing
    server counts."""
    return {
        "checks": {c["name"]: c["status"] for c in report["checks"]},
        "failingServers": len(
            {
                s["sourceServerId"]
                for c in report["checks"]
                for s in c["servers"]
                if s["status"] == NOT_READY
            }
        ),
        "warningServers": len(
            {
                s["sourceServerId"]
                for c in report["checks"]
                for s in c["servers"]
                if s["status"] == WARNING
            }
        ),
    }
