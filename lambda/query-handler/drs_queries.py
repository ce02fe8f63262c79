"""``GET /drs/source-servers``: DRS source servers of an account/region.

Every page of ``DescribeSourceServers`` is read; servers are optionally
filtered by tags (``shared.tag_matching``: AND, case-insensitive) and by
replication state, and annotated with the protection group listing them.
"""

from typing import Any, Dict, Iterable, List, Optional

from query_inputs import Target, region_param, target_param, text_param
from query_routes import router
from shared.api import Request
from shared.aws_clients import create_drs_client
from shared.aws_errors import aws_errors
from shared.aws_pagination import all_items
from shared.console_shapes import source_server_view
from shared.drs_constants import HEALTHY_REPLICATION_STATES
from shared.errors import ValidationError
from shared.name_claims import without_claims
from shared.tables import protection_groups_table, scan_all
from shared.tag_matching import filter_servers_by_tags
from shared.validation import parse_json_param, validate_tags

GIB = 2**30
# Replication states in which a server is not replicating at all.
NOT_REPLICATING_STATES = frozenset({"STOPPED", "DISCONNECTED"})


def replication_state(server: Dict[str, Any]) -> str:
    """The server's ``dataReplicationState`` (``UNKNOWN`` when absent)."""
    info = server.get("dataReplicationInfo") or {}
    return str(info.get("dataReplicationState") or "UNKNOWN")


def lifecycle_state(server: Dict[str, Any]) -> str:
    """A one-word readiness derived from replication and life cycle.

    DRS has no such field: ``READY_FOR_LAUNCH`` when replication is
    healthy and the first byte arrived; ``STOPPED``/``DISCONNECTED`` as
    replication says; otherwise ``NOT_READY`` (still syncing, stalled...).
    """
    state = replication_state(server)
    first_byte = (server.get("lifeCycle") or {}).get("firstByteDateTime")
    if state in HEALTHY_REPLICATION_STATES and first_byte:
        return "READY_FOR_LAUNCH"
    if state in NOT_REPLICATING_STATES:
        return state
    return "NOT_READY"


def hardware(server: Dict[str, Any]) -> Dict[str, Any]:
    """Cores, RAM and disk of a source server (GiB rounded to 0.1)."""
    props = server.get("sourceProperties") or {}
    cores = sum(int(c.get("cores") or 0) for c in props.get("cpus") or [])
    disk = sum(int(d.get("bytes") or 0) for d in props.get("disks") or [])
    return {
        "totalCores": cores,
        "ramGiB": _gib(props.get("ramBytes") or 0),
        "totalDiskGiB": _gib(disk),
    }


def _gib(size_bytes: int) -> Any:
    value = round(int(size_bytes) / GIB, 1)
    return int(value) if value == int(value) else value


def _in_target(group: Dict[str, Any], target: Target) -> bool:
    """Whether a group's servers live in the target's account/region."""
    if group.get("region") != target.region:
        return False
    account = group.get("accountId") or None
    if account == (target.account_id or None):
        return True
    # The hub answers for groups stored without an account id.
    return target.account_context is None and account is None


def group_membership(
    target: Target,
    servers: List[Dict[str, Any]],
    table: Optional[Any] = None,
) -> Dict[str, Dict[str, str]]:
    """Source server id -> ``{protectionGroupId, protectionGroupName}``.

    From the groups' explicit ``sourceServerIds`` (ids are globally
    unique) and, for tag groups of the target's account and region, what
    their tags match among ``servers`` (the listing already read: no extra
    DRS call). Explicit ids win over tags; then groups in name order.
    """
    table = table if table is not None else protection_groups_table()
    groups = sorted(
        without_claims(
            scan_all(
                table,
                ProjectionExpression=(
                    "groupId, groupName, sourceServerIds, "
                    "serverSelectionTags, #r, accountId"
                ),
                ExpressionAttributeNames={"#r": "region"},
            )
        ),
        key=lambda g: str(g.get("groupName", "")),
    )
    membership: Dict[str, Dict[str, str]] = {}

    def assign(group: Dict[str, Any], server_ids: Iterable[Any]) -> None:
        for server_id in server_ids:
            membership.setdefault(
                str(server_id),
                {
                    "protectionGroupId": str(group["groupId"]),
                    "protectionGroupName": str(group.get("groupName", "")),
                },
            )

    for group in groups:
        assign(group, group.get("sourceServerIds") or [])
    for group in groups:
        tags = group.get("serverSelectionTags")
        if group.get("sourceServerIds") or not tags:
            continue
        if _in_target(group, target):
            matched = filter_servers_by_tags(servers, tags)
            assign(group, (s["sourceServerID"] for s in matched))
    return membership


def summarize_server(
    server: Dict[str, Any], membership: Dict[str, Dict[str, str]]
) -> Dict[str, Any]:
    """The API shape of one source server (``seeds/004_*``)."""
    props = server.get("sourceProperties") or {}
    hints = props.get("identificationHints") or {}
    server_id = server["sourceServerID"]
    group = membership.get(server_id) or {}
    return {
        "sourceServerID": server_id,
        "arn": server.get("arn"),
        "hostname": hints.get("hostname") or hints.get("fqdn") or "",
        "replicationState": replication_state(server),
        "lifecycleState": lifecycle_state(server),
        "lagDuration": (server.get("dataReplicationInfo") or {}).get(
            "lagDuration"
        ),
        "hardware": hardware(server),
        "tags": dict(server.get("tags") or {}),
        "recommendedInstanceType": props.get("recommendedInstanceType"),
        "os": (props.get("os") or {}).get("fullString"),
        "lastLaunchResult": server.get("lastLaunchResult"),
        "recoveryInstanceId": server.get("recoveryInstanceId"),
        "protectionGroupId": group.get("protectionGroupId"),
        "protectionGroupName": group.get("protectionGroupName"),
    }


def list_source_servers(
    target: Target,
    tags: Optional[Dict[str, str]] = None,
    state: Optional[str] = None,
    drs_client: Optional[Any] = None,
    groups_table: Optional[Any] = None,
) -> List[Dict[str, Any]]:
    """The summarized source servers of ``target``, filtered."""
    with aws_errors("DRS", target.account_id, target.region):
        drs = drs_client or create_drs_client(
            target.region, target.account_context
        )
        every: List[Dict[str, Any]] = all_items(drs, "describe_source_servers")
    membership = group_membership(target, every, groups_table)
    servers: Iterable[Dict[str, Any]] = every
    if tags:
        servers = filter_servers_by_tags(servers, tags)
    if state:
        servers = [s for s in servers if replication_state(s) == state]
    return [summarize_server(s, membership) for s in servers]


def _tags_param(request: Request) -> Optional[Dict[str, str]]:
    raw = request.query.get("tags")
    if raw in (None, "", {}):
        return None
    return validate_tags(parse_json_param(raw, "tags"))


def _state_param(request: Request, drs_states: List[str]) -> Optional[str]:
    value = text_param(request, "replicationState")
    if value is None:
        return None
    value = value.upper()
    if value not in drs_states:
        raise ValidationError(
            "replicationState must be one of " + ", ".join(drs_states),
            field="replicationState",
        )
    return value


def replication_states() -> List[str]:
    """The ``DataReplicationState`` values of the DRS service model."""
    from botocore.session import get_session

    model = get_session().get_service_model("drs")
    return list(model.shape_for("DataReplicationState").enum)


@router.operation("get_drs_source_servers")
def get_drs_source_servers(request: Request) -> Dict[str, Any]:
    """Source servers: ``region`` required; ``accountId``, ``tags``
    (JSON object), ``replicationState`` optional."""
    region = region_param(request)
    tags = _tags_param(request)
    state = _state_param(request, replication_states())
    target = target_param(request, region)
    servers = list_source_servers(target, tags=tags, state=state)
    editing = text_param(request, "currentProtectionGroupId")
    servers = [source_server_view(s, editing) for s in servers]
    only = text_param(request, "filterByProtectionGroup")
    if only:
        servers = [s for s in servers if s.get("protectionGroupId") == only]
    return {
        "servers": servers,
        "totalCount": len(servers),
        "serverCount": len(servers),
        "region": region,
        "accountId": target.account_id,
    }
