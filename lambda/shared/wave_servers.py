"""Which servers a wave recovers: the one resolver.

A wave recovers its protection group's members: what the group's
``serverSelectionTags`` select (``shared.tag_matching``, in the group's
account and region), or else its ``sourceServerIds``. They are resolved
ONCE, when the execution starts (``execute_recovery_plan``), and recorded
on the execution's ``waves[i]`` (``serverIds``, ``region``,
``accountContext``). The wave start recovers the recorded servers and the
server-conflict check reads them, so an edit of a group used by an active
execution takes effect only for later executions.
"""

from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Set

from botocore.exceptions import BotoCoreError, ClientError

from shared.errors import InvocationError, NotFoundError, ValidationError
from shared.target_accounts import account_context_for

# (region, tags, account context) -> ids of the servers the tags select.
TagLister = Callable[[Optional[str], Dict[str, str], Optional[Dict]], List]


class ServerResolutionError(Exception):
    """A wave's servers cannot be resolved; ``code`` names why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class WaveServers:
    """The servers of one wave and where they live."""

    region: Optional[str]
    account_context: Optional[Dict[str, Any]]
    server_ids: List[str]

    def as_record(self) -> Dict[str, Any]:
        """The attributes of the execution record's ``waves[i]``."""
        return {
            "region": self.region,
            "accountContext": self.account_context,
            "serverIds": list(self.server_ids),
        }


def group_account_context(
    group: Dict[str, Any],
    plan_context: Optional[Dict[str, Any]],
    accounts_table: Optional[Any] = None,
) -> Optional[Dict[str, Any]]:
    """The account a group's servers live in.

    ``plan_context`` when it names the group's account (or the group
    names none); otherwise the registered target account of the group
    (``shared.target_accounts``), or its ``assumeRoleName`` when the
    account is not registered.
    """
    account_id = group.get("accountId")
    if not account_id or (plan_context or {}).get("accountId") == account_id:
        return plan_context
    try:
        return account_context_for(account_id, table=accounts_table)
    except (NotFoundError, ValidationError) as error:
        if not group.get("assumeRoleName"):
            raise ServerResolutionError(
                "TARGET_ACCOUNT_NOT_FOUND", error.message
            ) from None
    return {
        "accountId": account_id,
        "assumeRoleName": group["assumeRoleName"],
        "isCurrentAccount": False,
    }


def selection_text(group: Dict[str, Any]) -> str:
    """How the group selects its servers, for messages."""
    tags = dict(group.get("serverSelectionTags") or {})
    return f"tags {tags}" if tags else "its sourceServerIds"


def selected_server_ids(
    group: Dict[str, Any],
    by_tags: Callable[[Dict[str, str]], Iterable[Any]],
) -> List[str]:
    """The one membership rule: what the group's tags select
    (``by_tags(tags)``), else its ``sourceServerIds`` (a valid group has
    one of them); ids without repeats, in order."""
    tags = dict(group.get("serverSelectionTags") or {})
    ids = by_tags(tags) if tags else list(group.get("sourceServerIds") or [])
    return list(dict.fromkeys(str(i) for i in ids if i))


def resolve_group_servers(
    group: Dict[str, Any],
    plan_context: Optional[Dict[str, Any]],
    list_by_tags: TagLister,
    accounts_table: Optional[Any] = None,
) -> WaveServers:
    """The servers a group selects now (ids without repeats, in order).

    Tags win over ids (a valid group has one of them). Raises
    ServerResolutionError: TARGET_ACCOUNT_NOT_FOUND,
    SERVER_RESOLUTION_FAILED (the tag lookup failed) or
    NO_SERVERS_RESOLVED. Domain errors of ``list_by_tags`` propagate.
    """
    context = group_account_context(group, plan_context, accounts_table)
    region = group.get("region")
    tags = dict(group.get("serverSelectionTags") or {})
    try:
        ids = selected_server_ids(
            group, lambda wanted: list_by_tags(region, wanted, context)
        )
    except (InvocationError, ClientError, BotoCoreError) as error:
        raise ServerResolutionError(
            "SERVER_RESOLUTION_FAILED",
            f"resolving servers by tags {tags} failed: {error}",
        ) from None
    if not ids:
        what = f"tags {tags}" if tags else "an empty server list"
        raise ServerResolutionError(
            "NO_SERVERS_RESOLVED",
            f"protection group {group.get('groupId')} resolved no servers "
            f"({what})",
        )
    return WaveServers(region, context, ids)


def recorded_wave_servers(
    record: Dict[str, Any], index: int
) -> Optional[WaveServers]:
    """The servers recorded for ``waves[index]`` at the start; None when
    the record has none (a record written before servers were recorded,
    or by a state machine started directly)."""
    waves = record.get("waves") or []
    wave = waves[index] if 0 <= index < len(waves) else {}
    ids = [str(i) for i in wave.get("serverIds") or []]
    if not ids:
        return None
    context = wave.get("accountContext", record.get("accountContext"))
    return WaveServers(wave.get("region"), context or None, ids)


def execution_server_ids(record: Dict[str, Any]) -> Set[str]:
    """Source servers an execution uses: recorded and launched ones."""
    servers: Set[str] = set()
    for wave in record.get("waves") or []:
        servers.update(wave.get("serverIds") or [])
        for server in wave.get("servers") or []:
            if server.get("sourceServerId"):
                servers.add(server["sourceServerId"])
    return servers
