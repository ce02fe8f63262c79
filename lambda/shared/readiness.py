"""Plan readiness: will this plan recover now, and if not, why.

:func:`evaluate_plan` runs the named checks over one listing of each
account/region and answers the CONTRACTS section 8 report. The on-demand
endpoint and the schedule run every check (:data:`ALL_CHECKS`); the
execution start (``execution_preflight``) runs :data:`BLOCKING_CHECKS`
over the listing it resolved the waves with (``resolved``) and refuses a
NOT_READY plan, naming each failing check and server
(:func:`failing_checks`), unless the caller accepts those risks.
"""

from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Optional,
    Sequence,
    Tuple,
)

from shared import clock
from shared.config import get_settings
from shared.readiness_checks import (
    PlanView,
    check_access,
    check_capacity,
    check_membership,
    check_replication,
    execution_servers,
)
from shared.readiness_groups import resolve_plan_groups
from shared.readiness_inventory import (
    ClientFactory,
    Inventory,
    LocationKey,
    WaveMembers,
    default_clients,
)
from shared.readiness_launch import check_launch_configuration
from shared.readiness_result import NOT_READY, worst
from shared.wave_plan_store import planned_server_ids
from shared.wave_schedule import quotas_from

# Waves as resolved now and the listing of each account/region.
Resolution = Tuple[List[WaveMembers], Dict[LocationKey, Inventory]]

ALL_CHECKS = (
    "access",
    "membership",
    "replication",
    "launch_configuration",
    "capacity",
)


# The checks that read nothing beyond the listing (pure over PlanView).
# The execution start evaluates only these (``evaluate_resolved``), so
# its code never reaches the launch-configuration check's EC2/IAM calls
# (its role is not granted them).
BLOCKING_RUNNERS: Dict[str, Callable] = {
    "access": check_access,
    "membership": check_membership,
    "replication": check_replication,
    "capacity": check_capacity,
}
BLOCKING_CHECKS = tuple(BLOCKING_RUNNERS)


def _runners(clients: ClientFactory) -> Dict[str, Callable]:
    return {
        **BLOCKING_RUNNERS,
        "launch_configuration": lambda view: check_launch_configuration(
            view, clients
        ),
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
    resolved: Optional[Resolution] = None,
) -> Dict[str, Any]:
    """The readiness report of ``plan`` (``groups`` by id).

    ``active_executions`` are the running execution records (their
    servers are busy for another plan); ``clients`` makes the AWS
    clients (tests inject; default: the account's assumed role);
    ``resolved`` is a ``resolve_plan_groups`` answer already read (the
    execution start lists each account/region once for both).
    """
    clients = clients or default_clients
    unknown = set(checks) - set(ALL_CHECKS)
    if unknown:
        raise ValueError(f"unknown readiness checks {sorted(unknown)}")
    if resolved is None:
        resolved = resolve_plan_groups(
            sorted_waves(plan), groups, accounts_table, clients
        )
    runners = _runners(clients)
    return evaluate_resolved(
        plan,
        resolved,
        {name: runners[name] for name in checks},
        active_executions,
    )


def evaluate_resolved(
    plan: Dict[str, Any],
    resolved: Resolution,
    runners: Dict[str, Callable],
    active_executions: Iterable[Dict[str, Any]] = (),
) -> Dict[str, Any]:
    """The report of ``runners`` (check name -> check) over a plan
    already resolved (``resolve_plan_groups``), in :data:`ALL_CHECKS`
    order."""
    members, inventories = resolved
    target = plan.get("rpoTargetSeconds")
    view = PlanView(
        members,
        inventories,
        float(target) if target is not None else None,
        execution_servers(
            active_executions, plan.get("planId"), planned_server_ids
        ),
        quotas_from(get_settings()),
    )
    results = [runners[name](view) for name in ALL_CHECKS if name in runners]
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


def failing_checks(report: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The NOT_READY checks of ``report``, each with only its NOT_READY
    servers and resources (the machine-readable details of a refusal)."""
    failing = []
    for check in report["checks"]:
        if check["status"] != NOT_READY:
            continue
        entry = {
            "name": check["name"],
            "status": NOT_READY,
            "message": check["message"],
            "servers": [
                s for s in check["servers"] if s["status"] == NOT_READY
            ],
        }
        resources = [
            r for r in check.get("resources") or [] if r["status"] == NOT_READY
        ]
        if resources:
            entry["resources"] = resources
        failing.append(entry)
    return failing
