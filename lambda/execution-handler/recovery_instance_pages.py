"""Pages of ``GET /executions/{id}/recovery-instances``.

Without ``limit`` or ``nextToken`` the answer lists every instance (what
clients that do not page expect). With either, it lists at most
``limit`` (1-1000, default 100) and a ``nextToken`` when more remain.
The instances are in (region, recoveryInstanceId) order and the token
holds the last one shown, so an instance launched between two pages
shifts nothing: the next page starts after that key.
"""

from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Tuple

from shared.errors import ValidationError
from shared.page_tokens import decode_token, encode_token, page_limit

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# A DRS recovery instance with the region it was found in.
Found = Tuple[Optional[str], Dict[str, Any]]
TOKEN_KEYS = {"executionId", "region", "recoveryInstanceId"}


def _key(found: Found) -> Tuple[str, str]:
    region, item = found
    return (region or "", str(item["recoveryInstanceID"]))


class PageRequest(NamedTuple):
    """What a request asks for: ``limit`` None for every instance;
    ``after`` the key its ``nextToken`` holds."""

    limit: Optional[int]
    after: Optional[Tuple[str, str]]


def page_request(query: Mapping[str, Any], execution_id: str) -> PageRequest:
    """The page ``query`` asks for, checked before DRS is read: 400
    ``limit`` or ``nextToken`` (a token of another execution or
    listing)."""
    if not query.get("limit") and not query.get("nextToken"):
        return PageRequest(None, None)
    limit = page_limit(query.get("limit"), DEFAULT_LIMIT, MAX_LIMIT)
    value = decode_token(query.get("nextToken"))
    if value is None:
        return PageRequest(limit, None)
    if (
        set(value) != TOKEN_KEYS
        or value["executionId"] != execution_id
        or not isinstance(value["region"], str)
        or not isinstance(value["recoveryInstanceId"], str)
    ):
        raise ValidationError("nextToken is not valid", field="nextToken")
    return PageRequest(limit, (value["region"], value["recoveryInstanceId"]))


def instance_page(
    execution_id: str,
    by_region: Mapping[Optional[str], List[Dict[str, Any]]],
    wanted: PageRequest,
) -> Tuple[List[Found], Optional[str]]:
    """The instances to show (every one, or the page ``wanted``), each
    with its region, and the ``nextToken`` of the rest (None when none
    remain)."""
    found = sorted(
        (
            (region, item)
            for region, items in by_region.items()
            for item in items
        ),
        key=_key,
    )
    if wanted.after is not None:
        found = [f for f in found if _key(f) > wanted.after]
    if wanted.limit is None or len(found) <= wanted.limit:
        return found, None
    shown = found[: wanted.limit]
    region, last = _key(shown[-1])
    token = encode_token(
        {
            "executionId": execution_id,
            "region": region,
            "recoveryInstanceId": last,
        }
    )
    return shown, token
