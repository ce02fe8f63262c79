"""Prepare a wave's start (``wave_recovery``): its servers as recorded
at the execution's start (or resolved now), their hostnames, and their
launch configuration, applied from each server's own group. Nothing is
started here: a failure raises ``WaveStartError`` with the state's
``error_code``, before any DRS job."""

from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Tuple

from botocore.exceptions import BotoCoreError, ClientError

from shared.aws_clients import create_drs_client
from shared.aws_errors import translate_client_error
from shared.aws_pagination import items_by_ids
from shared.engine_state import EngineState
from shared.errors import ForbiddenError
from shared.launch_config import apply_launch_configs
from shared.launch_config_status import (
    record_launch_config_status,
    recovery_source,
)
from shared.logging_setup import get_logger
from shared.tables import protection_groups_table
from shared.wave_servers import (
    ServerResolutionError,
    TagLister,
    WaveServers,
    wave_group_ids,
)
from wave_members import execution_context, recorded_wave, wave_servers

logger = get_logger("execution-handler")


@dataclass(frozen=True)
class PreparedWave(WaveServers):
    """A wave's servers, configured, with their hostnames."""

    hostnames: Dict[str, str] = None  # type: ignore[assignment]
    # The ids were recorded when the execution started (False: resolved
    # now, the start records them).
    recorded: bool = True
    # (group, each server's apply outcome): bookkeeping the start writes
    # once its jobs are started (``record_launch_status``).
    launch_outcomes: Tuple[Tuple[Dict, List[Dict]], ...] = ()


class WaveStartError(ServerResolutionError):
    """A wave cannot start; ``code`` is the state's ``error_code``."""


def _hostnames(drs: Any, server_ids: List[str]) -> Dict[str, str]:
    """sourceServerID -> hostname; raises for unknown servers."""
    found: Dict[str, str] = {}
    for item in items_by_ids(
        drs, "describe_source_servers", "sourceServerIDs", server_ids
    ):
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


def _describe_error(
    error: Exception, context: Optional[Dict[str, Any]], region: Any
) -> "WaveStartError":
    """The wave start could not read its servers, in our words (the AWS
    text goes to the log): refused access names the account and is the
    poll's ACCOUNT_ACCESS_DENIED."""
    logger.warning("describing source servers failed: %s", error)
    account = (context or {}).get("accountId")
    mapped = (
        translate_client_error(error, "DRS", account, region)
        if isinstance(error, ClientError)
        else None
    )
    if isinstance(mapped, ForbiddenError):
        return WaveStartError("ACCOUNT_ACCESS_DENIED", mapped.message)
    where = f" in account {account}" if account else ""
    return WaveStartError(
        "DRS_DESCRIBE_FAILED",
        f"DRS could not describe the wave's source servers{where}, "
        f"region {region}; start the execution again later",
    )


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


def prepare_wave(
    state: EngineState,
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
    """Resolve and configure the wave's recorded servers (nothing is
    started here: no job when resolution or launch configuration fails).

    A wave of several groups (the record's ``protectionGroupIds``)
    configures each server from its own group (``groupServerIds``). A
    wave recorded with no server describes and configures nothing.
    Returns (the PreparedWave, account context with the session name,
    the DRS client of the wave's account and region).
    """
    wave, recorded = recorded_wave(state, index, history_table)
    group_ids = (
        wave_group_ids(wave) if wave.get("protectionGroupIds") else [group_id]
    )
    groups = [_read_group(gid, groups_table) for gid in group_ids]
    servers = wave_servers(state, groups, resolver, recorded, accounts_table)
    server_ids = servers.server_ids
    region = servers.region or groups[0].get("region") or state.region
    context = execution_context(state, servers)
    try:
        drs = drs_client or create_drs_client(region, context)
        hosts = _hostnames(drs, server_ids) if server_ids else {}
    except (ClientError, BotoCoreError) as error:
        raise _describe_error(error, context, region) from None
    outcomes = []
    for position, group in enumerate(groups):
        own = servers.servers_of(str(group_ids[position]), position == 0)
        if not own:
            continue
        # Recorded after the jobs start (a wave of 400 servers writes 8
        # updates of the group item): not on the way to the first job.
        applied = apply_launch_configs(
            group,
            own,
            region=region,
            account_context=context,
            drs_client=drs,
            ec2_client=ec2_client,
        )
        outcomes.append((group, applied.servers))
        if not applied.ok:
            record_launch_status(outcomes, state, groups_table)
            raise WaveStartError(
                "LAUNCH_CONFIG_FAILED",
                "launch configuration failed for " + applied.error_summary(),
            )
    prepared = PreparedWave(
        region,
        servers.account_context,
        server_ids,
        servers.group_server_ids,
        hostnames=hosts,
        recorded=recorded is not None,
        launch_outcomes=tuple(outcomes),
    )
    return prepared, context, drs


def record_launch_status(
    outcomes: Iterable[Tuple[Dict, List[Dict]]],
    state: EngineState,
    groups_table: Optional[Any],
) -> None:
    """Record on each group what the wave's apply did to its servers
    (``shared.launch_config_status``; never raises)."""
    for group, servers in outcomes:
        record_launch_config_status(
            group,
            servers,
            recovery_source(state.execution_id),
            table=groups_table,
        )
