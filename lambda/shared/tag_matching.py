"""The one tag-matching rule for DRS source servers (``seeds/000_*``).

A server matches when it carries ALL wanted tags (AND). Keys and values are
compared case-insensitively after trimming whitespace. Used by the wave
engine (query_servers_by_tags), the resolve endpoint and
``GET /drs/source-servers?tags=``.
"""

from typing import Any, Dict, Iterable, List, Mapping, Optional, Union

TagInput = Union[Mapping[str, Any], Iterable[Mapping[str, Any]], None]


def _norm(value: Any) -> str:
    return str(value if value is not None else "").strip().lower()


def normalize_tags(tags: TagInput) -> Dict[str, str]:
    """Return ``{key: value}`` with keys and values trimmed and lower-cased.

    Accepts a mapping (``{"Tier": "web"}``) or a list of ``{"Key", "Value"}``
    (or ``{"key", "value"}``) pairs as EC2 and CloudFormation write them.
    Entries with an empty key are dropped.
    """
    if not tags:
        return {}
    if isinstance(tags, Mapping):
        pairs = tags.items()
    else:
        pairs = (
            (
                item.get("Key", item.get("key")),
                item.get("Value", item.get("value")),
            )
            for item in tags
        )
    normalized = {}
    for key, value in pairs:
        norm_key = _norm(key)
        if norm_key:
            normalized[norm_key] = _norm(value)
    return normalized


def server_matches_tags(server_tags: TagInput, wanted: TagInput) -> bool:
    """True when ``server_tags`` contains every wanted tag (AND).

    An empty ``wanted`` matches nothing: a selection without tags must not
    silently select every server of a region.
    """
    wanted_norm = normalize_tags(wanted)
    if not wanted_norm:
        return False
    have = normalize_tags(server_tags)
    return all(have.get(key) == value for key, value in wanted_norm.items())


def filter_servers_by_tags(
    servers: Iterable[Mapping[str, Any]], wanted: TagInput
) -> List[Mapping[str, Any]]:
    """The DRS source servers (``describe_source_servers`` items, tags under
    ``tags``) that carry all ``wanted`` tags, in their original order."""
    wanted_norm = normalize_tags(wanted)
    if not wanted_norm:
        return []
    return [
        server
        for server in servers
        if server_matches_tags(server.get("tags") or {}, wanted_norm)
    ]


def matching_server_ids(
    servers: Iterable[Mapping[str, Any]], wanted: TagInput
) -> List[Optional[str]]:
    """The ``sourceServerID`` of every server matching ``wanted``."""
    return [
        server.get("sourceServerID")
        for server in filter_servers_by_tags(servers, wanted)
    ]
