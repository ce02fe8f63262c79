"""Poll the current wave (action ``poll_wave_status``).

Moved from the orchestration Lambda's ``update_wave_status``
(``seeds/000_*`` §2). One poll:

1. reads the execution record; CANCELLING wins over everything: the state
   keeps polling (``status_reason`` says so, no new wave starts) until the
   wave's DRS job is no longer PENDING/STARTED, then ends ``cancelled``
   with both completion flags set (the core records CANCELLED);
2. ``describe_jobs`` for the wave's job and tracks every server's
   ``launchStatus`` (``shared.drs_constants``), its phase from
   ``describe_job_log_items`` and, once launched, its recovery instance
   (``describe_recovery_instances``, EC2 for its private IP and launch
   time) — persisted to ``waves[i].servers``;
3. completes the wave when all servers are LAUNCHED, fails it when any is
   FAILED/TERMINATED once the job has ended (the record then holds every
   server's final status), times out at ``current_wave_max_wait_time``;
4. after a completed wave: pauses (next wave's ``pauseBeforeWave`` or the
   record's ``pauseRequested``), starts the next wave (``start_wave``:
   by default an invocation of the execution-handler), or completes.

The execution record's status is finished by the orchestration core, not
here (one place for terminal transitions).
"""

from typing import Any, Callable, Dict, List, Optional

from botocore.exceptions import BotoCoreError, ClientError

from query_routes import router
from shared import clock, metrics, statuses
from shared.account_context import get_account_context
from shared.aws_clients import create_drs_client, create_ec2_client
from shared.config import get_settings
from shared.drs_constants import (
    DRS_JOB_SERVERS_COMPLETE_FAILURE_STATES,
    DRS_JOB_SERVERS_COMPLETE_SUCCESS_STATES,
    DRS_JOB_STATUS_WAIT_STATES,
)
from shared.errors import NotFoundError
from shared.execution_records import get_execution
from shared.job_servers import merge_job_servers
from shared.lambda_invoke import invoke_function
from shared.logging_setup import get_logger
from shared.orchestration_core import start_wave_or_fail
from shared.wave_state import (
    end_for_record,
    mark_failed,
    save_wave,
    wave_name,
    wave_result,
)

logger = get_logger("query-handler")
SUCCESS = DRS_JOB_SERVERS_COMPLETE_SUCCESS_STATES

WaveStarter = Callable[[Dict[str, Any], int], Dict[str, Any]]

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


def start_next_wave_via_lambda(
    state: Dict[str, Any], wave_number: int
) -> Dict[str, Any]:
    """Start a wave through the execution-handler (``seeds/000_*``)."""
    return invoke_function(
        get_settings().require("execution_handler_arn"),
        {
            "action": "start_wave_recovery",
            "state": state,
            "wave_number": wave_number,
        },
    )


def start_next_wave(
    state: Dict[str, Any],
    wave_number: int,
    start_wave: WaveStarter,
    table: Optional[Any] = None,
) -> Dict[str, Any]:
    """Start the next wave; the one path for both orchestration functions
    and the same as ``begin``/``resume_wave``
    (``orchestration_core.start_wave_or_fail``): any error of
    ``start_wave`` ends the state ``failed`` on that wave,
    ``WAVE_START_INVOCATION_FAILED``, and marks ``waves[wave_number]``
    FAILED on the record.
    """
    return start_wave_or_fail(state, wave_number, start_wave, table)


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


def _record_servers(
    drs: Any,
    job: Dict[str, Any],
    wave_record: Dict[str, Any],
    ec2_factory: Callable[[], Any],
) -> List[Dict[str, Any]]:
    """Merge the job's server statuses into ``waves[i].servers``."""
    phases = _phases(drs, job["jobID"])
    # One merge rule with the cancel settlement (shared.job_servers).
    known = merge_job_servers(wave_record["servers"], job)
    for sid, server in known.items():
        if server.get("status") not in SUCCESS:
            server["phase"] = phases.get(sid, server.get("phase"))
    missing = [
        sid
        for sid, s in known.items()
        if s.get("status") in DRS_JOB_SERVERS_COMPLETE_SUCCESS_STATES
        and not s.get("instanceId")
    ]
    for sid, detail in _instances(drs, job["jobID"], missing).items():
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


def _adopt_recorded_job(
    state: Dict[str, Any], wave: Dict[str, Any]
) -> Optional[str]:
    """The state's job id, else the one recorded by another start of
    this wave (``wave_recovery._not_claimed`` returned none)."""
    if not state.get("job_id") and wave.get("jobId"):
        state.update(
            job_id=wave["jobId"],
            region=wave.get("region"),
            server_ids=[s["sourceServerId"] for s in wave["servers"]],
        )
    return state.get("job_id")


def _wave_record(
    record: Optional[Dict[str, Any]], state: Dict[str, Any], index: int
) -> Dict[str, Any]:
    waves = (record or {}).get("waves") or []
    wave = dict(waves[index]) if index < len(waves) else {}
    entry = wave_result(state, index)
    wave.setdefault("waveNumber", entry.get("waveNumber", index))
    wave.setdefault("waveName", wave_name(state, index))
    wave.setdefault("jobId", state.get("job_id"))
    wave.setdefault("region", state.get("region"))
    wave.setdefault("status", statuses.WAVE_STARTED)
    wave.setdefault("startTime", entry.get("startTime"))
    wave["servers"] = list(wave.get("servers") or [])
    if not wave["servers"]:
        wave["servers"] = [
            {"sourceServerId": sid, "hostname": "", "status": "PENDING"}
            for sid in state.get("server_ids") or []
        ]
    return wave


def _name_servers(servers: List[Dict[str, Any]]) -> str:
    return ", ".join(
        f"{s.get('hostname') or s['sourceServerId']} "
        f"({s['sourceServerId']}: {s.get('status')})"
        for s in servers
    )


def _complete(
    state: Dict[str, Any],
    record: Optional[Dict[str, Any]],
    start_wave: WaveStarter,
    table: Optional[Any],
) -> Dict[str, Any]:
    """The wave completed: pause, start the next wave, or finish."""
    index = state["current_wave_number"]
    state["completed_waves"] = int(state.get("completed_waves") or 0) + 1
    state["wave_completed"] = True
    nxt = index + 1
    waves = state.get("waves") or []
    if nxt < len(waves):
        if waves[nxt].get("pauseBeforeWave") or (record or {}).get(
            "pauseRequested"
        ):
            state.update(
                status="paused",
                paused_before_wave=nxt,
                status_reason=f"paused before {wave_name(state, nxt)}",
            )
            return state
        return start_next_wave(state, nxt, start_wave, table)
    now = clock.iso_now()
    state.update(
        all_waves_completed=True,
        status="completed",
        status_reason="all waves completed",
        end_time=now,
    )
    return state


def poll_wave_status(
    state: Dict[str, Any],
    *,
    start_wave: Optional[WaveStarter] = None,
    history_table: Optional[Any] = None,
    drs_client: Optional[Any] = None,
    ec2_client: Optional[Any] = None,
) -> Dict[str, Any]:
    """One poll of the current wave; returns the updated state.

    ``start_wave(state, n)`` starts the next wave: by default the
    execution-handler is invoked; the legacy orchestration passes
    ``wave_recovery.start_wave_recovery``.
    """
    start_wave = start_wave or start_next_wave_via_lambda
    index = int(state.get("current_wave_number") or 0)
    record = None
    if state.get("execution_id"):
        try:
            record = get_execution(state["execution_id"], history_table)
        except NotFoundError:
            logger.warning("execution record missing")
    record_status = (record or {}).get("status")
    if record_status in statuses.TERMINAL_STATUSES:
        # Ended elsewhere (e.g. cancellation settled): nothing to write.
        end_for_record(state, record_status, "while polling")
        return state
    cancelling = record_status == statuses.CANCELLING
    wave = _wave_record(record, state, index)
    entry = wave_result(state, index)
    job_id = _adopt_recorded_job(state, wave)
    job: Dict[str, Any] = {}
    if job_id:
        context = state.get("job_account_context")
        if context is None:
            context = get_account_context(state)
        try:
            drs = drs_client or create_drs_client(state.get("region"), context)
            jobs = drs.describe_jobs(filters={"jobIDs": [job_id]})["items"]
            job = jobs[0] if jobs else {}
        except (ClientError, BotoCoreError) as error:
            # Transient: keep polling; the wave timeout bounds retries.
            state["status_reason"] = f"describe_jobs failed: {error}"
            return _advance_clock(state, entry, wave, history_table)
        if not job and not cancelling:
            return _fail(
                state,
                wave,
                history_table,
                "DRS_JOB_NOT_FOUND",
                f"{wave['waveName']}: DRS job {job_id} not found",
            )
        if job:
            wave["servers"] = _record_servers(
                drs,
                job,
                wave,
                lambda: ec2_client
                or create_ec2_client(state.get("region"), context),
            )
            entry["serverStatuses"] = [
                {
                    "sourceServerId": s["sourceServerId"],
                    "launchStatus": s.get("status"),
                    "recoveryInstanceId": s.get("recoveryInstanceId"),
                }
                for s in wave["servers"]
            ]
    if cancelling:
        return _cancel(state, job, wave, history_table)
    return _decide(state, record, job, wave, start_wave, history_table)


def _decide(
    state: Dict[str, Any],
    record: Optional[Dict[str, Any]],
    job: Dict[str, Any],
    wave: Dict[str, Any],
    start_wave: WaveStarter,
    history_table: Optional[Any],
) -> Dict[str, Any]:
    """Complete, fail or keep following the wave after a poll."""
    index = state["current_wave_number"]
    entry = wave_result(state, index)
    job_id = state.get("job_id")
    servers = wave["servers"]
    failed = [
        s
        for s in servers
        if s.get("status") in DRS_JOB_SERVERS_COMPLETE_FAILURE_STATES
    ]
    launched = [
        s
        for s in servers
        if s.get("status") in DRS_JOB_SERVERS_COMPLETE_SUCCESS_STATES
    ]
    if failed and job.get("status") in DRS_JOB_STATUS_WAIT_STATES:
        # Decided once the job ended (issue 16): the record then says
        # what DRS did with every server of the wave.
        state["status_reason"] = (
            f"{wave['waveName']}: server(s) {_name_servers(failed)} "
            f"failed; waiting for DRS job {job_id} to end"
        )
        return _advance_clock(state, entry, wave, history_table)
    if failed:
        return _fail(
            state,
            wave,
            history_table,
            "SERVER_LAUNCH_FAILED",
            f"{wave['waveName']} failed: server(s) "
            f"{_name_servers(failed)}",
        )
    if servers and len(launched) == len(servers):
        now = clock.iso_now()
        wave.update(status=statuses.WAVE_COMPLETED, endTime=now)
        metrics.wave_ended(wave)
        entry.update(status=statuses.WAVE_COMPLETED, endTime=now)
        # The state crosses every Step Functions transition (256 KB cap):
        # a completed wave keeps its count; per-server detail stays on
        # the execution record.
        entry.pop("serverStatuses", None)
        entry["launchedCount"] = len(launched)
        _save(state, index, wave, history_table)
        return _complete(state, record, start_wave, history_table)
    if job.get("status") not in (None, *DRS_JOB_STATUS_WAIT_STATES):
        return _fail(
            state,
            wave,
            history_table,
            "DRS_JOB_ENDED_INCOMPLETE",
            f"{wave['waveName']}: DRS job {job_id} ended with server(s) "
            f"not launched: {_name_servers(servers)}",
        )
    state["status_reason"] = f"{wave['waveName']} in progress"
    return _advance_clock(state, entry, wave, history_table)


def _advance_clock(state, entry, wave, table) -> Dict[str, Any]:
    """Count the poll interval; time the wave out at the maximum."""
    waited = int(state.get("current_wave_total_wait_time") or 0)
    waited += int(state.get("current_wave_update_time") or 0)
    state["current_wave_total_wait_time"] = waited
    limit = int(state.get("current_wave_max_wait_time") or 0)
    if limit and waited >= limit:
        return _fail(
            state,
            wave,
            table,
            "WAVE_TIMEOUT",
            f"{wave['waveName']} timed out after {waited}s " f"(max {limit}s)",
            status="timeout",
        )
    _save(state, state["current_wave_number"], wave, table)
    return state


def _fail(state, wave, table, code, message, status="failed"):
    mark_failed(state, code, message, status=status)
    if status != "cancelled":
        state["failed_waves"] = int(state.get("failed_waves") or 0) + 1
    wave.update(
        status=(
            statuses.WAVE_CANCELLED
            if status == "cancelled"
            else statuses.WAVE_FAILED
        ),
        endTime=clock.iso_now(),
        error=message,
        errorCode=code,
    )
    metrics.wave_ended(wave)
    _save(state, state["current_wave_number"], wave, table)
    return state


def _cancel(state, job, wave, table) -> Dict[str, Any]:
    """CANCELLING: wait for the job to settle, then end cancelled."""
    if job.get("status") in DRS_JOB_STATUS_WAIT_STATES:
        state["status_reason"] = (
            f"cancellation requested; waiting for DRS job {job['jobID']} "
            "to settle"
        )
        _save(state, state["current_wave_number"], wave, table)
        return state
    _fail(
        state,
        wave,
        table,
        "EXECUTION_CANCELLED",
        f"execution cancelled during {wave['waveName']}",
        status="cancelled",
    )
    state["all_waves_completed"] = True
    return state


def _save(state, index, wave, table) -> None:
    if state.get("execution_id"):
        save_wave(state["execution_id"], index, wave, table=table)


@router.action("poll_wave_status")
def poll_wave_status_action(event: Dict[str, Any]) -> Dict[str, Any]:
    """``{"action": "poll_wave_status", "state"}`` -> the state."""
    return poll_wave_status(dict(event.get("state") or {}))
