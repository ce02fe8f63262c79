"""Read the execution lifecycle: list, details, status, waves, DRS jobs,
job logs and recovery instances (in the execution's target account)."""

from typing import Any, Dict, List, Optional

from shared.wave_jobs import wave_job_ids
from execution_drs import (
    describe_job_log_items,
    describe_jobs,
    drs_client_for,
    ec2_details,
    execution_jobs,
    execution_recovery_instances,
)
from execution_routes import router
from recovery_instance_pages import instance_page, page_request
from execution_servers_view import inline_servers, wave_page
from execution_store import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    list_page,
)
from shared.api import Request
from shared.aws_errors import aws_errors
from shared.console_shapes import (
    execution_details,
    execution_list,
    execution_summary_view,
    job_log_view,
)
from shared.execution_records import get_execution
from shared.page_tokens import page_limit
from shared.responses import to_jsonable
from shared.server_records import attach_servers
from shared.statuses import ACTIVE_STATUSES, TERMINAL_STATUSES
from shared.target_accounts import current_account_id, in_account
from shared.validation import validate_account_id, validate_choice
from shared.wave_graph import wave_waits

ALL_STATUSES = sorted(ACTIVE_STATUSES | TERMINAL_STATUSES)
SERVER_FIELDS = (
    "sourceServerId",
    "hostname",
    "status",
    "instanceId",
    "recoveryInstanceId",
    "privateIp",
    "launchTime",
)
WAVE_FIELDS = (
    "waveNumber",
    "waveName",
    "status",
    "statusReason",
    "jobId",
    "region",
    "protectionGroupId",
    "protectionGroupIds",
    "startTime",
    "readyTime",
    "endTime",
    "error",
    "errorCode",
    "plannedJobs",
    "excludedServers",
)
# A wave's DRS jobs (issue 16): each chunk, its servers and its job.
JOB_FIELDS = (
    "chunk",
    "count",
    "status",
    "jobId",
    "jobStatus",
    "startTime",
    "error",
    "errorCode",
)


def _pick(item: Dict[str, Any], fields) -> Dict[str, Any]:
    return {k: item[k] for k in fields if item.get(k) is not None}


def wave_view(wave: Dict[str, Any]) -> Dict[str, Any]:
    """A wave as the API shows it (Example 5 of ``seeds/004_*``)."""
    view = _pick(wave, WAVE_FIELDS)
    if wave.get("jobs"):
        view["jobs"] = [_job_view(job) for job in wave["jobs"]]
        view["jobIds"] = wave_job_ids(wave)
    view["servers"] = [
        _pick(server, SERVER_FIELDS) for server in wave.get("servers") or []
    ]
    if not view["servers"] and wave.get("serverIds"):
        view["servers"] = [{"sourceServerId": s} for s in wave["serverIds"]]
    return view


def waves_view(record: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The record's waves as shown, each with its place in the graph
    (issue 17, ``shared.wave_graph.wave_waits``): ``readyTime`` and,
    while the execution is active, ``waitingFor``."""
    waves = record.get("waves") or []
    return [
        {**wave_view(wave), **waits}
        for wave, waits in zip(waves, wave_waits(record))
    ]


def _job_view(job: Dict[str, Any]) -> Dict[str, Any]:
    view = _pick(job, JOB_FIELDS)
    view["serverCount"] = view.pop("count", 0)
    return view


def duration(record: Dict[str, Any]) -> Optional[int]:
    """Seconds from start to end (or to the last update while active)."""
    start = record.get("startTime")
    end = record.get("endTime") or record.get("updatedTime")
    if start is None or end is None:
        return None
    try:
        return max(0, int(end) - int(start))
    except (TypeError, ValueError):
        return None


def summary_view(record: Dict[str, Any]) -> Dict[str, Any]:
    """An execution in a list."""
    view = _pick(
        record,
        (
            "executionId",
            "planId",
            "planName",
            "status",
            "executionType",
            "initiatedBy",
            "startTime",
            "endTime",
            "currentWave",
            "totalWaves",
        ),
    )
    view["duration"] = duration(record)
    return view


def details_view(record: Dict[str, Any]) -> Dict[str, Any]:
    """Example 5's fields plus end time, duration, pause and error."""
    view = summary_view(record)
    for key in (
        "isDrill",
        "pausedBeforeWave",
        "pauseRequested",
        "statusReason",
        "error",
        "errorCode",
        "stateMachineExecutionArn",
        "terminations",
        "drillCleanupError",
        "requestedBy",
        "recoveryTermination",
        "acceptedRisks",
    ):
        if record.get(key) is not None:
            view[key] = record[key]
    view["waves"] = waves_view(record)
    index = record.get("pausedBeforeWave")
    if index is not None and 0 <= int(index) < len(view["waves"]):
        # pausedBeforeWave is the zero-based index; name the wave too.
        view["pausedBeforeWaveNumber"] = view["waves"][int(index)].get(
            "waveNumber"
        )
    terminal = record.get("status") in TERMINAL_STATUSES
    return to_jsonable(execution_details(view, record, terminal))


def _account_filter(account_id: Optional[str]):
    """The console's account selector: executions run in one account
    (the hub's have no account in their context); None: every one."""
    if not account_id:
        return None
    validate_account_id(account_id)
    with aws_errors("STS"):
        hub = current_account_id()

    def keep(record: Dict[str, Any]) -> bool:
        context = record.get("accountContext") or {}
        return in_account(context.get("accountId"), account_id, hub)

    return keep


@router.operation("list_executions")
def list_executions(request: Request, table=None) -> Dict[str, Any]:
    """GET /executions?planId=&status=&limit=&nextToken= (newest first)."""
    query = request.query
    status = query.get("status")
    if status:
        status = validate_choice(status.upper(), "status", ALL_STATUSES)
    page = list_page(
        query.get("planId"),
        status,
        page_limit(query.get("limit"), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
        query.get("nextToken"),
        table,
        _account_filter(query.get("accountId")),
    )
    items = [execution_summary_view(summary_view(i)) for i in page["items"]]
    result = {"executions": items, "count": len(items)}
    if page["nextToken"]:
        result["nextToken"] = page["nextToken"]
    return to_jsonable(execution_list(result))


@router.operation("get_execution_details")
def get_execution_details(request: Request, table=None) -> Dict[str, Any]:
    """GET /executions/{id}: each wave's first server rows (the server
    records; ``execution_servers_view``)."""
    record = attach_servers(get_execution(request.path_param("id"), table))
    return inline_servers(details_view(record), record)


@router.operation("get_execution_status")
def get_execution_status(request: Request, table=None) -> Dict[str, Any]:
    """GET /executions/{id}/status: the status without the waves."""
    record = attach_servers(get_execution(request.path_param("id"), table))
    view = details_view(record)
    view.pop("waves")
    view["completedWaves"] = sum(
        1 for w in record.get("waves") or [] if w.get("status") == "COMPLETED"
    )
    return view


@router.operation("get_execution_waves")
def get_execution_waves(request: Request, table=None) -> Dict[str, Any]:
    """GET /executions/{id}/waves[?waveNumber=&nextToken=&limit=]: every
    wave (its first server rows), or one wave with a page of them."""
    record = get_execution(request.path_param("id"), table)
    if request.query.get("waveNumber") is not None:
        return to_jsonable(wave_page(record, request.query, wave_view))
    record = attach_servers(record)
    waves = waves_view(record)
    return to_jsonable(
        {
            "executionId": record["executionId"],
            "status": record["status"],
            "waves": inline_servers({"waves": waves}, record)["waves"],
        }
    )


def _all_job_ids(record: Dict[str, Any]) -> Dict[str, List[str]]:
    """Recovery job ids, plus terminate job ids, per region."""
    jobs = execution_jobs(record)
    for item in record.get("terminations") or []:
        jobs.setdefault(item.get("region"), []).append(item["jobId"])
    return jobs


@router.operation("get_execution_jobs")
def get_execution_jobs(
    request: Request, table=None, drs_client=None
) -> Dict[str, Any]:
    """GET /executions/{id}/jobs: DRS jobs of the execution."""
    record = get_execution(request.path_param("id"), table)
    context = record.get("accountContext")
    jobs: List[Dict[str, Any]] = []
    for region, ids in _all_job_ids(record).items():
        client = drs_client_for(region, context, drs_client)
        jobs += [dict(j, region=region) for j in describe_jobs(client, ids)]
    return to_jsonable(
        {
            "executionId": record["executionId"],
            "jobs": jobs,
            "count": len(jobs),
        }
    )


@router.operation("get_execution_job_logs")
def get_execution_job_logs(
    request: Request, table=None, drs_client=None
) -> Dict[str, Any]:
    """GET /executions/{id}/job-logs[?jobId=]: DRS log items per job."""
    record = get_execution(request.path_param("id"), table)
    context = record.get("accountContext")
    wanted = request.query.get("jobId")
    wave_of = {
        job_id: w.get("waveNumber")
        for w in record.get("waves") or []
        for job_id in wave_job_ids(w)
    }
    logs = []
    for region, ids in _all_job_ids(record).items():
        client = drs_client_for(region, context, drs_client)
        for job_id in ids:
            if wanted and job_id != wanted:
                continue
            items = describe_job_log_items(client, job_id)
            log = {"jobId": job_id, "region": region, "items": items}
            logs.append(job_log_view(log, wave_of.get(job_id)))
    return to_jsonable({"executionId": record["executionId"], "jobLogs": logs})


@router.operation("get_recovery_instances")
def get_recovery_instances(
    request: Request, table=None, drs_client=None, ec2_client=None
) -> Dict[str, Any]:
    """GET /executions/{id}/recovery-instances[?limit=&nextToken=], with
    EC2 details: every instance, or one page of them
    (``recovery_instance_pages``)."""
    record = get_execution(request.path_param("id"), table)
    wanted = page_request(request.query, record["executionId"])
    shown, next_token = instance_page(
        record["executionId"],
        execution_recovery_instances(record, drs_client),
        wanted,
    )
    by_region: Dict[Optional[str], List[Dict[str, Any]]] = {}
    for region, item in shown:
        by_region.setdefault(region, []).append(item)
    # EC2 is asked only of the instances shown, once per region.
    ec2 = {
        region: ec2_details(
            [i.get("ec2InstanceID") for i in items],
            region,
            record.get("accountContext"),
            ec2_client,
        )
        for region, items in by_region.items()
    }
    instances = [
        {
            "recoveryInstanceId": item["recoveryInstanceID"],
            "sourceServerId": item.get("sourceServerID"),
            "instanceId": item.get("ec2InstanceID"),
            "ec2InstanceState": item.get("ec2InstanceState"),
            "jobId": item.get("jobID"),
            "isDrill": item.get("isDrill"),
            "region": region,
            "ec2": ec2[region].get(item.get("ec2InstanceID"), {}),
        }
        for region, item in shown
    ]
    answer = {
        "executionId": record["executionId"],
        "instances": instances,
        "count": len(instances),
    }
    if next_token:
        answer["nextToken"] = next_token
    return to_jsonable(answer)
