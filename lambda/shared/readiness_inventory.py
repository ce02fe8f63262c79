"""What readiness reads: each account/region listed once, each wave's
members resolved by the one membership rule (``shared.wave_servers``).

One DescribeSourceServers, DescribeJobs and DescribeRecoveryInstances
listing per account/region, whatever the number of groups and servers;
the assumed role and the DRS initialization are proven by the first of
them (the ``access`` check reads :attr:`Inventory.error`).
"""

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from botocore.exceptions import BotoCoreError, ClientError

from shared.aws_clients import create_client_for_account, resolve_region
from shared.aws_errors import (
    THROTTLING_CODES,
    is_uninitialized,
    translate_client_error,
)
from shared.aws_pagination import all_items
from shared.drs_constants import DRS_JOB_STATUS_WAIT_STATES
from shared.tag_matching import matching_server_ids
from shared.wave_servers import (
    ServerResolutionError,
    group_account_context,
    selected_server_ids,
)

SESSION_NAME = "drs-orchestration-readiness"
# (service, region, account context) -> a boto3 client.
ClientFactory = Callable[[str, str, Optional[Dict[str, Any]]], Any]
LocationKey = Tuple[Optional[str], str]


def default_clients(
    service: str, region: str, context: Optional[Dict[str, Any]]
) -> Any:
    """A client in the context's account (its role assumed)."""
    return create_client_for_account(service, region, context, SESSION_NAME)


@dataclass
class Inventory:
    """One account/region as DRS answers it now."""

    account_id: Optional[str]
    region: str
    context: Optional[Dict[str, Any]]
    servers: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    active_jobs: List[Dict[str, Any]] = field(default_factory=list)
    recovery_instances: int = 0
    # Why the account/region cannot be read (role, ExternalId, DRS).
    error: Optional[str] = None
    # DRS throttled the listing: a "try again", not a plan defect (the
    # execution start answers 429 for it instead of PLAN_NOT_READY).
    throttled: bool = False

    @property
    def where(self) -> str:
        return f"account {self.account_id or 'hub'} {self.region}"


@dataclass
class WaveMembers:
    """A wave's servers as they resolve now."""

    wave_number: int
    wave_name: str
    group: Dict[str, Any]
    location: Optional[LocationKey] = None
    server_ids: List[str] = field(default_factory=list)
    error: Optional[str] = None
    # The account the wave's servers live in (None: the hub).
    context: Optional[Dict[str, Any]] = None


def _access_error(
    error: Exception, account_id: Optional[str], region: str
) -> str:
    if isinstance(error, ClientError):
        if is_uninitialized(error):
            return (
                f"DRS is not initialized in account {account_id or 'hub'} "
                f"{region}: initialize the service there"
            )
        mapped = translate_client_error(error, "DRS", account_id, region)
        if mapped is not None:
            return mapped.message
    return f"DRS cannot be read in account {account_id} {region}: {error}"


def read_inventory(
    region: str,
    context: Optional[Dict[str, Any]],
    clients: ClientFactory = default_clients,
) -> Inventory:
    """List the account/region once; a failure is recorded, not raised."""
    account_id = (context or {}).get("accountId")
    inventory = Inventory(account_id, region, context)
    try:
        drs = clients("drs", region, context)
        servers = all_items(drs, "describe_source_servers", filters={})
        jobs = all_items(drs, "describe_jobs")
        instances = all_items(drs, "describe_recovery_instances")
    except (ClientError, BotoCoreError) as error:
        inventory.error = _access_error(error, account_id, region)
        inventory.throttled = isinstance(error, ClientError) and (
            error.response.get("Error", {}).get("Code") in THROTTLING_CODES
        )
        return inventory
    inventory.servers = {s["sourceServerID"]: s for s in servers}
    inventory.active_jobs = [
        j for j in jobs if j.get("status") in DRS_JOB_STATUS_WAIT_STATES
    ]
    inventory.recovery_instances = len(instances)
    return inventory


def resolve_plan(
    waves: List[Dict[str, Any]],
    groups: Dict[str, Dict[str, Any]],
    accounts_table: Optional[Any] = None,
    clients: ClientFactory = default_clients,
) -> Tuple[List[WaveMembers], Dict[LocationKey, Inventory]]:
    """Each wave's members and the inventory of every account/region.

    The first wave's account is the plan's (as the execution start
    decides); a group naming an unknown account is a wave error.
    """
    members: List[WaveMembers] = []
    inventories: Dict[LocationKey, Inventory] = {}
    plan_context: Optional[Dict[str, Any]] = None
    for index, wave in enumerate(waves):
        group = groups.get(wave.get("protectionGroupId")) or {}
        entry = WaveMembers(
            int(wave["waveNumber"]), wave.get("waveName") or "", group
        )
        members.append(entry)
        if not group:
            entry.error = (
                f"protection group {wave.get('protectionGroupId')} does "
                "not exist"
            )
            continue
        try:
            context = group_account_context(
                group, plan_context, accounts_table
            )
        except ServerResolutionError as error:
            entry.error = str(error)
            continue
        if index == 0:
            plan_context = context
        entry.context = context
        region = resolve_region(group.get("region"))
        key = ((context or {}).get("accountId"), region)
        if key not in inventories:
            inventories[key] = read_inventory(region, context, clients)
        entry.location = key
        inventory = inventories[key]
        if inventory.error:
            continue
        listed = list(inventory.servers.values())
        entry.server_ids = selected_server_ids(
            group, lambda tags: matching_server_ids(listed, tags)
        )
    return members, inventories


def hostname(server: Optional[Dict[str, Any]]) -> Optional[str]:
    """The server's hostname as DRS identifies it."""
    hints = ((server or {}).get("sourceProperties") or {}).get(
        "identificationHints"
    ) or {}
    return hints.get("hostname")
