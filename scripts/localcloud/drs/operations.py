"""The supported DRS operations, protocol-free: ``op(sim, state, params)``.

Each returns the output dict (shaped later by the protocol layer) and
raises ``DrsError`` as DRS would. The simulator holds its lock.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Callable

from .errors import DrsError, not_found, validation_error
from .model import JobServer, RegionState, hex_id, iso
from .protocol import service_model

if TYPE_CHECKING:  # pragma: no cover
    from .simulator import DrsSimulator

MAX_SERVERS_PER_JOB = 100
MAX_ACTIVE_JOBS = 20
MAX_SERVERS_IN_ACTIVE_JOBS = 500
Operation = Callable[["DrsSimulator", RegionState, dict], dict]


def launch_config_keys() -> list[str]:
    """Members UpdateLaunchConfiguration persists (from the model)."""
    shape = service_model().operation_model("UpdateLaunchConfiguration")
    return [k for k in shape.input_shape.members if k != "sourceServerID"]


def paginate(items: list, params: dict) -> dict[str, Any]:
    """Slice ``items`` by ``maxResults``/``nextToken``; opaque tokens."""
    start = 0
    token = params.get("nextToken")
    if token:
        try:
            start = int(base64.b64decode(token.encode()).decode())
        except ValueError:
            raise validation_error("Invalid nextToken", field="nextToken")
    size = params.get("maxResults") or 1000
    page = {"items": items[start : start + size]}
    if start + size < len(items):
        next_start = str(start + size).encode()
        page["nextToken"] = base64.b64encode(next_start).decode()
    return page


def _server(state: RegionState, server_id: str) -> Any:
    server = state.servers.get(server_id)
    if server is None:
        raise not_found("SOURCE_SERVER", server_id)
    return server


def describe_source_servers(
    sim: "DrsSimulator", state: RegionState, params: dict
) -> dict:
    """DescribeSourceServers with its filters."""
    filters = params.get("filters") or {}
    ids = filters.get("sourceServerIDs")
    hardware = filters.get("hardwareId")
    staging = filters.get("stagingAccountIDs")
    matching = [
        s
        for s in state.servers.values()
        if (not ids or s.server_id in ids)
        and (not hardware or s.hardware_id == hardware)
        and (not staging or state.account in staging)
    ]
    page = paginate(matching, params)  # render the page only
    page["items"] = [s.render(state.account) for s in page["items"]]
    return page


def start_recovery(
    sim: "DrsSimulator", state: RegionState, params: dict
) -> dict:
    """StartRecovery: checks DRS's rules, then creates a LAUNCH job."""
    requested = [s["sourceServerID"] for s in params["sourceServers"]]
    if len(requested) > MAX_SERVERS_PER_JOB:
        raise DrsError(
            "ServiceQuotaExceededException",
            f"A job can include at most {MAX_SERVERS_PER_JOB} source "
            f"servers; {len(requested)} were requested",
            serviceCode="drs",
            quotaCode="MaxSourceServersPerJob",
            resourceType="JOB",
        )
    for server_id in requested:
        _server(state, server_id)
    _check_quotas_and_conflicts(state, requested)
    is_drill = bool(params.get("isDrill", False))
    job = sim.new_job(
        state,
        "LAUNCH",
        "START_DRILL" if is_drill else "START_RECOVERY",
        is_drill,
        params.get("tags") or {},
        {sid: JobServer(sid) for sid in dict.fromkeys(requested)},
    )
    for sid in job.servers:
        server = state.servers[sid]
        server.last_launch = {
            "initiated": {
                "apiCallDateTime": iso(job.created),
                "jobID": job.job_id,
                "type": "DRILL" if is_drill else "RECOVERY",
            },
            "status": "PENDING",
        }
        server.last_launch_result = "PENDING"
    sim.schedule_launch(state, job)
    return {"job": job.render()}


def _check_quotas_and_conflicts(state: RegionState, new: list[str]) -> None:
    active = state.active_jobs()
    busy = {sid: j.job_id for j in active for sid in j.servers}
    for sid in new:
        if sid in busy:
            raise DrsError(
                "ConflictException",
                f"Source server {sid} is already in active job "
                f"{busy[sid]}",
                resourceId=sid,
                resourceType="SOURCE_SERVER",
            )
    if len(active) >= MAX_ACTIVE_JOBS:
        raise DrsError(
            "ServiceQuotaExceededException",
            f"At most {MAX_ACTIVE_JOBS} jobs can be active at once",
            serviceCode="drs",
            quotaCode="MaxConcurrentJobs",
            resourceType="JOB",
        )
    if len(busy) + len(set(new)) > MAX_SERVERS_IN_ACTIVE_JOBS:
        raise DrsError(
            "ServiceQuotaExceededException",
            f"At most {MAX_SERVERS_IN_ACTIVE_JOBS} source servers can be "
            f"in active jobs; {len(busy)} already are",
            serviceCode="drs",
            quotaCode="MaxSourceServersInAllActiveJobs",
            resourceType="JOB",
        )


def _parse_date(value: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise validation_error(f"Invalid date {value!r}", field=field)
    if moment.tzinfo is None:
        raise validation_error(f"Date {value!r} needs a zone", field=field)
    return moment


def _date_range(
    filters: dict, low: str, high: str
) -> tuple[datetime | None, datetime | None]:
    """Parse an optional ``[low, high]`` date filter pair."""
    return tuple(  # type: ignore[return-value]
        _parse_date(filters[k], f"filters.{k}") if filters.get(k) else None
        for k in (low, high)
    )


def describe_jobs(
    sim: "DrsSimulator", state: RegionState, params: dict
) -> dict:
    """DescribeJobs with ``jobIDs``, ``fromDate``, ``toDate`` filters."""
    filters = params.get("filters") or {}
    ids = filters.get("jobIDs")
    start, end = _date_range(filters, "fromDate", "toDate")
    items = [
        j.render()
        for j in state.jobs.values()
        if (not ids or j.job_id in ids)
        and (start is None or j.created >= start)
        and (end is None or j.created <= end)
    ]
    return paginate(items, params)


def describe_job_log_items(
    sim: "DrsSimulator", state: RegionState, params: dict
) -> dict:
    """DescribeJobLogItems of one job."""
    job = state.jobs.get(params["jobID"])
    if job is None:
        raise not_found("JOB", params["jobID"])
    return paginate(list(job.log), params)


def describe_recovery_instances(
    sim: "DrsSimulator", state: RegionState, params: dict
) -> dict:
    """DescribeRecoveryInstances with id and source-server filters."""
    filters = params.get("filters") or {}
    ids = filters.get("recoveryInstanceIDs")
    sources = filters.get("sourceServerIDs")
    items = [
        r.render(state.servers.get(r.server_id))
        for r in state.recovery_instances.values()
        if (not ids or r.instance_id in ids)
        and (not sources or r.server_id in sources)
    ]
    return paginate(items, params)


def terminate_recovery_instances(
    sim: "DrsSimulator", state: RegionState, params: dict
) -> dict:
    """TerminateRecoveryInstances: a TERMINATE job."""
    participants = {}
    for index, rid in enumerate(params["recoveryInstanceIDs"]):
        instance = state.recovery_instances.get(rid)
        if instance is None:
            raise validation_error(
                f"Recovery instance {rid} not found",
                field=f"recoveryInstanceIDs.{index}",
            )
        participants[instance.server_id] = JobServer(
            instance.server_id, recovery_instance_id=rid
        )
    _check_quotas_and_conflicts(state, list(participants))
    job = sim.new_job(
        state,
        "TERMINATE",
        "TERMINATE_RECOVERY_INSTANCES",
        False,
        {},
        participants,
    )
    sim.schedule_terminate(state, job)
    return {"job": job.render()}


def get_launch_configuration(
    sim: "DrsSimulator", state: RegionState, params: dict
) -> dict:
    """GetLaunchConfiguration of one source server."""
    server = _server(state, params["sourceServerID"])
    return {
        "sourceServerID": server.server_id,
        "ec2LaunchTemplateID": server.launch_template_id,
        **server.launch_config,
    }


def update_launch_configuration(
    sim: "DrsSimulator", state: RegionState, params: dict
) -> dict:
    """UpdateLaunchConfiguration: persists the given members."""
    server = _server(state, params["sourceServerID"])
    if any(server.server_id in j.servers for j in state.active_jobs()):
        raise DrsError(
            "ConflictException",
            f"Source server {server.server_id} is in an active job",
            resourceId=server.server_id,
            resourceType="SOURCE_SERVER",
        )
    for key in launch_config_keys():
        if key in params:
            server.launch_config[key] = params[key]
    return get_launch_configuration(sim, state, params)


def _resource(state: RegionState, resource_arn: str) -> Any:
    item = state.find_by_arn(resource_arn)
    if item is None:
        raise not_found("RESOURCE", resource_arn)
    return item


def tag_resource(
    sim: "DrsSimulator", state: RegionState, params: dict
) -> dict:
    """TagResource on a source server, job or recovery instance."""
    _resource(state, params["resourceArn"]).tags.update(params["tags"])
    return {}


def untag_resource(
    sim: "DrsSimulator", state: RegionState, params: dict
) -> dict:
    """UntagResource (``tagKeys`` from the query string)."""
    item = _resource(state, params["resourceArn"])
    for key in params["tagKeys"]:
        item.tags.pop(key, None)
    return {}


def list_tags_for_resource(
    sim: "DrsSimulator", state: RegionState, params: dict
) -> dict:
    """ListTagsForResource."""
    return {"tags": dict(_resource(state, params["resourceArn"]).tags)}


def describe_recovery_snapshots(
    sim: "DrsSimulator", state: RegionState, params: dict
) -> dict:
    """Point-in-time snapshots: one every 10 minutes over the last hour."""
    server = _server(state, params["sourceServerID"])
    now = sim.clock.now()
    latest = now - timedelta(
        minutes=now.minute % 10,
        seconds=now.second,
        microseconds=now.microsecond,
    )
    filters = params.get("filters") or {}
    low, high = _date_range(filters, "fromDateTime", "toDateTime")
    items = []
    for step in range(6):
        moment = max(latest - timedelta(minutes=10 * step), server.added)
        if (low and moment < low) or (high and moment > high):
            continue
        items.append(
            {
                "snapshotID": "pit-" + hex_id(server.server_id, moment),
                "sourceServerID": server.server_id,
                "expectedTimestamp": iso(moment),
                "timestamp": iso(moment),
                "ebsSnapshots": [
                    "snap-" + hex_id(server.server_id, moment, d.device)
                    for d in server.spec.disks
                ],
            }
        )
    items = sorted(set_unique(items), key=lambda i: i["timestamp"])
    if params.get("order", "ASC") == "DESC":
        items.reverse()
    return paginate(items, params)


def set_unique(items: list[dict]) -> list[dict]:
    """Drop items with a snapshot id seen before (clamped timestamps)."""
    seen: dict[str, dict] = {}
    for item in items:
        seen.setdefault(item["snapshotID"], item)
    return list(seen.values())


def get_replication_configuration(
    sim: "DrsSimulator", state: RegionState, params: dict
) -> dict:
    """GetReplicationConfiguration (DRS's defaults)."""
    server = _server(state, params["sourceServerID"])
    subnet = next(iter(state.subnets.values()), None)
    return {
        "sourceServerID": server.server_id,
        "name": server.spec.hostname,
        "stagingAreaSubnetId": subnet,
        "associateDefaultSecurityGroup": True,
        "replicationServersSecurityGroupsIDs": [],
        "replicationServerInstanceType": "t3.small",
        "useDedicatedReplicationServer": False,
        "defaultLargeStagingDiskType": "GP3",
        "replicatedDisks": [
            {
                "deviceName": d.device,
                "isBootDisk": i == 0,
                "stagingDiskType": "AUTO",
            }
            for i, d in enumerate(server.spec.disks)
        ],
        "ebsEncryption": "DEFAULT",
        "bandwidthThrottling": 0,
        "dataPlaneRouting": "PRIVATE_IP",
        "createPublicIP": False,
        "stagingAreaTags": {},
        "pitPolicy": [
            {
                "interval": 10,
                "retentionDuration": 60,
                "units": "MINUTE",
                "enabled": True,
                "ruleID": 1,
            },
            {
                "interval": 1,
                "retentionDuration": 24,
                "units": "HOUR",
                "enabled": True,
                "ruleID": 2,
            },
            {
                "interval": 1,
                "retentionDuration": 7,
                "units": "DAY",
                "enabled": True,
                "ruleID": 3,
            },
        ],
        "autoReplicateNewDisks": True,
        "internetProtocol": "IPV4",
    }


OPERATIONS: dict[str, Operation] = {
    "DescribeSourceServers": describe_source_servers,
    "StartRecovery": start_recovery,
    "DescribeJobs": describe_jobs,
    "DescribeJobLogItems": describe_job_log_items,
    "DescribeRecoveryInstances": describe_recovery_instances,
    "TerminateRecoveryInstances": terminate_recovery_instances,
    "GetLaunchConfiguration": get_launch_configuration,
    "UpdateLaunchConfiguration": update_launch_configuration,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
    "DescribeRecoverySnapshots": describe_recovery_snapshots,
    "GetReplicationConfiguration": get_replication_configuration,
}
