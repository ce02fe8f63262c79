"""What DRS says about one wave job's servers, added to the record.

The poll merges a ``describe_jobs`` item's server statuses into the
wave's ``servers`` first (the one merge rule, ``shared.job_servers``: it
decides what starts next on them); ``record_job_servers`` then adds each
unfinished server's phase from its latest job log event and, once a
server is launched, its recovery instance (DRS) with the instance's
private IP and launch time (EC2). DRS or EC2 not answering leaves what
was recorded (logged): the next poll fills it in.
"""

from time import perf_counter
from typing import Any, Callable, Dict, List, Optional

from botocore.exceptions import BotoCoreError, ClientError

from shared.drs_constants import DRS_JOB_SERVERS_COMPLETE_SUCCESS_STATES
from shared.logging_setup import get_logger

logger = get_logger("query-handler")
SUCCESS = DRS_JOB_SERVERS_COMPLETE_SUCCESS_STATES

# Job log event -> phase shown per server (latest event wins).
PHASES = {
    "JOB_START": "PENDING",
    "CLEANUP_START": "CLEANUP",
    "CLEANUP_END": "CLEANUP",
    "SNAPSHOT_START": "SNAPSHOT",
    "SNAPSHOT_END": "SNAPSHOT",
    "USING_PREVIOUS_SNAPSHOT": "SNAPSHOT",
    "CONVERSION_START": "CONVERSION",
    "CONVERSION_END": "CONVERSION",
    "LAUNCH_START": "LAUNCH",
    "UPDATE_LAUNCH_TEMPLATE_START": "LAUNCH",
    "UPDATE_LAUNCH_TEMPLATE_END": "LAUNCH",
    "SERVER_SKIPPED": "SKIPPED",
}
FAILED_EVENTS = (
    "SNAPSHOT_FAIL",
    "CONVERSION_FAIL",
    "LAUNCH_FAILED",
    "CLEANUP_FAIL",
    "USING_PREVIOUS_SNAPSHOT_FAILED",
    "UPDATE_LAUNCH_TEMPLATE_FAILED",
)


def _phases(drs: Any, job_id: str) -> Dict[str, str]:
    """sourceServerID -> phase of its latest job log event."""
    phases: Dict[str, str] = {}
    try:
        paginator = drs.get_paginator("describe_job_log_items")
        for page in paginator.paginate(jobID=job_id):
            for item in page.get("items", []):
                sid = (item.get("eventData") or {}).get("sourceServerID")
                event = item.get("event", "")
                phase = "FAILED" if event in FAILED_EVENTS else None
                phase = phase or PHASES.get(event)
                if sid and phase:
                    phases[sid] = phase
    except (ClientError, BotoCoreError) as error:
        logger.warning("job log unavailable: %s", error)
    return phases


def _instances(
    drs: Any, job_id: str, server_ids: List[str]
) -> Dict[str, Dict[str, Any]]:
    """sourceServerID -> recovery instance details of this job."""
    details: Dict[str, Dict[str, Any]] = {}
    if not server_ids:
        return details
    try:
        paginator = drs.get_paginator("describe_recovery_instances")
        pages = paginator.paginate(filters={"sourceServerIDs": server_ids})
        for page in pages:
            for item in page.get("items", []):
                if item.get("jobID") not in (None, job_id):
                    continue
                props = item.get("recoveryInstanceProperties") or {}
                nics = props.get("networkInterfaces") or [{}]
                primary = next(
                    (n for n in nics if n.get("isPrimary")), nics[0]
                )
                details[item["sourceServerID"]] = {
                    "recoveryInstanceId": item.get("recoveryInstanceID"),
                    "instanceId": item.get("ec2InstanceID"),
                    "privateIp": (primary.get("ips") or [None])[0],
                    "launchTime": props.get("lastUpdatedDateTime"),
                }
    except (ClientError, BotoCoreError) as error:
        logger.warning("recovery instances unavailable: %s", error)
    return details


def _took(timings: Optional[Dict[str, float]], name: str, since: float):
    """Add the seconds since ``since`` to ``timings[name]``; now."""
    now = perf_counter()
    if timings is not None:
        timings[name] = timings.get(name, 0.0) + now - since
    return now


def record_job_servers(
    drs: Any,
    job: Dict[str, Any],
    wave_record: Dict[str, Any],
    ec2_factory: Callable[[], Any],
    timings: Optional[Dict[str, float]] = None,
) -> List[Dict[str, Any]]:
    """Add the job's phases and recovery instances to
    ``waves[i].servers``, whose statuses the poll merged from ``job``
    (``timings``: seconds spent per step are added to it)."""
    since = perf_counter()
    phases = _phases(drs, job["jobID"])
    since = _took(timings, "jobLogs", since)
    known = {s["sourceServerId"]: s for s in wave_record["servers"]}
    for sid, server in known.items():
        if server.get("status") not in SUCCESS:
            server["phase"] = phases.get(sid, server.get("phase"))
    missing = [
        sid
        for sid, s in known.items()
        if s.get("status") in DRS_JOB_SERVERS_COMPLETE_SUCCESS_STATES
        and not s.get("instanceId")
    ]
    found = _instances(drs, job["jobID"], missing)
    since = _took(timings, "recoveryInstances", since)
    for sid, detail in found.items():
        if sid in known:
            known[sid].update({k: v for k, v in detail.items() if v})
    lacking = {
        s["instanceId"]: s
        for sid, s in known.items()
        if sid in missing and s.get("instanceId") and not s.get("privateIp")
    }
    if lacking:
        for instance in _ec2_instances(ec2_factory(), list(lacking)):
            server = lacking[instance["InstanceId"]]
            server["privateIp"] = instance.get("PrivateIpAddress")
            launched = instance.get("LaunchTime")
            if hasattr(launched, "isoformat"):
                launched = launched.isoformat()
            server["launchTime"] = launched or server.get("launchTime")
    _took(timings, "ec2", since)
    return list(known.values())


def _ec2_instances(ec2: Any, instance_ids: List[str]) -> List[Dict]:
    """EC2 facts of recovery instances (private IP, launch time)."""
    try:
        reservations = ec2.describe_instances(InstanceIds=instance_ids)
    except (ClientError, BotoCoreError) as error:
        logger.warning("recovery instance EC2 lookup failed: %s", error)
        return []
    return [
        instance
        for reservation in reservations.get("Reservations", [])
        for instance in reservation.get("Instances", [])
    ]
