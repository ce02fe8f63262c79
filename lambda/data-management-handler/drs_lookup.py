"""DRS look-ups of the data-management operations.

Clients are made for the group's account and region: the account context
comes from the target accounts table (``shared.target_accounts``); the hub
account needs none.
"""

from typing import Any, Dict, List, Optional

from shared.aws_clients import create_drs_client, create_ec2_client
from shared.aws_errors import aws_errors
from shared.aws_pagination import all_items
from shared.errors import NotFoundError, ValidationError
from shared.tag_matching import filter_servers_by_tags
from shared.target_accounts import account_context_for
from shared.wave_servers import selected_server_ids

SESSION_NAME = "drs-data-management"
DESCRIBE_PAGE = 200
# DescribeSourceServers accepts at most this many ids per filter.
ID_FILTER_CHUNK = 200


def account_context(account_id: Optional[str]) -> Optional[Dict[str, Any]]:
    """The account context of ``accountId``; a 400 naming it if unknown."""
    try:
        with aws_errors("STS", account_id):
            return account_context_for(account_id, session_name=SESSION_NAME)
    except NotFoundError as error:
        raise ValidationError(error.message, field="accountId") from None


def drs_client(region: str, account_id: Optional[str] = None) -> Any:
    """A DRS client in the account and region of a group.

    Creating it assumes the spoke's role: a refusal is a 403.
    """
    context = account_context(account_id)
    with aws_errors("DRS", account_id, region):
        return create_drs_client(region, context, session_name=SESSION_NAME)


def ec2_client(region: str, account_id: Optional[str] = None) -> Any:
    """An EC2 client in the account and region of a group (403 when the
    spoke's role cannot be assumed)."""
    context = account_context(account_id)
    with aws_errors("EC2", account_id, region):
        return create_ec2_client(region, context, session_name=SESSION_NAME)


def describe_servers(
    drs: Any, server_ids: Optional[List[str]] = None
) -> List[Dict[str, Any]]:
    """Source servers (all, or the given ids), following pagination."""
    if server_ids is not None and not server_ids:
        return []
    chunks: List[Optional[List[str]]] = [None]
    if server_ids is not None:
        chunks = [
            server_ids[i : i + ID_FILTER_CHUNK]  # noqa: E203 - black style
            for i in range(0, len(server_ids), ID_FILTER_CHUNK)
        ]
    servers: List[Dict[str, Any]] = []
    for chunk in chunks:
        filters = {} if chunk is None else {"sourceServerIDs": chunk}
        servers.extend(
            all_items(
                drs,
                "describe_source_servers",
                page_size=DESCRIBE_PAGE,
                filters=filters,
            )
        )
    return servers


def verify_servers_exist(
    drs: Any, server_ids: List[str], field: str = "sourceServerIds"
) -> Dict[str, Dict[str, Any]]:
    """The DRS records of ``server_ids``; a 400 naming the missing ones."""
    found = {s["sourceServerID"]: s for s in describe_servers(drs, server_ids)}
    missing = [sid for sid in server_ids if sid not in found]
    if missing:
        raise ValidationError(
            "source servers not found in DRS: " + ", ".join(missing),
            field=field,
            missingServerIds=missing,
        )
    return found


def summarize(server: Dict[str, Any]) -> Dict[str, Any]:
    """The fields the API shows of one source server."""
    hints = (server.get("sourceProperties") or {}).get(
        "identificationHints"
    ) or {}
    replication = server.get("dataReplicationInfo") or {}
    return {
        "sourceServerID": server.get("sourceServerID"),
        "hostname": hints.get("hostname") or hints.get("fqdn") or "",
        "replicationState": replication.get("dataReplicationState"),
        "lastLaunchResult": server.get("lastLaunchResult"),
        "tags": dict(server.get("tags") or {}),
    }


def resolve_tags(drs: Any, tags: Dict[str, str]) -> List[Dict[str, Any]]:
    """The source servers whose DRS tags match ``tags`` now (AND)."""
    matched = filter_servers_by_tags(describe_servers(drs), tags)
    return [summarize(server) for server in matched]


def members_in(
    group: Dict[str, Any], servers: List[Dict[str, Any]]
) -> List[str]:
    """The servers of a group among ``servers`` (a DescribeSourceServers
    listing of the group's account and region): its ids, or what its tags
    match there (the one rule of ``shared.wave_servers``)."""
    return selected_server_ids(
        group,
        lambda tags: [
            s["sourceServerID"] for s in filter_servers_by_tags(servers, tags)
        ],
    )


def group_server_ids(group: Dict[str, Any], drs: Any = None) -> List[str]:
    """The servers of a group now: its ids, or what its tags match."""
    if not group.get("serverSelectionTags"):
        return members_in(group, [])
    region, account = group["region"], group.get("accountId")
    drs = drs or drs_client(region, account)
    with aws_errors("DRS", account, region):
        return members_in(group, describe_servers(drs))
