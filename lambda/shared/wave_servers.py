"""Which servers a wave recovers: the one resolver.

A wave recovers its protection groups' members (:func:`wave_group_ids`:
``protectionGroupIds`` when the wave has several groups, else its
``protectionGroupId``): what each group's ``serverSelectionTags`` select
(``shared.tag_matching``, in the group's account and region), or else
its ``sourceServerIds``; a wave of several groups recovers their union,
without repeats. They are resolved ONCE, when the execution starts
(``execute_recovery_plan``), and recorded on the execution's
``waves[i]`` (``serverIds``, ``region``, ``accountContext``; with several
groups also ``groupServerIds``: which group each server came from, so
each server is configured from its own group's launch settings). The
wave start recovers the recorded servers and the server-conflict check
reads them, so an edit of a group used by an active execution takes
effect only for later executions.
"""

from dataclasses import dataclass
from typing import (
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    Optional,
    Set,
    Tuple,
)

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
    # groupId -> its servers, for a wave of several groups (None: one
    # group, every server is its).
    group_server_ids: Optional[Dict[str, List[str]]] = None

    def as_record(self) -> Dict[str, Any]:
        """The attributes of the execution record's ``waves[i]``."""
        record: Dict[str, Any] = {
            "region": self.region,
            "accountContext": self.account_context,
            "serverIds": list(self.server_ids),
        }
        if self.group_server_ids is not None:
            record["groupServerIds"] = {
                group: list(ids)
                for group, ids in self.group_server_ids.items()
            }
        return record

    def servers_of(self, group_id: str, first: bool) -> List[str]:
        """The servers configured from ``group_id`` (``first``: the
        wave's first group, which has them all when nothing says which
        group a server came from)."""
        if self.group_server_ids is None:
            return list(self.server_ids) if first else []
        return list(self.group_server_ids.get(group_id) or [])


def wave_group_ids(wave: Dict[str, Any]) -> List[str]:
    """The protection groups of a plan or execution wave, in order:
    ``protectionGroupIds`` (a wave of several groups) or else
    ``[protectionGroupId]`` (the seeds' field)."""
    ids = wave.get("protectionGroupIds") or [wave.get("protectionGroupId")]
    return list(dict.fromkeys(str(i) for i in ids if i))


def union_by_group(
    groups: Iterable[Tuple[str, Iterable[str]]],
) -> Tuple[List[str], Dict[str, List[str]]]:
    """The servers of several groups: their union without repeats, in
    group order, and ``group -> its servers`` (a server selected by two
    groups belongs to the first)."""
    seen: Set[str] = set()
    by_group: Dict[str, List[str]] = {}
    for group_id, ids in groups:
        own = [s for s in dict.fromkeys(ids) if s not in seen]
        seen.update(own)
        by_group[group_id] = own
    return [s for own in by_group.values() for s in own], by_group


def per_group_waves(waves: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Each wave once per group (its ``protectionGroupId`` that group),
    in order: what a reader of one group per wave resolves (a wave
    naming no group stays once, to be reported as such)."""
    return [
        {**wave, "protectionGroupId": group_id}
        for wave in waves
        for group_id in (wave_group_ids(wave) or [None])
    ]


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
    the record has no ``serverIds`` (a record written before servers were
    recorded, or by a state machine started directly). A recorded empty
    list is kept: the wave recovers nothing (it completes empty), it is
    not resolved again from its groups."""
    waves = record.get("waves") or []
    wave = waves[index] if 0 <= index < len(waves) else {}
    if wave.get("serverIds") is None:
        return None
    ids = [str(i) for i in wave["serverIds"]]
    context = wave.get("accountContext", record.get("accountContext"))
    by_group = wave.get("groupServerIds")
    return WaveServers(
        wave.get("region"),
        context or None,
        ids,
        (
            None
            if by_group is None
            else {str(g): [str(i) for i in v] for g, v in by_group.items()}
        ),
    )


def execution_server_ids(record: Dict[str, Any]) -> Set[str]:
    """Source servers an execution uses: recorded and launched ones."""
    servers: Set[str] = set()
    for wave in record.get("waves") or []:
        servers.update(wave.get("serverIds") or [])
        for server in wave.get("servers") or []:
            if server.get("sourceServerId"):
                servers.add(server["sourceServerId"])
    return servers
