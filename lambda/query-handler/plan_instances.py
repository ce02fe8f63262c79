"""``GET /recovery-plans/{id}/check-existing-instances``.

Before a drill, the reference console warns when recovery instances of
the plan's servers are still alive from an earlier run (they cost money
and a new drill launches more). The plan's servers are resolved by the
one membership rule (``readiness_inventory.resolve_plan``: each
account/region listed once); DRS's recovery instances of those servers
whose EC2 instance is not terminated are reported, with the EC2 details
the warning shows and, when one of the plan's executions launched it,
that execution.
"""

from typing import Any, Dict, Iterable, List, Optional, Tuple

from plan_readiness import load_plan, plan_groups
from query_routes import router
from shared.api import Request
from shared.aws_errors import aws_errors
from shared.aws_pagination import all_items
from shared.readiness import sorted_waves
from shared.readiness_inventory import (
    ClientFactory,
    default_clients,
    hostname,
    resolve_plan,
)
from shared.tables import execution_history_table

# DRS ec2InstanceState values of an instance that no longer runs or costs.
GONE_STATES = frozenset({"TERMINATED", "SHUTTING-DOWN", "NOT_FOUND"})
EC2_ID_CHUNK = 200


def plan_jobs(
    plan_id: str, table: Optional[Any] = None
) -> Dict[str, Dict[str, Any]]:
    """DRS job id -> the plan's execution that started it (PlanIdIndex)."""
    table = table if table is not None else execution_history_table()
    kwargs: Dict[str, Any] = {
        "IndexName": "PlanIdIndex",
        "KeyConditionExpression": "planId = :p",
        "ExpressionAttributeValues": {":p": plan_id},
    }
    jobs: Dict[str, Dict[str, Any]] = {}
    while True:
        page = table.query(**kwargs)
        for record in page.get("Items", []):
            for job_id in _job_ids(record):
                jobs[job_id] = record
        if not page.get("LastEvaluatedKey"):
            return jobs
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _job_ids(record: Dict[str, Any]) -> Iterable[str]:
    for wave in record.get("waves") or []:
        if wave.get("jobId"):
            yield str(wave["jobId"])
        # A wave run as several DRS jobs lists each (wave engine v2).
        for job in wave.get("jobs") or []:
            if isinstance(job, dict) and job.get("jobId"):
                yield str(job["jobId"])


def _ec2_details(ec2: Any, instance_ids: List[str]) -> Dict[str, Dict]:
    details: Dict[str, Dict[str, Any]] = {}
    for i in range(0, len(instance_ids), EC2_ID_CHUNK):
        chunk = instance_ids[i : i + EC2_ID_CHUNK]
        for reservation in all_items(
            ec2,
            "describe_instances",
            "Reservations",
            Filters=[{"Name": "instance-id", "Values": chunk}],
        ):
            for instance in reservation.get("Instances") or []:
                details[instance["InstanceId"]] = instance
    return details


def _iso(value: Any) -> Optional[str]:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _entry(
    instance: Dict[str, Any],
    server: Optional[Dict[str, Any]],
    ec2: Dict[str, Any],
    execution: Optional[Dict[str, Any]],
    location: Any,
) -> Dict[str, Any]:
    account_id, region = location
    tags = {t["Key"]: t["Value"] for t in ec2.get("Tags") or []}
    entry: Dict[str, Any] = {
        "sourceServerId": instance["sourceServerID"],
        "hostname": hostname(server),
        "recoveryInstanceId": instance["recoveryInstanceID"],
        "ec2InstanceId": instance.get("ec2InstanceID"),
        "ec2InstanceState": instance.get("ec2InstanceState"),
        "isDrill": instance.get("isDrill"),
        "jobId": instance.get("jobID"),
        "region": region,
        "accountId": account_id,
        "name": tags.get("Name"),
        "privateIp": ec2.get("PrivateIpAddress"),
        "instanceType": ec2.get("InstanceType"),
        "launchTime": _iso(ec2.get("LaunchTime")),
    }
    if execution:
        entry["sourceExecutionId"] = execution["executionId"]
        entry["sourcePlanName"] = execution.get("planName")
        entry["sourceExecutionType"] = execution.get("executionType")
    return {k: v for k, v in entry.items() if v is not None}


def existing_instances(
    plan: Dict[str, Any],
    groups: Dict[str, Dict[str, Any]],
    jobs: Dict[str, Dict[str, Any]],
    clients: ClientFactory = default_clients,
) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """The alive recovery instances of the plan's servers, and the
    accounts/regions that could not be read (role, DRS), with why."""
    members, inventories = resolve_plan(sorted_waves(plan), groups)
    wanted: Dict[Any, set] = {}
    for member in members:
        if member.location:
            wanted.setdefault(member.location, set()).update(member.server_ids)
    found: List[Dict[str, Any]] = []
    unreadable: List[Dict[str, Any]] = []
    for location, server_ids in sorted(wanted.items(), key=str):
        inventory = inventories[location]
        account_id, region = location
        if inventory.error:
            unreadable.append(
                {
                    "accountId": account_id,
                    "region": region,
                    "message": inventory.error,
                }
            )
            continue
        with aws_errors("DRS", account_id, region):
            drs = clients("drs", region, inventory.context)
            alive = [
                i
                for i in all_items(drs, "describe_recovery_instances")
                if i.get("sourceServerID") in server_ids
                and i.get("ec2InstanceState") not in GONE_STATES
            ]
        ec2_ids = sorted(
            {i["ec2InstanceID"] for i in alive if i.get("ec2InstanceID")}
        )
        details: Dict[str, Dict[str, Any]] = {}
        if ec2_ids:
            with aws_errors("EC2", account_id, region):
                ec2 = clients("ec2", region, inventory.context)
                details = _ec2_details(ec2, ec2_ids)
        for instance in alive:
            found.append(
                _entry(
                    instance,
                    inventory.servers.get(instance["sourceServerID"]),
                    details.get(instance.get("ec2InstanceID") or "", {}),
                    jobs.get(str(instance.get("jobID") or "")),
                    location,
                )
            )
    found.sort(key=lambda e: (e["sourceServerId"], e["recoveryInstanceId"]))
    return found, unreadable


@router.operation("check_existing_instances")
def check_existing_instances(request: Request) -> Dict[str, Any]:
    """Recovery instances still alive from an earlier run of the plan's
    servers; an account/region that cannot be read is listed in
    ``unreadable`` (its instances are unknown, not absent)."""
    plan = load_plan(request.path_param("id"))
    instances, unreadable = existing_instances(
        plan, plan_groups(plan), plan_jobs(plan["planId"])
    )
    return {
        "unreadable": unreadable,
        "planId": plan["planId"],
        "planName": plan.get("planName"),
        "hasExistingInstances": bool(instances),
        "instanceCount": len(instances),
        "existingInstances": instances,
    }
