"""Start the DRS recovery of one wave (action ``start_wave_recovery``).

Moved from the orchestration Lambda (``seeds/000_*`` §1): read the wave's
protection group, take the servers recorded for the wave when the
execution started (``shared.wave_servers``; resolved now only when the
record has none), apply the group's launch configuration,
``start_recovery`` in the target account, then record the wave in the
state and the execution record. A refused ``start_recovery`` is recorded
in our words (``shared.aws_errors.recovery_start_error``).
Any failure ends the wave and the state ``failed`` with an ``error_code``;
nothing is left half done (no job when launch config or resolution fails).
"""

import time
from typing import Any, Callable, Dict, List, Optional

from botocore.exceptions import BotoCoreError, ClientError

from execution_drs import servers_in_active_jobs
from execution_routes import router
from shared import clock, statuses
from shared.account_context import get_account_context
from shared.aws_clients import create_drs_client
from shared.aws_errors import recovery_start_error
from shared.drs_limits import MAX_SERVERS_PER_JOB
from shared.execution_records import get_execution
from shared.launch_config import apply_launch_configs
from shared.launch_config_status import recovery_source
from shared.logging_setup import get_logger
from shared.tables import protection_groups_table
from shared.wave_servers import (
    ServerResolutionError,
    TagLister,
    WaveServers,
    recorded_wave_servers,
)
from wave_members import (
    execution_context,
    resolve_by_tags_via_lambda,
    wave_servers,
)
from shared.wave_state import (
    claim_wave,
    end_for_record,
    mark_failed,
    save_wave,
    wave_name,
    wave_result,
)

logger = get_logger("execution-handler")

TAG_EXECUTION = "DRSOrchExecutionId"
TAG_WAVE = "DRSOrchWave"
TAG_PLAN = "DRSOrchPlanId"

# Recording a started job is retried: a lost write would orphan the job.
RECORD_ATTEMPTS = 3
RECORD_BACKOFF_SECONDS = 0.5


class WaveStartError(ServerResolutionError):
    """A wave cannot start; ``code`` is the state's ``error_code``."""


def _hostnames(drs: Any, server_ids: List[str]) -> Dict[str, str]:
    """sourceServerID -> hostname; raises for unknown servers."""
    found: Dict[str, str] = {}
    paginator = drs.get_paginator("describe_source_servers")
    for page in paginator.paginate(filters={"sourceServerIDs": server_ids}):
        for item in page.get("items", []):
            hints = (item.get("sourceProperties") or {}).get(
                "identificationHints"
            ) or {}
            found[item["sourceServerID"]] = hints.get("hostname") or ""
    missing = [sid for sid in server_ids if sid not in found]
    if missing:
        raise WaveStartError(
            "SOURCE_SERVER_NOT_FOUND",
            "DRS source servers not found: " + ", ".join(missing),
        )
    return {sid: found[sid] for sid in server_ids}


def _record_wave(
    state: Dict[str, Any],
    index: int,
    wave: Dict[str, Any],
    table: Any,
    sleep: Callable[[float], None],
) -> Optional[Exception]:
    """Save ``waves[index]``, retrying a few times with a backoff.

    Returns the last error when every attempt failed (a refused
    condition is not retried: the record ended or is missing).
    """
    if not state.get("execution_id"):
        return None
    for attempt in range(RECORD_ATTEMPTS):
        try:
            save_wave(
                state["execution_id"],
                index,
                wave,
                {"currentWave": index},
                table=table,
            )
            return None
        except (ClientError, BotoCoreError) as error:
            logger.warning(
                "recording the wave failed",
                extra={"wave": index, "attempt": attempt + 1},
            )
            last = error
            code = getattr(error, "response", {}).get("Error", {})
            if code.get("Code") == "ConditionalCheckFailedException":
                break
            if attempt + 1 < RECORD_ATTEMPTS:
                sleep(RECORD_BACKOFF_SECONDS * 2**attempt)
    return last


def _wave_record(
    state: Dict[str, Any], index: int, group_id: Optional[str]
) -> Dict[str, Any]:
    wave = (state.get("waves") or [])[index]
    return {
        "waveNumber": wave.get("waveNumber", index),
        "waveName": wave_name(state, index),
        "protectionGroupId": group_id,
    }


def start_wave_recovery(
    state: Dict[str, Any],
    wave_number: int,
    *,
    server_resolver: Optional[TagLister] = None,
    groups_table: Optional[Any] = None,
    history_table: Optional[Any] = None,
    accounts_table: Optional[Any] = None,
    drs_client: Optional[Any] = None,
    ec2_client: Optional[Any] = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Dict[str, Any]:
    """Start wave ``wave_number`` (zero-based) and return the state.

    The state is updated in place (``seeds/000_*``) and returned.
    ``server_resolver(region, tags, account_context)`` resolves tag-based
    groups; by default the query-handler is invoked (the legacy
    orchestration passes ``server_discovery.query_drs_servers_by_tags``).
    When the started job cannot be recorded, the state fails with
    ``WAVE_RECORD_FAILED`` and keeps ``job_id`` (named in the error too).
    """
    index = int(wave_number)
    waves = state.get("waves") or []
    state.update(
        current_wave_number=index,
        wave_completed=False,
        current_wave_total_wait_time=0,
        job_id=None,
        server_ids=[],
        job_account_context=None,
        status="running",
        paused_before_wave=None,
        error=None,
        error_code=None,
    )
    if not 0 <= index < len(waves):
        return mark_failed(
            state, "WAVE_NOT_FOUND", f"the plan has no wave {index}"
        )
    group_id = waves[index].get("protectionGroupId")
    if state.get("execution_id") and not claim_wave(
        state["execution_id"], index, table=history_table
    ):
        return _not_claimed(state, index, group_id, history_table, sleep)
    record = _wave_record(state, index, group_id)
    entry = wave_result(state, index)
    entry.update(status="STARTED", startTime=clock.iso_now())
    try:
        job, servers, members, context = _start(
            state,
            index,
            group_id,
            server_resolver or resolve_by_tags_via_lambda,
            history_table=history_table,
            groups_table=groups_table,
            accounts_table=accounts_table,
            drs_client=drs_client,
            ec2_client=ec2_client,
        )
    except ServerResolutionError as error:
        logger.warning(
            "wave start failed",
            extra={"wave": index, "code": error.code, "error": str(error)},
        )
        mark_failed(state, error.code, f"{record['waveName']}: {error}")
        record.update(
            status="FAILED",
            startTime=entry["startTime"],
            endTime=entry["endTime"],
            error=state["error"],
            errorCode=error.code,
            servers=[],
        )
        if _record_wave(state, index, record, history_table, sleep):
            logger.error("failed wave not recorded", extra={"wave": index})
        return state
    server_ids = list(servers)
    job_id = job["jobID"]
    _started(state, entry, job_id, members.region, server_ids, context)
    record.update(
        status="STARTED",
        jobId=job_id,
        startTime=entry["startTime"],
        # What this wave recovers (as recorded at start, or resolved now).
        **members.as_record(),
        servers=[
            {"sourceServerId": sid, "hostname": host, "status": "PENDING"}
            for sid, host in servers.items()
        ],
    )
    lost = _record_wave(state, index, record, history_table, sleep)
    if lost:
        logger.error("started job not recorded", extra={"jobId": job_id})
        return mark_failed(
            state,
            "WAVE_RECORD_FAILED",
            f"{record['waveName']}: DRS job {job_id} started but recording "
            f"it failed: {lost}",
        )
    logger.info(
        "wave started",
        extra={"wave": index, "jobId": job_id, "servers": len(server_ids)},
    )
    return state


def _started(
    state: Dict[str, Any],
    entry: Dict[str, Any],
    job_id: str,
    region: Optional[str],
    server_ids: List[str],
    context: Optional[Dict[str, Any]],
) -> None:
    """Put a started job in the state and its ``wave_results`` entry."""
    state.update(
        job_id=job_id,
        region=region,
        server_ids=server_ids,
        job_account_context=context,
    )
    entry.update(
        status="STARTED",
        jobId=job_id,
        region=region,
        serverIds=server_ids,
        serverStatuses=[
            {
                "sourceServerId": sid,
                "launchStatus": "PENDING",
                "recoveryInstanceId": None,
            }
            for sid in server_ids
        ],
    )


def _not_claimed(
    state: Dict[str, Any],
    index: int,
    group_id: Optional[str],
    history_table: Optional[Any],
    sleep: Callable[[float], None],
) -> Dict[str, Any]:
    """The wave could not be claimed: no DRS job is started here.

    A cancelled or ended
    execution ends the state (a CANCELLING record's wave is recorded
    CANCELLED; an ended record is never written); a wave that already
    has a job (a retried start) returns the state of that job; a wave
    another invocation is starting keeps the state running without a
    job (the poll adopts the job once it is recorded).
    """
    record = get_execution(state["execution_id"], history_table)
    name = wave_name(state, index)
    if end_for_record(state, record.get("status"), f"before {name}"):
        if record.get("status") == statuses.CANCELLING:
            entry = wave_result(state, index)
            cancelled = dict(
                status=statuses.WAVE_CANCELLED, error=entry["error"]
            )
            cancelled.update(
                endTime=entry["endTime"], errorCode=entry["errorCode"]
            )
            _record_wave(state, index, cancelled, history_table, sleep)
        return state
    waves = record.get("waves") or []
    wave = waves[index] if index < len(waves) else {}
    entry = wave_result(state, index)
    entry.update(status="STARTED", startTime=wave.get("startTime"))
    if not wave.get("jobId"):
        state["status_reason"] = f"{name} is being started"
        return state
    recorded = recorded_wave_servers(record, index)
    context = (
        execution_context(state, recorded)
        if recorded
        else get_account_context(state)
    )
    servers = [s["sourceServerId"] for s in wave.get("servers") or []]
    _started(state, entry, wave["jobId"], wave.get("region"), servers, context)
    logger.info(
        "wave already started", extra={"wave": index, "jobId": wave["jobId"]}
    )
    return state


def _read_group(
    group_id: Optional[str], groups_table: Optional[Any]
) -> Dict[str, Any]:
    """The protection group; WaveStartError when missing or unreadable."""
    group = None
    if group_id:
        table = groups_table or protection_groups_table()
        try:
            group = table.get_item(Key={"groupId": group_id}).get("Item")
        except (ClientError, BotoCoreError) as error:
            raise WaveStartError(
                "PROTECTION_GROUP_READ_FAILED",
                f"reading protection group {group_id} failed: {error}",
            ) from None
    if not group:
        raise WaveStartError(
            "PROTECTION_GROUP_NOT_FOUND",
            f"protection group {group_id} not found",
        )
    return group


def _start(
    state: Dict[str, Any],
    index: int,
    group_id: Optional[str],
    resolver: TagLister,
    *,
    history_table: Optional[Any],
    groups_table: Optional[Any],
    accounts_table: Optional[Any],
    drs_client: Optional[Any],
    ec2_client: Optional[Any],
):
    """Configure and launch the wave's recorded servers.

    Returns (job, {server id: hostname}, the WaveServers recovered,
    account context with the session name).
    """
    group = _read_group(group_id, groups_table)
    servers = wave_servers(
        state, index, group, resolver, history_table, accounts_table
    )
    server_ids = servers.server_ids
    if len(server_ids) > MAX_SERVERS_PER_JOB:
        raise WaveStartError(
            "WAVE_SIZE_LIMIT_EXCEEDED",
            f"{len(server_ids)} servers exceed the DRS limit of "
            f"{MAX_SERVERS_PER_JOB} per job",
        )
    region = servers.region or group.get("region") or state.get("region")
    context = execution_context(state, servers)
    try:
        drs = drs_client or create_drs_client(region, context)
        hosts = _hostnames(drs, server_ids)
    except (ClientError, BotoCoreError) as error:
        raise WaveStartError(
            "DRS_DESCRIBE_FAILED", f"describing source servers: {error}"
        ) from None
    applied = apply_launch_configs(
        group,
        server_ids,
        region=region,
        account_context=context,
        drs_client=drs,
        ec2_client=ec2_client,
        source=recovery_source(state.get("execution_id")),
        status_table=groups_table,
    )
    if not applied.ok:
        raise WaveStartError(
            "LAUNCH_CONFIG_FAILED",
            "launch configuration failed for " + applied.error_summary(),
        )
    tags = {
        TAG_EXECUTION: str(state.get("execution_id") or ""),
        TAG_WAVE: str(index),
        TAG_PLAN: str(state.get("plan_id") or ""),
    }
    try:
        job = drs.start_recovery(
            sourceServers=[{"sourceServerID": sid} for sid in server_ids],
            isDrill=bool(state.get("is_drill", True)),
            tags={k: v for k, v in tags.items() if v},
        )["job"]
    except (ClientError, BotoCoreError) as error:
        # The AWS text goes to the log only; the record gets our words.
        logger.warning("start_recovery refused", extra={"error": str(error)})
        code, message = recovery_start_error(
            error,
            servers_in_active_jobs(drs, server_ids),
            (context or {}).get("accountId"),
            region,
        )
        raise WaveStartError(code, message) from None
    members = WaveServers(region, servers.account_context, server_ids)
    return job, hosts, members, context


@router.action("start_wave_recovery")
def start_wave_recovery_action(event: Dict[str, Any]) -> Dict[str, Any]:
    """``{"action": "start_wave_recovery", "state", "wave_number"}``."""
    return start_wave_recovery(
        dict(event.get("state") or {}), int(event.get("wave_number") or 0)
    )
