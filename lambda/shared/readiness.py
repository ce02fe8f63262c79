"""Plan readiness: will this plan recover now, and if not, why.

:func:`evaluate_plan` runs the named checks over one listing of each
account/region and answers the CONTRACTS section 8 report. The on-demand
endpoint and the schedule run every check (:data:`ALL_CHECKS`); the
execution start is meant to run :data:`BLOCKING_CHECKS` and refuse a
NOT_READY plan, naming each failing check and server
(:func:`failing_servers`).
"""

from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence

from shared import clock
from shared.readiness_checks import (
    PlanView,
    check_access,
    check_capacity,
    check_membership,
    check_replication,
    execution_servers,
)
from shared.readiness_inventory import (
    ClientFactory,
    default_clients,
    resolve_plan,
)
from shared.readiness_launch import check_launch_configuration
from shared.readiness_result import NOT_READY, worst
from shared.wave_servers import execution_server_ids

ALL_CHECKS = (
    "access",
    "membership",
    "replication",
    "launch_configuration",
    "capacity",
)
BLOCKING_CHECKS = ("access", "membership", "replication", "capacity")


def _runners(clients: ClientFactory) -> Dict[str, Callable]:
    return {
        "access": check_access,
        "membership": check_membership,
        "replication": check_replication,
        "launch_configuration": lambda view: check_launch_configuration(
            view, clients
        ),
        "capacity": check_capacity,
    }


def sorted_waves(plan: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The plan's waves in ``waveNumber`` order."""
    return sorted(plan.get("waves") or [], key=lambda w: int(w["waveNumber"]))


def evaluate_plan(
    plan: Dict[str, Any],
    groups: Dict[str, Dict[str, Any]],
    checks: Sequence[str] = ALL_CHECKS,
    active_executions: Iterable[Dict[str, Any]] = (),
    accounts_table: Optional[Any] = None,
    clients: Optional[ClientFactory] = None,
) -> Dict[str, Any]:
    """The readiness report of ``plan`` (``groups`` by id).

    ``active_executions`` are the running execution records (their
    servers are busy for another plan); ``clients`` makes the AWS
    clients (tests inject; default: the account's assumed role).
    """
    clients = clients or default_clients
    unknown = set(checks) - set(ALL_CHECKS)
    if unknown:
        raise ValueError(f"unknown readiness checks {sorted(unknown)}")
    members, inventories = resolve_plan(
        sorted_waves(plan), groups, accounts_table, clients
    )
    target = plan.get("rpoTargetSeconds")
    view = PlanView(
        members,
        inventories,
        float(target) if target is not None else None,
        execution_servers(
            active_executions, plan.get("planId"), execution_server_ids
        ),
    )
    runners = _runners(clients)
    results = [runners[name](view) for name in ALL_CHECKS if name in checks]
    return {
        "planId": plan.get("planId"),
        "planName": plan.get("planName"),
        "status": worst(r["status"] for r in results),
        "checkedAt": clock.iso_now(),
        "checks": results,
    }


def failing_servers(report: Dict[str, Any]) -> Dict[str, List[str]]:
    """Check name -> the servers it finds NOT_READY (for a refusal)."""
    return {
        check["name"]: [
            s["sourceServerId"]
            for s in check["servers"]
            if s["status"] == NOT_READY
        ]
        for check in report["checks"]
        if check["status"] == NOT_READY
    }
