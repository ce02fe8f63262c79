"""The answer shapes the reference web console reads (issue 20).

The console of the public reference implementation
(``frontend/src/services/api.ts``) reads some answers under other names
or envelopes than the seeds and CONTRACTS give. This module is the one
place those compatibility shapes are made: every function adds the
console's names beside the seeds' fields (never instead of them), so the
seeds' documented answers keep every field they document.
``docs/DEVELOPING.md`` lists each shape with the screen that needs it.
"""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple, Union

from shared.api import Caller
from shared.console_outcome import outcome_details
from shared.wave_servers import union_by_group, wave_group_ids

Item = Dict[str, Any]

# A registered account is usable once its role was assumed (or it is the
# hub): the console's account table shows this status.
ACCOUNT_STATUS_ACTIVE = "ACTIVE"


def target_account_view(item: Item) -> Item:
    """A target account with the console's ``status`` beside its fields."""
    return {**item, "status": item.get("status", ACCOUNT_STATUS_ACTIVE)}


def current_account_view(info: Item) -> Item:
    """``GET /accounts/current`` with ``isCurrentAccount`` (the setup
    wizard offers to register this account as the hub)."""
    return {**info, "isCurrentAccount": True}


def target_account_list(
    items: List[Item], caller: Caller
) -> Union[List[Item], Item]:
    """``GET /accounts/targets``: a JSON array for the console (REST).

    The seeds document no envelope for this list. The console reads the
    REST answer as an array (its "Setup Required" guard counts it), so
    REST answers one; a direct invocation keeps ``{accounts, count}``
    (CONTRACTS §2: the direct answer is a dict, and scripts read it).
    """
    views = [target_account_view(item) for item in items]
    if caller.via == "api":
        return views
    return {"accounts": views, "count": len(views)}


def group_view(item: Item) -> Item:
    """A protection group with ``protectionGroupId`` beside ``groupId``.

    The console identifies groups by ``protectionGroupId`` (its links
    would otherwise go to ``/protection-groups/undefined``)."""
    if "groupId" not in item:
        return item
    return {**item, "protectionGroupId": item["groupId"]}


def resolve_answer(
    region: str, tags: Dict[str, str], servers: List[Item], now: int
) -> Item:
    """The tag preview: our ``servers`` and ``serverSelectionTags`` and
    the console's ``resolvedServers``, ``tags`` and ``resolvedAt``."""
    return {
        "region": region,
        "serverSelectionTags": tags,
        "servers": servers,
        "serverCount": len(servers),
        "tags": tags,
        "resolvedServers": servers,
        "resolvedAt": now,
    }


@dataclass
class PlanFacts:
    """What a plan answer shows beside the stored plan.

    ``wave_servers``: group id -> its servers now; ``latest``: the plan's
    most recent execution record; ``conflicts``: (active execution of
    another plan, the servers it shares with this plan)."""

    wave_servers: Dict[str, List[str]]
    latest: Optional[Item] = None
    conflicts: List[Tuple[Item, List[str]]] = field(default_factory=list)


def _conflict_info(conflicts: List[Tuple[Item, List[str]]]) -> Item:
    if not conflicts:
        return {"hasConflict": False, "conflictingServers": []}
    execution, _ = conflicts[0]
    servers = sorted({s for _, shared in conflicts for s in shared})
    return {
        "hasConflict": True,
        "conflictingServers": servers,
        "conflictingExecutionId": execution.get("executionId"),
        "conflictingPlanId": execution.get("planId"),
        "conflictingStatus": execution.get("status"),
        "reason": f"{len(servers)} server(s) are in use by execution "
        f"{execution.get('executionId')} of plan "
        f"{execution.get('planName') or execution.get('planId')}",
    }


def plan_view(plan: Item, facts: PlanFacts) -> Item:
    """A recovery plan with the console's names beside the seeds' ones:
    ``name``; per wave ``protectionGroupIds`` (every group of the wave)
    and ``serverIds`` (its groups' servers now) and ``serverCount``; the
    last execution (``lastExecutionId``, ``lastExecutionStatus``,
    ``lastStartTime``, ``lastEndTime``) and ``hasServerConflict`` /
    ``conflictInfo``."""
    waves = []
    for wave in plan.get("waves") or []:
        group_ids = wave_group_ids(wave)
        servers, _ = union_by_group(
            (g, facts.wave_servers.get(g, [])) for g in group_ids
        )
        waves.append(
            {
                **wave,
                "protectionGroupIds": group_ids,
                "serverIds": list(servers),
                "serverCount": len(servers),
            }
        )
    view = {**plan, "name": plan.get("planName"), "waves": waves}
    latest = facts.latest or {}
    for ours, theirs in (
        ("executionId", "lastExecutionId"),
        ("status", "lastExecutionStatus"),
        ("startTime", "lastStartTime"),
        ("endTime", "lastEndTime"),
    ):
        if latest.get(ours) is not None:
            view[theirs] = latest[ours]
    info = _conflict_info(facts.conflicts)
    view["hasServerConflict"] = info["hasConflict"]
    view["conflictInfo"] = info
    return view


def plan_list(items: List[Item], caller: Caller) -> Item:
    """``GET /recovery-plans``: the seeds' ``{plans, count}`` and the
    console's ``recoveryPlans`` (the same items)."""
    return {"plans": items, "count": len(items), "recoveryPlans": items}


def execution_summary_view(view: Item) -> Item:
    """An execution (list item or details) with the console's names:
    ``recoveryPlanId``, ``recoveryPlanName`` and ``executedBy``."""
    view = dict(view)
    for ours, theirs in (
        ("planId", "recoveryPlanId"),
        ("planName", "recoveryPlanName"),
        ("initiatedBy", "executedBy"),
    ):
        if view.get(ours) is not None:
            view[theirs] = view[ours]
    return view


def execution_list(result: Item) -> Item:
    """``GET /executions``: ``items`` beside ``executions`` (the console's
    paginated envelope; ``nextToken`` is shared)."""
    return {**result, "items": result.get("executions", [])}


def _recovery_instance_ids(record: Item) -> List[str]:
    return [
        str(server["recoveryInstanceId"])
        for wave in record.get("waves") or []
        for server in wave.get("servers") or []
        if server.get("recoveryInstanceId")
    ]


def termination_metadata(record: Item, terminal: bool) -> Item:
    """Whether the console offers Terminate, and why not: a finished
    drill with recovery instances not yet terminated by this API. A real
    recovery's instances need the explicit confirmation the console does
    not send (issue 15), so it is not offered there."""
    launched = _recovery_instance_ids(record)
    terminated = {
        str(i)
        for item in record.get("terminations") or []
        for i in item.get("recoveryInstanceIds") or []
    }
    left = [i for i in launched if i not in terminated]
    is_recovery = record.get("executionType") == "RECOVERY"
    reason = None
    if not terminal:
        reason = "the execution has not finished"
    elif not launched:
        reason = "no recovery instances were launched"
    elif not left:
        reason = "its recovery instances were already terminated"
    elif is_recovery:
        reason = (
            "a RECOVERY's instances are production now: terminate them "
            "through the API with confirmRecoveryTermination"
        )
    meta: Item = {
        "canTerminate": reason is None,
        "hasRecoveryInstances": bool(left),
    }
    if reason:
        meta["reason"] = reason
    return meta


def server_execution(server: Item, region: Optional[str]) -> Item:
    """A server row of the execution page (``serverExecutions``)."""
    row = {
        **server,
        "serverId": server.get("sourceServerId"),
        "launchStatus": server.get("status"),
    }
    if server.get("hostname"):
        row["serverName"] = server["hostname"]
    if server.get("instanceId"):
        row["recoveredInstanceId"] = server["instanceId"]
    if region:
        row["region"] = region
    return row


def execution_details(view: Item, record: Item, terminal: bool) -> Item:
    """The execution page: the summary names, per wave
    ``serverExecutions`` (the seeds' ``servers`` rows with ``serverId``,
    ``launchStatus``), ``totalWaves``, ``terminationMetadata`` and
    ``outcomeDetails`` (``shared.console_outcome``)."""
    view = execution_summary_view(view)
    view["waves"] = [
        {
            **wave,
            "serverExecutions": [
                server_execution(s, wave.get("region"))
                for s in wave.get("servers") or []
            ],
        }
        for wave in view.get("waves") or []
    ]
    view["terminationMetadata"] = termination_metadata(record, terminal)
    view["outcomeDetails"] = outcome_details(record)
    return view


def job_log_view(log: Item, wave_number: Optional[int]) -> Item:
    """A job's log: the console's ``waveNumber`` and ``events`` (each
    DRS log item, with ``sourceServerId`` when the event names one)."""
    events = []
    for item in log.get("items") or []:
        # DRS leaves eventData out of events that carry none.
        data = item.get("eventData") or {}
        event = {**item, "eventData": data}
        if data.get("sourceServerID"):
            event["sourceServerId"] = data["sourceServerID"]
        if data.get("conversionServerID"):
            event["conversionServerId"] = data["conversionServerID"]
        events.append(event)
    view = {**log, "events": events}
    if wave_number is not None:
        view["waveNumber"] = wave_number
    return view


def terminate_view(answer: Item, earlier_terminations: bool) -> Item:
    """The terminate answer with the console's counters: ``terminated``,
    ``failed``, ``totalFound``, ``totalTerminated``, ``totalFailed``,
    ``alreadyTerminated`` and ``jobs`` (a DRS failure is an error answer,
    so nothing is counted as failed here)."""
    instances = answer.get("instances") or []
    regions = {j["jobId"]: j["region"] for j in answer["terminateJobs"]}
    return {
        **answer,
        "terminated": [
            {
                "instanceId": i.get("instanceId"),
                "recoveryInstanceId": i.get("recoveryInstanceId"),
                "region": regions.get(i.get("jobId")),
                "currentState": i.get("status"),
            }
            for i in instances
        ],
        "failed": [],
        "totalFound": len(instances),
        "totalTerminated": len(instances),
        "totalFailed": 0,
        "alreadyTerminated": not instances and earlier_terminations,
        "jobs": [
            {"jobId": j["jobId"], "region": j["region"], "type": "TERMINATE"}
            for j in answer["terminateJobs"]
        ],
    }


def subnet_option(subnet: Item) -> Item:
    """A subnet with the console's picker fields ``value``, ``label``,
    ``az``, ``cidr`` beside ours."""
    label = subnet["subnetId"]
    if subnet.get("name"):
        label = f"{subnet['name']} ({label})"
    details = [
        d
        for d in (subnet.get("cidrBlock"), subnet.get("availabilityZone"))
        if d
    ]
    if details:
        label = f"{label} - {', '.join(details)}"
    return {
        **subnet,
        "value": subnet["subnetId"],
        "label": label,
        "az": subnet.get("availabilityZone"),
        "cidr": subnet.get("cidrBlock"),
    }


def security_group_option(group: Item) -> Item:
    """A security group with the picker's ``value`` and ``label`` (our
    ``name`` stays the Name tag; the group name is ``groupName``)."""
    label = group["groupId"]
    if group.get("groupName"):
        label = f"{group['groupName']} ({label})"
    return {**group, "value": group["groupId"], "label": label}


def instance_type_option(item: Item) -> Item:
    """An instance type with ``value``, ``label``, ``vcpus``,
    ``memoryGb``."""
    label = item["instanceType"]
    if item.get("vCpus") and item.get("memoryGiB"):
        label = f"{label} ({item['vCpus']} vCPU, {item['memoryGiB']} GiB)"
    return {
        **item,
        "value": item["instanceType"],
        "label": label,
        "vcpus": item.get("vCpus"),
        "memoryGb": item.get("memoryGiB"),
    }


def instance_profile_option(item: Item) -> Item:
    """An instance profile with ``value`` and ``label``."""
    name = item["instanceProfileName"]
    return {**item, "value": name, "label": name}


def source_server_view(server: Item, editing: Optional[str] = None) -> Item:
    """A source server with the console's ``state``, ``lagDuration``,
    ``assignedToProtectionGroup`` (null when free) and ``selectable``
    (free, or in the group being edited: ``currentProtectionGroupId``)."""
    group_id = server.get("protectionGroupId")
    assigned = None
    if group_id:
        assigned = {
            "protectionGroupId": group_id,
            "protectionGroupName": server.get("protectionGroupName"),
        }
    return {
        **server,
        "state": server.get("lifecycleState"),
        "lagDuration": server.get("lagDuration"),
        "assignedToProtectionGroup": assigned,
        "selectable": not group_id or group_id == editing,
    }


def audit_log_answer(
    entries: List[Item], group_id: str, server_id: str, caller: Caller
) -> Union[List[Item], Item]:
    """``GET .../servers/{serverId}/audit-log``: the console reads a JSON
    array of changes, oldest first (REST); a direct invocation answers
    a dict (CONTRACTS §2): ``{protectionGroupId, serverId, entries,
    count}``."""
    if caller.via == "api":
        return entries
    return {
        "protectionGroupId": group_id,
        "serverId": server_id,
        "entries": entries,
        "count": len(entries),
    }


# What the import reports per manifest item, by the import's action.
_IMPORT_KINDS = (
    ("protectionGroups", "protectionGroup", "groupId", "groupName"),
    ("recoveryPlans", "recoveryPlan", "planId", "planName"),
)
_IMPORT_LISTS = {"create": "created", "update": "updated", "skip": "skipped"}


def import_answer(result: Item, correlation_id: str) -> Item:
    """``POST /config/import`` with the console's fields beside ours:
    ``success`` (an import that fails answers an error, all-or-nothing),
    ``correlationId``, per-type counts in ``summary.protectionGroups`` /
    ``summary.recoveryPlans`` ``{created, updated, skipped, failed}``
    beside our ``summary.{create, update, skip}``, and the lists
    ``created``, ``updated``, ``skipped`` (reason ``UNCHANGED``),
    ``failed`` (always empty) of ``{type, name, details}``."""
    lists: Dict[str, List[Item]] = {
        name: [] for name in list(_IMPORT_LISTS.values()) + ["failed"]
    }
    summary = dict(result.get("summary") or {})
    for key, kind, id_field, name_field in _IMPORT_KINDS:
        counts = {name: 0 for name in lists}
        for item in result.get(key) or []:
            name = _IMPORT_LISTS[item["action"]]
            counts[name] += 1
            entry = {
                "type": kind,
                "name": item.get(name_field),
                "details": {id_field: item.get(id_field)},
            }
            if name == "skipped":
                entry["reason"] = "UNCHANGED"
            lists[name].append(entry)
        summary[key] = counts
    return {
        **result,
        **lists,
        "success": True,
        "correlationId": correlation_id,
        "summary": summary,
    }
