"""DRS reads of the execution lifecycle, in the execution's account."""

from typing import Any, Dict, Iterable, List, Optional, Tuple

from botocore.exceptions import BotoCoreError, ClientError

from shared.account_context import get_account_context
from shared.aws_clients import create_drs_client, create_ec2_client
from shared.aws_errors import aws_errors
from shared.aws_pagination import ID_FILTER_MAX, all_items
from shared.drs_constants import DRS_JOB_STATUS_WAIT_STATES
from shared.tag_matching import matching_server_ids
from shared.wave_jobs import wave_job_ids
from shared.wave_plan_store import with_planned
from shared.wave_servers import execution_server_ids


def drs_client_for(
    region: Optional[str],
    account_context: Optional[Dict[str, Any]],
    client: Optional[Any] = None,
) -> Any:
    """The injected client, or a DRS client for the account and region."""
    return client or create_drs_client(region, account_context)


def _all_pages(client: Any, operation: str, key: str, **kwargs) -> List[Any]:
    paginator = client.get_paginator(operation)
    items: List[Any] = []
    for page in paginator.paginate(**kwargs):
        items.extend(page.get(key) or [])
    return items


def describe_jobs(
    client: Any, job_ids: Optional[Iterable[str]] = None
) -> List[Dict[str, Any]]:
    """DRS jobs, all of them or those with the given ids."""
    ids = sorted(set(job_ids or []))
    if job_ids is not None and not ids:
        return []
    kwargs: Dict[str, Any] = {"filters": {"jobIDs": ids}} if ids else {}
    return _all_pages(client, "describe_jobs", "items", **kwargs)


def active_jobs(jobs: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Jobs still PENDING or STARTED."""
    return [j for j in jobs if j.get("status") in DRS_JOB_STATUS_WAIT_STATES]


def job_server_ids(job: Dict[str, Any]) -> List[str]:
    """Source servers participating in a job."""
    return [
        s["sourceServerID"]
        for s in job.get("participatingServers") or []
        if s.get("sourceServerID")
    ]


class TagSelection:
    """Servers that tags select now, by the one rule of
    ``shared.tag_matching`` (the wave engine's): each (account, region)
    is listed once with DescribeSourceServers, whatever the number of
    groups asking."""

    def __init__(self, client: Optional[Any] = None) -> None:
        self._client = client
        self._listings: Dict[Tuple[Optional[str], str], List[Dict]] = {}

    def server_ids(
        self,
        region: str,
        account_context: Optional[Dict[str, Any]],
        tags: Dict[str, str],
    ) -> List[str]:
        """Ids (without repeats, in DRS order) of the servers of the
        account and region carrying all ``tags``."""
        account = (account_context or {}).get("accountId")
        key = (account, region)
        if key not in self._listings:
            with aws_errors("DRS", account_id=account, region=region):
                client = drs_client_for(region, account_context, self._client)
                self._listings[key] = all_items(
                    client, "describe_source_servers", filters={}
                )
        ids = matching_server_ids(self._listings[key], tags)
        return list(dict.fromkeys(str(i) for i in ids if i))


def describe_job_log_items(client: Any, job_id: str) -> List[Dict[str, Any]]:
    """Every log item of one job."""
    return _all_pages(client, "describe_job_log_items", "items", jobID=job_id)


def describe_recovery_instances(
    client: Any, source_server_ids: Iterable[str]
) -> List[Dict[str, Any]]:
    """Recovery instances of the given source servers (asked
    ``ID_FILTER_MAX`` servers at a time: a wave of any size)."""
    ids = sorted(set(source_server_ids))
    items: List[Dict[str, Any]] = []
    for start in range(0, len(ids), ID_FILTER_MAX):
        items += _all_pages(
            client,
            "describe_recovery_instances",
            "items",
            filters={"sourceServerIDs": ids[start : start + ID_FILTER_MAX]},
        )
    return items


def ec2_details(
    instance_ids: Iterable[str],
    region: Optional[str],
    account_context: Optional[Dict[str, Any]],
    client: Optional[Any] = None,
) -> Dict[str, Dict[str, Any]]:
    """EC2 facts (type, state, IPs, launch time) per instance id."""
    ids = sorted(set(i for i in instance_ids if i))
    if not ids:
        return {}
    ec2 = client or create_ec2_client(region, account_context)
    try:
        return _describe_instances(ec2, ids)
    except ClientError as error:
        if error.response["Error"]["Code"] != "InvalidInstanceID.NotFound":
            raise
    # One id is gone (purged after termination): ask one by one.
    details: Dict[str, Dict[str, Any]] = {}
    for instance_id in ids:
        try:
            details.update(_describe_instances(ec2, [instance_id]))
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code != "InvalidInstanceID.NotFound":
                raise
    return details


def _describe_instances(ec2: Any, ids: List[str]) -> Dict[str, Dict]:
    details: Dict[str, Dict[str, Any]] = {}
    for page in ec2.get_paginator("describe_instances").paginate(
        InstanceIds=ids
    ):
        for reservation in page.get("Reservations") or []:
            for instance in reservation.get("Instances") or []:
                launch = instance.get("LaunchTime")
                details[instance["InstanceId"]] = {
                    "instanceType": instance.get("InstanceType"),
                    "state": (instance.get("State") or {}).get("Name"),
                    "privateIp": instance.get("PrivateIpAddress"),
                    "publicIp": instance.get("PublicIpAddress"),
                    "launchTime": launch.isoformat() if launch else None,
                }
    return details


def servers_in_active_jobs(client: Any, server_ids: List[str]) -> List[str]:
    """Those of ``server_ids`` in a PENDING/STARTED DRS job (all of them
    when DRS cannot say): who a refused StartRecovery collided with."""
    try:
        jobs = active_jobs(describe_jobs(client))
    except (ClientError, BotoCoreError):
        return list(server_ids)
    busy = {sid for job in jobs for sid in job_server_ids(job)}
    return [sid for sid in server_ids if sid in busy] or list(server_ids)


def execution_jobs(record: Dict[str, Any]) -> Dict[str, List[str]]:
    """The execution's recovery job ids per region."""
    jobs: Dict[str, List[str]] = {}
    for wave in record.get("waves") or []:
        # Every job of the wave (a wave runs as several: shared.wave_jobs)
        for job_id in wave_job_ids(wave):
            jobs.setdefault(wave.get("region"), []).append(job_id)
    return jobs


def execution_recovery_instances(
    record: Dict[str, Any], drs_client=None
) -> Dict[str, List[Dict[str, Any]]]:
    """This execution's recovery instances per region.

    Only instances of its source servers launched by its own jobs (an
    instance of the same server from another execution is not its).
    """
    record = with_planned(record)
    context = record.get("accountContext")
    job_ids = {j for ids in execution_jobs(record).values() for j in ids}
    by_region: Dict[str, List[Dict[str, Any]]] = {}
    for wave in record.get("waves") or []:
        servers = execution_server_ids({"waves": [wave]})
        if not servers or not wave_job_ids(wave):
            continue
        client = drs_client_for(wave.get("region"), context, drs_client)
        found = describe_recovery_instances(client, servers)
        region_items = by_region.setdefault(wave.get("region"), [])
        known = {i["recoveryInstanceID"] for i in region_items}
        region_items += [
            i
            for i in found
            if i.get("jobID") in job_ids
            and i["recoveryInstanceID"] not in known
        ]
    return by_region


def unsettled_jobs(
    record: Dict[str, Any], drs_client: Optional[Any] = None
) -> List[str]:
    """Job ids of this execution still PENDING or STARTED in DRS."""
    context = get_account_context(record)
    busy: List[str] = []
    for region, job_ids in execution_jobs(record).items():
        client = drs_client_for(region, context, drs_client)
        busy += [
            j["jobID"] for j in active_jobs(describe_jobs(client, job_ids))
        ]
    return sorted(busy)
