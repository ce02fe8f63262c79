"""DRS capacity: ``/drs/service-limits``, ``/drs/quotas``, ``/drs/accounts``.

Limits come from ``shared.drs_limits``; current usage is read from DRS in
the requested account and region (every page): active jobs, servers in
active jobs, replicating servers and recovery instances.
"""

from typing import Any, Dict, List, Optional

from botocore.exceptions import ClientError

from drs_queries import NOT_REPLICATING_STATES, replication_state
from query_inputs import SESSION_NAME, Target, region_param, target_param
from query_routes import router
from shared.account_context import account_context_from_target
from shared.api import Request
from shared.aws_clients import create_drs_client, resolve_region
from shared.aws_errors import aws_errors, is_uninitialized
from shared.aws_pagination import all_items
from shared.drs_constants import DRS_JOB_STATUS_WAIT_STATES
from shared.drs_limits import (
    MAX_CONCURRENT_JOBS,
    MAX_RECOVERY_INSTANCES,
    MAX_SERVERS_IN_ALL_JOBS,
    MAX_SERVERS_PER_JOB,
    count_servers,
)
from shared.errors import DomainError, ValidationError
from shared.tables import scan_all, target_accounts_table
from shared.target_accounts import current_account_id
from shared.validation import validate_region

LIMITS = {
    "maxServersPerJob": MAX_SERVERS_PER_JOB,
    "maxConcurrentJobs": MAX_CONCURRENT_JOBS,
    "maxServersInAllJobs": MAX_SERVERS_IN_ALL_JOBS,
    "maxRecoveryInstances": MAX_RECOVERY_INSTANCES,
}
MAX_REGIONS = 20


def current_usage(
    target: Target, drs_client: Optional[Any] = None
) -> Dict[str, int]:
    """Active jobs, servers in them, replicating servers, recovery
    instances of one account and region (every page read)."""
    with aws_errors("DRS", target.account_id, target.region):
        drs = drs_client or create_drs_client(
            target.region, target.account_context
        )
        jobs = all_items(drs, "describe_jobs")
        servers = all_items(drs, "describe_source_servers")
        instances = all_items(drs, "describe_recovery_instances")
    active = [j for j in jobs if j.get("status") in DRS_JOB_STATUS_WAIT_STATES]
    replicating = [
        s
        for s in servers
        if replication_state(s) not in NOT_REPLICATING_STATES
    ]
    return {
        "activeJobs": len(active),
        "serversInJobs": count_servers(active),
        "replicatingServers": len(replicating),
        "sourceServers": len(servers),
        "recoveryInstances": len(instances),
    }


def capacity_report(
    target: Target, drs_client: Optional[Any] = None
) -> Dict[str, Any]:
    """Limits and current usage of ``target`` (``seeds/004_*`` shape)."""
    return {
        "region": target.region,
        "accountId": target.account_id,
        "limits": dict(LIMITS),
        "currentUsage": current_usage(target, drs_client=drs_client),
    }


def quota_report(
    target: Target, drs_client: Optional[Any] = None
) -> Dict[str, Any]:
    """The capacity report plus what remains of each limit."""
    report = capacity_report(target, drs_client=drs_client)
    usage = report["currentUsage"]
    pairs = {
        "concurrentJobs": (MAX_CONCURRENT_JOBS, usage["activeJobs"]),
        "serversInAllJobs": (MAX_SERVERS_IN_ALL_JOBS, usage["serversInJobs"]),
        "recoveryInstances": (
            MAX_RECOVERY_INSTANCES,
            usage["recoveryInstances"],
        ),
    }
    report["available"] = {
        name: max(limit - used, 0) for name, (limit, used) in pairs.items()
    }
    report["atLimit"] = sorted(
        name for name, (limit, used) in pairs.items() if used >= limit
    )
    return report


@router.operation("get_drs_service_limits")
def get_drs_service_limits(request: Request) -> Dict[str, Any]:
    """DRS limits and current usage (``region``, optional ``accountId``)."""
    region = region_param(request)
    return capacity_report(target_param(request, region))


@router.operation("get_drs_quotas")
def get_drs_quotas(request: Request) -> Dict[str, Any]:
    """Limits, usage and remaining capacity per account and region."""
    region = region_param(request)
    return quota_report(target_param(request, region))


def drs_initialized(
    region: str,
    account_context: Optional[Dict[str, Any]],
    drs_client: Optional[Any] = None,
) -> bool:
    """Whether DRS answers in the account/region (not uninitialized)."""
    drs = drs_client or create_drs_client(
        region, account_context, session_name=SESSION_NAME
    )
    try:
        drs.describe_source_servers(maxResults=1)
    except ClientError as error:
        if is_uninitialized(error):
            return False
        raise
    return True


def _account_status(
    record: Dict[str, Any], regions: List[str]
) -> Dict[str, Any]:
    account_id = str(record["accountId"])
    hub = bool(record.get("isCurrentAccount"))
    context = None if hub else account_context_from_target(record)
    entry: Dict[str, Any] = {
        "accountId": account_id,
        "accountName": record.get("accountName") or account_id,
        "isCurrentAccount": hub,
        "regions": [],
    }
    # One unreachable account must not hide the others: its error is
    # reported in its entry.
    try:
        for region in regions:
            with aws_errors("DRS", account_id, region):
                initialized = drs_initialized(region, context)
            entry["regions"].append(
                {"region": region, "drsInitialized": initialized}
            )
    except DomainError as error:
        entry["error"] = error.code
        entry["message"] = error.message
    return entry


def _regions_param(request: Request) -> List[str]:
    raw = request.query.get("regions") or request.query.get("region")
    if raw is None or raw == "":
        return [resolve_region(None)]
    values = raw if isinstance(raw, list) else str(raw).split(",")
    regions = [str(v).strip() for v in values if str(v).strip()]
    if not regions or len(regions) > MAX_REGIONS:
        raise ValidationError(
            f"regions must list 1 to {MAX_REGIONS} regions", field="regions"
        )
    for region in regions:
        validate_region(region, field="regions")
    return list(dict.fromkeys(regions))


def list_drs_accounts(
    regions: List[str],
    table: Optional[Any] = None,
    sts_client: Optional[Any] = None,
) -> List[Dict[str, Any]]:
    """The hub and every registered target account with DRS status."""
    table = table if table is not None else target_accounts_table()
    records = sorted(scan_all(table), key=lambda r: str(r["accountId"]))
    with aws_errors("STS"):
        hub_id = current_account_id(sts_client)
    hub = next(
        (r for r in records if str(r["accountId"]) == hub_id),
        {"accountId": hub_id, "accountName": "hub"},
    )
    hub = dict(hub, isCurrentAccount=True)
    others = [r for r in records if str(r["accountId"]) != hub_id]
    return [_account_status(r, regions) for r in [hub] + others]


@router.operation("get_drs_accounts")
def get_drs_accounts(request: Request) -> Dict[str, Any]:
    """Accounts and DRS initialization per requested region
    (``regions``: comma-separated, default the function's region)."""
    regions = _regions_param(request)
    accounts = list_drs_accounts(regions)
    return {
        "accounts": accounts,
        "regions": regions,
        "totalCount": len(accounts),
    }
