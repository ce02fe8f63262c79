"""Tag-based discovery of DRS source servers (action
``query_servers_by_tags``), moved from the orchestration Lambda
(``seeds/000_*`` §3). The matching rule is ``shared.tag_matching``."""

from typing import Any, Dict, List, Optional

from query_routes import router
from shared.aws_clients import create_drs_client
from shared.errors import ValidationError
from shared.tag_matching import matching_server_ids, normalize_tags


def query_drs_servers_by_tags(
    region: str,
    tags: Dict[str, str],
    account_context: Optional[Dict[str, Any]] = None,
    *,
    drs_client: Optional[Any] = None,
) -> List[str]:
    """Ids of the DRS source servers in ``region`` (of the account of
    ``account_context``) carrying ALL ``tags``; keys and values compare
    case-insensitively after trimming. Empty ``tags`` select nothing."""
    if not normalize_tags(tags):
        return []
    drs = drs_client or create_drs_client(region, account_context)
    ids: List[str] = []
    paginator = drs.get_paginator("describe_source_servers")
    for page in paginator.paginate(filters={}):
        ids.extend(matching_server_ids(page.get("items", []), tags))
    return [sid for sid in ids if sid]


@router.action("query_servers_by_tags")
def query_servers_by_tags_action(event: Dict[str, Any]) -> Dict[str, Any]:
    """``{"action": "query_servers_by_tags", "region", "tags",
    "account_context"}`` -> ``{"server_ids": [...]}``."""
    region = event.get("region")
    if not region:
        raise ValidationError("region is required", field="region")
    tags = event.get("tags") or {}
    return {
        "server_ids": query_drs_servers_by_tags(
            region, tags, event.get("account_context")
        )
    }
