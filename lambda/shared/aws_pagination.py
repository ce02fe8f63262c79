"""Read every page of a paginated AWS operation (boto3 paginators)."""

from typing import Any, Dict, List

# Bounded pages keep each call quick; the paginator follows the token.
PAGE_SIZE = 100


def all_items(
    client: Any,
    operation: str,
    key: str = "items",
    page_size: int = PAGE_SIZE,
    **kwargs: Any,
) -> List[Dict[str, Any]]:
    """Every item under ``key`` of every page of ``operation``.

    ``key`` is ``items`` for DRS, e.g. ``Subnets`` for EC2; ``kwargs`` are
    the operation's parameters.
    """
    paginator = client.get_paginator(operation)
    pages = paginator.paginate(
        PaginationConfig={"PageSize": page_size}, **kwargs
    )
    items: List[Dict[str, Any]] = []
    for page in pages:
        items.extend(page.get(key) or [])
    return items


# DRS takes at most 200 ids in a filter (e.g. DescribeSourceServers'
# sourceServerIDs): larger lists are asked in batches.
ID_FILTER_MAX = 200


def items_by_ids(
    client: Any,
    operation: str,
    filter_key: str,
    ids: List[str],
    batch: int = ID_FILTER_MAX,
) -> List[Dict[str, Any]]:
    """Every item of ``operation`` whose ``filters[filter_key]`` is one of
    ``ids``, asked ``batch`` ids at a time (no call for no ids)."""
    items: List[Dict[str, Any]] = []
    for start in range(0, len(ids), batch):
        chunk = list(ids[start : start + batch])  # noqa: E203
        items.extend(all_items(client, operation, filters={filter_key: chunk}))
    return items
