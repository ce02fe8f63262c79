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
