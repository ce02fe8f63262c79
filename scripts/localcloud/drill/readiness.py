"""The drill's readiness gate: each plan's readiness is printed before
anything starts; a NOT_READY plan stops the drill with its report.

The readiness is the query-handler's ``get_plan_readiness`` (what
``GET /recovery-plans/{id}/readiness`` answers).
"""

from __future__ import annotations

from typing import Any, Callable

NOT_READY = "NOT_READY"
SHOWN_SERVERS = 10


def readiness_lines(report: dict[str, Any]) -> list[str]:
    """A plan's readiness for people: one line per check, then each
    server a failing check names."""
    lines = [f"readiness: {report['status']} (checked {report['checkedAt']})"]
    for check in report["checks"]:
        lines.append(f"  {check['status']:<9} {check['name']}")
        if check["status"] == "READY":
            continue
        for resource in check.get("resources") or []:
            lines.append(f"      {resource['message']}")
        servers = check["servers"]
        for server in servers[:SHOWN_SERVERS]:
            name = server.get("hostname") or server["sourceServerId"]
            lines.append(
                f"      wave {server.get('waveNumber')} {name} "
                f"({server['sourceServerId']}): {server['message']}"
            )
        if len(servers) > SHOWN_SERVERS:
            lines.append(f"      and {len(servers) - SHOWN_SERVERS} more")
    return lines


def failing_summary(report: dict[str, Any]) -> str:
    """The failing checks and their servers, on one line."""
    parts = []
    for check in report["checks"]:
        if check["status"] != NOT_READY:
            continue
        names = [
            s.get("hostname") or s["sourceServerId"] for s in check["servers"]
        ]
        what = f" ({', '.join(names)})" if names else ""
        parts.append(f"{check['name']}{what}")
    return "not ready: " + "; ".join(parts)


def blocked_report(
    report: dict[str, Any], plan_name: str, kind: str
) -> dict[str, Any]:
    """The drill report of a plan that did not start (NOT_READY)."""
    return {
        "planId": report["planId"],
        "planName": plan_name,
        "executionType": kind,
        "status": NOT_READY,
        "statusReason": failing_summary(report),
        "failures": [],
        "readiness": report,
    }


def check_plans(
    api: Any, setups: list[Any], say: Callable[[str], None]
) -> list[dict[str, Any]]:
    """Each plan's readiness report, printed."""
    reports = []
    for setup in setups:
        report = api.query("get_plan_readiness", {"planId": setup.plan_id})
        say(f"==> plan {setup.plan_name} ({setup.plan_id})")
        for line in readiness_lines(report):
            say(line)
        reports.append(report)
    return reports
