"""The shared tag-matching rule: AND, case-insensitive, trimmed."""

from shared.tag_matching import (
    filter_servers_by_tags,
    matching_server_ids,
    normalize_tags,
    server_matches_tags,
)

SERVERS = [
    {"sourceServerID": "s-1", "tags": {"Tier": "Web", "Env": "prod"}},
    {"sourceServerID": "s-2", "tags": {" tier ": " web ", "env": "dev"}},
    {"sourceServerID": "s-3", "tags": {"Tier": "app", "Env": "prod"}},
    {"sourceServerID": "s-4"},
]


def test_normalize_tags_accepts_mapping_and_key_value_list():
    # Given the same tags as a mapping and as a Key/Value list
    as_map = {" Tier ": "WEB ", "": "dropped"}
    as_list = [{"Key": "tier", "Value": " web"}, {"key": "Env", "value": 1}]
    # When normalized
    # Then keys and values are trimmed, lower-cased and empty keys dropped
    assert normalize_tags(as_map) == {"tier": "web"}
    assert normalize_tags(as_list) == {"tier": "web", "env": "1"}
    assert normalize_tags(None) == {}


def test_match_is_case_insensitive_and_trimmed():
    # Given a server tagged with other case and padding
    # When matched against the wanted tag
    # Then it matches
    assert server_matches_tags({" TIER": "Web  "}, {"tier": "WEB"})
    assert not server_matches_tags({"tier": "web"}, {"tier": "app"})


def test_match_requires_all_wanted_tags():
    # Given a server with one of two wanted tags
    wanted = {"Tier": "web", "Env": "prod"}
    # When matched / Then it fails; with both tags it matches
    assert not server_matches_tags({"Tier": "web"}, wanted)
    assert server_matches_tags(
        {"tier": "WEB", "env": "Prod", "x": "y"}, wanted
    )


def test_empty_wanted_matches_nothing():
    # Given no wanted tags / When filtering / Then nothing is selected
    assert filter_servers_by_tags(SERVERS, {}) == []
    assert not server_matches_tags({"a": "b"}, None)


def test_filter_servers_keeps_order_and_and_semantics():
    # Given servers with mixed tags
    # When filtering by tier=web
    # Then both web servers match in order; adding env=prod keeps one
    assert matching_server_ids(SERVERS, {"tier": "web"}) == ["s-1", "s-2"]
    assert matching_server_ids(SERVERS, {"TIER": "web", "env": "PROD"}) == [
        "s-1"
    ]
    assert matching_server_ids(SERVERS, {"tier": "db"}) == []
