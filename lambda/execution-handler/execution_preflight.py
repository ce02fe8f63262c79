"""Readiness at start (issue 19): the blocking checks before anything is
written.

:func:`preflight` lists each account/region of the plan ONCE
(``shared.readiness_inventory``: source servers, jobs, recovery
instances), resolves every wave's servers from that listing by the one
membership rule, refuses servers already in use (SERVER_CONFLICT, as
before) and a plan that can never run under the DRS quotas
(WAVE_SIZE_LIMIT_EXCEEDED), and runs the blocking checks
(``shared.readiness.BLOCKING_CHECKS``: access, membership, replication,
capacity) over the same listing. A NOT_READY
plan is refused with 409 PLAN_NOT_READY naming every failing check and
server, unless the caller's ``acceptRisks`` names each failing check:
then the servers those checks fail are left out of the execution and the
record says what was left out, why, and who accepted it.

``acceptRisks`` is allowed on a DRILL as on a RECOVERY: a DR team drills
the rest of a plan while a known-bad server is being repaired, without
editing the plan (an edit would change the real recovery too); the
acceptance is recorded the same way and nothing is left out silently.

A wave of several protection groups (``protectionGroupIds``) is resolved
to the union of its groups' servers, without repeats, and records which
group each came from (``shared.readiness_groups``).

A wave left without servers is refused (PLAN_NOT_READY, ``emptyWaves``):
a start that would recover nothing of a wave is a plan to fix, not to
run (the wave engine would complete such a wave empty).
"""

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Set

from execution_drs import drs_client_for, job_server_ids
from shared import clock, drs_limits
from shared.errors import (
    DrsLimitExceededError,
    PlanNotReadyError,
    ServerConflictError,
    ValidationError,
)
from shared.readiness import (
    BLOCKING_CHECKS,
    BLOCKING_RUNNERS,
    evaluate_resolved,
    failing_checks,
    sorted_waves,
)
from shared.readiness_groups import resolve_plan_groups
from shared.readiness_inventory import WaveMembers
from shared.wave_plan_store import planned_server_ids
from shared.wave_servers import WaveServers

# ``acceptRisks`` names a blocking check, in any case ("REPLICATION").
RISK_NAMES = {name.upper(): name for name in BLOCKING_CHECKS}
ACCEPT_HINT = (
    "fix them and start again, or pass acceptRisks naming the failing "
    "checks to go ahead without the servers they fail"
)


def accepted_risks(raw: Any) -> List[str]:
    """The check names ``acceptRisks`` accepts (400 for anything else)."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(r, str) for r in raw):
        raise ValidationError(
            "acceptRisks must be a list of readiness check names",
            field="acceptRisks",
        )
    unknown = sorted({r for r in raw if r.strip().upper() not in RISK_NAMES})
    if unknown:
        raise ValidationError(
            f"acceptRisks: unknown check(s) {', '.join(unknown)}; the "
            "checks run at start are " + ", ".join(sorted(RISK_NAMES)),
            field="acceptRisks",
            unknownChecks=unknown,
            acceptableChecks=sorted(RISK_NAMES),
        )
    return list(dict.fromkeys(RISK_NAMES[r.strip().upper()] for r in raw))


@dataclass
class Preflight:
    """What the start records: each wave's servers (exclusions removed)
    and what the accepted risks left out."""

    waves: List[WaveServers]
    report: Dict[str, Any]
    # Per wave (same order): the servers left out, why.
    excluded: List[List[Dict[str, Any]]] = field(default_factory=list)
    # Accepted failing problems that concern no single server.
    findings: List[Dict[str, Any]] = field(default_factory=list)

    @property
    def excluded_count(self) -> int:
        return sum(len(wave) for wave in self.excluded)


def preflight(
    plan: Dict[str, Any],
    groups: Dict[str, Dict[str, Any]],
    executions: List[Dict[str, Any]],
    accept: Iterable[str] = (),
    accounts_table: Optional[Any] = None,
    drs_client: Optional[Any] = None,
) -> Preflight:
    """Resolve, check and (with accepted risks) exclude; raises
    SERVER_CONFLICT or PLAN_NOT_READY, writing nothing."""

    def clients(service: str, region: str, context: Optional[Dict]):
        # The listing reads DRS only (the launch-configuration check, which
        # reads EC2, is the on-demand report's, not the start's).
        return drs_client_for(region, context, drs_client)

    resolved = resolve_plan_groups(
        sorted_waves(plan), groups, accounts_table, clients
    )
    members, inventories = resolved
    for inventory in inventories.values():
        if inventory.throttled:
            # Transient: the caller retries; the plan is not at fault.
            raise DrsLimitExceededError(
                inventory.error,
                reason="THROTTLED",
                region=inventory.region,
            )
    _refuse_conflicts(plan["planId"], members, inventories, executions)
    # A plan that can never run is a 400 no acceptance changes.
    drs_limits.validate_wave_sizes(
        {m.wave_number: len(m.server_ids) for m in members}
    )
    report = evaluate_resolved(plan, resolved, BLOCKING_RUNNERS, executions)
    failing = failing_checks(report)
    accepted = set(accept)
    refused = [c for c in failing if c["name"] not in accepted]
    if refused:
        raise _not_ready(plan, report, failing, refused)
    result = _exclude(members, [c for c in failing if c["name"] in accepted])
    result.report = report
    empty = [
        members[i].wave_number
        for i, wave in enumerate(result.waves)
        if not wave.server_ids
    ]
    if empty:
        raise PlanNotReadyError(
            f"recovery plan {plan['planId']}: the accepted risks leave "
            f"wave(s) {', '.join(map(str, empty))} without a server to "
            "recover; remove the wave(s) from the plan or fix their servers",
            planId=plan["planId"],
            emptyWaves=empty,
            checks=failing,
        )
    return result


def _not_ready(plan, report, failing, refused) -> PlanNotReadyError:
    named = "; ".join(f"{c['name']}: {c['message']}" for c in refused)
    return PlanNotReadyError(
        f"recovery plan {plan['planId']} is NOT_READY ({named}): "
        + ACCEPT_HINT,
        planId=plan["planId"],
        readinessStatus=report["status"],
        checkedAt=report["checkedAt"],
        checks=failing,
        failingChecks=[c["name"] for c in refused],
    )


def _exclude(
    members: List[WaveMembers], accepted: List[Dict[str, Any]]
) -> Preflight:
    """Each wave's servers without those the accepted checks fail."""
    out: Dict[int, Dict[str, Dict[str, Any]]] = {}
    findings: List[Dict[str, Any]] = []
    for check in accepted:
        for server in check["servers"]:
            wave = out.setdefault(server.get("waveNumber"), {})
            # A server failing two accepted checks is left out once.
            wave.setdefault(
                server["sourceServerId"],
                {
                    "sourceServerId": server["sourceServerId"],
                    "hostname": server.get("hostname"),
                    "check": check["name"],
                    "message": server["message"],
                },
            )
        for problem in check.get("resources") or []:
            findings.append(
                {
                    "check": check["name"],
                    "message": problem["message"],
                    "resource": problem.get("resource"),
                }
            )
    waves, excluded = [], []
    for member in members:
        left_out = out.get(member.wave_number, {})
        region = (member.group or {}).get("region")
        ids = [s for s in member.server_ids if s not in left_out]
        by_group = getattr(member, "group_server_ids", None)
        if by_group is not None:
            by_group = {
                g: [s for s in own if s not in left_out]
                for g, own in by_group.items()
            }
        waves.append(WaveServers(region, member.context, ids, by_group))
        excluded.append(list(left_out.values()))
    return Preflight(waves, {}, excluded, findings)


def _refuse_conflicts(plan_id, members, inventories, executions) -> None:
    """409 for servers another execution or a live DRS job uses: a
    conflict to wait for, not a risk to accept (two recoveries of one
    server)."""
    servers: Set[str] = {s for m in members for s in m.server_ids}
    for execution in executions:
        if execution.get("planId") == plan_id:
            continue  # the plan's own: EXECUTION_CONFLICT, checked before
        shared = sorted(servers & planned_server_ids(execution))
        if shared:
            raise ServerConflictError(
                f"server(s) {', '.join(shared)} are in active execution "
                f"{execution['executionId']} of plan "
                f"{execution.get('planId')}",
                serverIds=shared,
                conflictingExecutionId=execution["executionId"],
                conflictingPlanId=execution.get("planId"),
            )
    for key, inventory in inventories.items():
        here = {s for m in members if m.location == key for s in m.server_ids}
        for job in inventory.active_jobs:
            busy = sorted(here & set(job_server_ids(job)))
            if busy:
                raise ServerConflictError(
                    f"server(s) {', '.join(busy)} are in active DRS job "
                    f"{job.get('jobID')}",
                    serverIds=busy,
                    jobId=job.get("jobID"),
                )


def accepted_record(
    accept: List[str], result: Preflight, by: str, requested_by=None
) -> Dict[str, Any]:
    """The execution record's ``acceptedRisks``: what was accepted, by
    whom, and what it left out (the servers are listed per wave)."""
    record: Dict[str, Any] = {
        "checks": list(accept),
        "acceptedBy": by,
        "acceptedAt": clock.epoch(),
        "readinessStatus": result.report.get("status"),
        "excludedServerCount": result.excluded_count,
        "findings": result.findings,
    }
    if requested_by:
        record["requestedBy"] = requested_by
    return record
