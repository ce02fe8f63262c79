"""Readiness checks over what was listed: access, membership,
replication, capacity. Pure functions of :class:`PlanView` (no AWS call);
the launch-configuration check, which reads EC2, is in
``shared.readiness_launch``.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Set

from shared.drs_constants import HEALTHY_REPLICATION_STATES
from shared.drs_limits import MAX_RECOVERY_INSTANCES, count_servers
from shared.readiness_inventory import (
    Inventory,
    LocationKey,
    WaveMembers,
    hostname,
)
from shared.readiness_result import (
    NOT_READY,
    WARNING,
    check_result,
    server_finding,
)
from shared.wave_schedule import Quotas, WaveSpec, job_count, unschedulable

_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?"
    r"(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


@dataclass
class PlanView:
    """Everything the checks judge: the plan's waves as resolved now."""

    members: List[WaveMembers]
    inventories: Dict[LocationKey, Inventory]
    rpo_target_seconds: Optional[float] = None
    # Source server id -> the other active execution using it.
    busy_in_executions: Dict[str, str] = field(default_factory=dict)
    # The deployment's DRS quotas (``wave_schedule.quotas_from``).
    quotas: Quotas = field(default_factory=Quotas)

    def inventory(self, wave: WaveMembers) -> Optional[Inventory]:
        """The wave's readable account/region, or None."""
        found = self.inventories.get(wave.location) if wave.location else None
        return found if found and not found.error else None

    def servers(self) -> Iterable[tuple]:
        """(wave, server id, DRS server or None) of every member."""
        for wave in self.members:
            inventory = self.inventory(wave)
            if inventory is None:
                continue
            for server_id in wave.server_ids:
                yield wave, server_id, inventory.servers.get(server_id)


def finding(wave: WaveMembers, server_id: str, server, status, message):
    """A server finding of a wave member."""
    return server_finding(
        server_id, status, message, wave.wave_number, hostname(server)
    )


def duration_seconds(value: Optional[str]) -> Optional[float]:
    """An ISO-8601 duration (DRS ``lagDuration``, e.g. ``PT1M30S``)."""
    match = _DURATION.match(value or "")
    if not value or not match:
        return None
    parts = {k: float(v or 0) for k, v in match.groupdict().items()}
    return (
        parts["d"] * 86400 + parts["h"] * 3600 + parts["m"] * 60 + parts["s"]
    )


def check_access(view: PlanView) -> Dict[str, Any]:
    """Every account/region's role is assumable (ExternalId) and DRS is
    initialized there."""
    problems = []
    for (account, region), inventory in sorted(
        view.inventories.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])
    ):
        if inventory.error:
            waves = [
                w.wave_number
                for w in view.members
                if w.location == (account, region)
            ]
            problems.append(
                {
                    "status": NOT_READY,
                    "message": f"{inventory.error} (waves {waves})",
                    "resource": {"accountId": account, "region": region},
                }
            )
    return check_result(
        "access",
        "every target account is reachable and DRS is initialized",
        [],
        problems,
    )


def check_membership(view: PlanView) -> Dict[str, Any]:
    """Every wave resolves to servers DRS knows; no server in two waves."""
    servers: List[Dict[str, Any]] = []
    problems = []
    for wave in view.members:
        where = {"waveNumber": wave.wave_number}
        if wave.error:
            problems.append(
                {
                    "status": NOT_READY,
                    "message": f"wave {wave.wave_number}: {wave.error}",
                    "resource": where,
                }
            )
        elif view.inventory(wave) is not None and not wave.server_ids:
            tags = dict(wave.group.get("serverSelectionTags") or {})
            what = f"tags {tags} select" if tags else "it lists"
            problems.append(
                {
                    "status": NOT_READY,
                    "message": (
                        f"wave {wave.wave_number}: protection group "
                        f"{wave.group.get('groupId')} resolves no server "
                        f"({what} none): fix the selection"
                    ),
                    "resource": where,
                }
            )
    counts = Counter(s for w in view.members for s in w.server_ids)
    for wave, server_id, server in view.servers():
        if server is None:
            servers.append(
                finding(
                    wave,
                    server_id,
                    None,
                    NOT_READY,
                    "not a DRS source server of the account/region",
                )
            )
        elif counts[server_id] > 1:
            servers.append(
                finding(
                    wave,
                    server_id,
                    server,
                    NOT_READY,
                    f"in {counts[server_id]} waves: keep it in one",
                )
            )
    return check_result(
        "membership",
        "every wave resolves to servers, none in two waves",
        servers,
        problems,
    )


def check_replication(view: PlanView) -> Dict[str, Any]:
    """Replication CONTINUOUS (the seeds' rule); lag within the RPO."""
    servers: List[Dict[str, Any]] = []
    target = view.rpo_target_seconds
    for wave, server_id, server in view.servers():
        if server is None:
            continue
        info = server.get("dataReplicationInfo") or {}
        state = info.get("dataReplicationState") or "UNKNOWN"
        if state not in HEALTHY_REPLICATION_STATES:
            servers.append(
                finding(
                    wave,
                    server_id,
                    server,
                    NOT_READY,
                    f"replication is {state}, not CONTINUOUS: a recovery "
                    "would fail; fix the agent or replication settings",
                )
            )
            continue
        lag = duration_seconds(info.get("lagDuration"))
        if target is not None and lag is not None and lag > target:
            servers.append(
                finding(
                    wave,
                    server_id,
                    server,
                    WARNING,
                    f"replication lag {lag:.0f}s exceeds the RPO target "
                    f"{target:.0f}s",
                )
            )
    return check_result(
        "replication",
        "every server replicates continuously"
        + (" within the RPO target" if target is not None else ""),
        servers,
    )


def _busy_findings(view: PlanView) -> List[Dict[str, Any]]:
    servers = []
    in_jobs: Dict[str, str] = {}
    for inventory in view.inventories.values():
        for job in inventory.active_jobs:
            for entry in job.get("participatingServers") or []:
                in_jobs[entry.get("sourceServerID")] = job.get("jobID")
    for wave, server_id, server in view.servers():
        if server_id in in_jobs:
            reason = f"in active DRS job {in_jobs[server_id]}"
        elif server_id in view.busy_in_executions:
            reason = (
                "in running execution " f"{view.busy_in_executions[server_id]}"
            )
        else:
            continue
        servers.append(
            finding(
                wave, server_id, server, NOT_READY, reason + ": wait for it"
            )
        )
    return servers


def _never_runs(view: PlanView, waves: List[WaveMembers]) -> List[str]:
    """Why these waves can never run under the quotas (any wave size
    runs as several jobs; a 0 limit or a job over the servers-in-all-jobs
    limit never does)."""
    specs = [WaveSpec(w.wave_number, tuple(w.server_ids)) for w in waves]
    return unschedulable(specs, view.quotas)


def _quota_problems(view: PlanView) -> List[Dict[str, Any]]:
    problems = []
    quotas = view.quotas
    for key, inventory in view.inventories.items():
        waves = [w for w in view.members if w.location == key]
        if inventory.error or not waves:
            continue
        resource = {"accountId": key[0], "region": key[1]}
        where = inventory.where
        never = _never_runs(view, waves)
        if never:
            problems.append(
                {
                    "status": NOT_READY,
                    "message": f"{where}: " + "; ".join(never),
                    "resource": resource,
                }
            )
            continue
        jobs = len(inventory.active_jobs)
        in_jobs = count_servers(inventory.active_jobs)
        free_jobs = quotas.max_concurrent_jobs - jobs
        free_servers = quotas.max_servers_in_all_jobs - in_jobs
        largest = max(len(w.server_ids) for w in waves)
        needed = job_count(largest, quotas)
        planned = sum(len(w.server_ids) for w in waves)
        if free_jobs <= 0 or free_servers <= 0:
            status = NOT_READY
            message = (
                f"{where}: DRS quotas are exhausted by running jobs "
                f"({jobs}/{quotas.max_concurrent_jobs} jobs, {in_jobs}/"
                f"{quotas.max_servers_in_all_jobs} servers): no wave could "
                "start"
            )
        elif needed > free_jobs or largest > free_servers:
            status = WARNING
            message = (
                f"{where}: the largest wave ({largest} servers, {needed} "
                f"job(s)) exceeds what is free now ({free_jobs} jobs, "
                f"{free_servers} servers): its chunks would queue"
            )
        elif inventory.recovery_instances + planned > MAX_RECOVERY_INSTANCES:
            status = NOT_READY
            message = (
                f"{where}: {inventory.recovery_instances} recovery "
                f"instances plus {planned} planned exceed "
                f"{MAX_RECOVERY_INSTANCES}"
            )
        else:
            continue
        problems.append(
            {"status": status, "message": message, "resource": resource}
        )
    return problems


def check_capacity(view: PlanView) -> Dict[str, Any]:
    """The plan's DRS jobs fit the quotas with what runs now; no server
    is in an active DRS job or another running execution."""
    return check_result(
        "capacity",
        "the plan's DRS jobs fit the quotas; no server is busy",
        _busy_findings(view),
        _quota_problems(view),
    )


def execution_servers(
    executions: Iterable[Dict[str, Any]],
    plan_id: str,
    server_ids_of,
) -> Dict[str, str]:
    """Server id -> id of another plan's active execution using it."""
    busy: Dict[str, str] = {}
    for record in executions:
        if record.get("planId") == plan_id:
            continue
        ids: Set[str] = server_ids_of(record)
        for server_id in ids:
            busy.setdefault(server_id, record.get("executionId"))
    return busy
