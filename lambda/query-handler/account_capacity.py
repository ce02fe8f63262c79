"""``GET /accounts/targets/{id}/capacity``: DRS quotas and usage of one
registered account, in the shape the reference console's capacity
dashboard reads.

Usage is read from DRS in that account and region by
``drs_capacity.current_usage`` (every page: jobs, source servers,
recovery instances). The job quotas are this deployment's settings
(``DRS_MAX_*``, ``shared.wave_schedule.quotas_from``), the ones the wave
engine packs jobs against. The replicating-server and recovery-instance
quotas are DRS's own defaults. Status thresholds follow the console's
(OK under 67 %, INFO, WARNING from 75 %, CRITICAL from 83 %,
HYPER-CRITICAL from 93 %).
"""

from typing import Any, Dict, List, Optional

from drs_capacity import current_usage
from query_inputs import SESSION_NAME, Target, region_param
from query_routes import router
from shared.api import Request
from shared.aws_clients import resolve_region
from shared.aws_errors import aws_errors
from shared.clock import iso_now
from shared.config import get_settings
from shared.drs_limits import MAX_RECOVERY_INSTANCES
from shared.errors import NotFoundError
from shared.target_accounts import account_context_for, get_target_account
from shared.validation import validate_account_id
from shared.wave_schedule import quotas_from

# DRS's default quota of replicating source servers per account/region.
MAX_REPLICATING_SERVERS = 300
# (percent used from which, status), highest first.
THRESHOLDS = (
    (93, "HYPER-CRITICAL"),
    (83, "CRITICAL"),
    (75, "WARNING"),
    (67, "INFO"),
)


def _percent(used: int, limit: int) -> int:
    return min(100, round(100 * used / limit)) if limit else 100


def capacity_status(used: int, limit: int) -> str:
    """The console's status of ``used`` out of ``limit``."""
    percent = _percent(used, limit)
    return next((s for p, s in THRESHOLDS if percent >= p), "OK")


def _meter(used: int, limit: int) -> Dict[str, int]:
    return {"current": used, "max": limit, "available": max(limit - used, 0)}


def _account_name(account_id: str) -> str:
    try:
        return str(get_target_account(account_id).get("accountName") or "")
    except NotFoundError:
        return "hub"


def capacity_view(
    account_id: str,
    account_name: str,
    region: str,
    usage: Dict[str, int],
    settings: Any,
) -> Dict[str, Any]:
    """The capacity answer of one account/region from its usage."""
    quotas = quotas_from(settings)
    replicating = usage["replicatingServers"]
    status = capacity_status(replicating, MAX_REPLICATING_SERVERS)
    percent = _percent(replicating, MAX_REPLICATING_SERVERS)
    available = max(MAX_REPLICATING_SERVERS - replicating, 0)
    warnings: List[str] = []
    if status != "OK":
        warnings.append(
            f"{replicating} of {MAX_REPLICATING_SERVERS} replicating "
            f"servers in {region} ({percent} %): {status}"
        )
    jobs = _meter(usage["activeJobs"], quotas.max_concurrent_jobs)
    in_jobs = _meter(usage["serversInJobs"], quotas.max_servers_in_all_jobs)
    if not jobs["available"]:
        warnings.append("no DRS job slot is free: new jobs will queue")
    instances = usage["recoveryInstances"]
    return {
        "accountId": account_id,
        "region": region,
        "limits": {
            "maxServersPerJob": quotas.max_servers_per_job,
            "maxConcurrentJobs": quotas.max_concurrent_jobs,
            "maxServersInAllJobs": quotas.max_servers_in_all_jobs,
            "maxReplicatingServers": MAX_REPLICATING_SERVERS,
            "maxRecoveryInstances": MAX_RECOVERY_INSTANCES,
        },
        "currentUsage": dict(usage),
        "combined": {
            "totalReplicating": replicating,
            "maxReplicating": MAX_REPLICATING_SERVERS,
            "percentUsed": percent,
            "status": status,
            "message": f"{replicating} of {MAX_REPLICATING_SERVERS} "
            f"replicating servers ({percent} %)",
            "availableSlots": available,
        },
        "accounts": [
            {
                "accountId": account_id,
                "accountName": account_name,
                "accountType": "target",
                "replicatingServers": replicating,
                "totalServers": usage["sourceServers"],
                "maxReplicating": MAX_REPLICATING_SERVERS,
                "percentUsed": percent,
                "availableSlots": available,
                "status": status,
                "regionalBreakdown": [
                    {
                        "region": region,
                        "totalServers": usage["sourceServers"],
                        "replicatingServers": replicating,
                    }
                ],
                "warnings": list(warnings),
                "accessible": True,
            }
        ],
        "recoveryCapacity": {
            "currentServers": instances,
            "maxRecoveryInstances": MAX_RECOVERY_INSTANCES,
            "percentUsed": _percent(instances, MAX_RECOVERY_INSTANCES),
            "availableSlots": max(MAX_RECOVERY_INSTANCES - instances, 0),
            "status": _recovery_status(instances),
        },
        "concurrentJobs": jobs,
        "serversInJobs": in_jobs,
        "maxServersPerJob": {
            "current": 0,
            "max": quotas.max_servers_per_job,
            "available": quotas.max_servers_per_job,
            "status": "OK",
            "message": f"a wave's servers run in DRS jobs of at most "
            f"{quotas.max_servers_per_job}",
        },
        "warnings": warnings,
        "timestamp": iso_now(),
    }


def _recovery_status(instances: int) -> str:
    status = capacity_status(instances, MAX_RECOVERY_INSTANCES)
    return {"OK": "OK", "INFO": "OK", "WARNING": "WARNING"}.get(
        status, "CRITICAL"
    )


def account_capacity(
    account_id: str, region: str, drs_client: Optional[Any] = None
) -> Dict[str, Any]:
    """Quotas and usage of a registered account (or the hub)."""
    validate_account_id(account_id)
    with aws_errors("STS", account_id):
        context = account_context_for(account_id, session_name=SESSION_NAME)
    usage = current_usage(
        Target(region, account_id, context), drs_client=drs_client
    )
    return capacity_view(
        account_id, _account_name(account_id), region, usage, get_settings()
    )


@router.operation("get_target_account_capacity")
def get_target_account_capacity(request: Request) -> Dict[str, Any]:
    """Capacity of ``{id}`` in ``region`` (default: the function's)."""
    region = region_param(request, required=False) or resolve_region(None)
    return account_capacity(request.path_param("id"), region)
