"""The one wave -> servers resolver and the StartRecovery error words."""

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from shared.aws_errors import recovery_start_error
from shared.wave_servers import (
    ServerResolutionError,
    execution_server_ids,
    recorded_wave_servers,
    resolve_group_servers,
    selected_server_ids,
)

HUB = {"accountId": "123456789012", "isCurrentAccount": True}


def _no_tag_lookup(*_args):
    raise AssertionError("an id group must not be resolved by tags")


def test_tags_select_else_ids_without_repeats():
    # Given an id group and a tag group
    ids = {"sourceServerIds": ["s-2", "s-1", "s-2"]}
    tags = {"serverSelectionTags": {"Tier": "web"}}
    # Then ids keep their order without repeats; tags ask the lookup
    assert selected_server_ids(ids, _no_tag_lookup) == ["s-2", "s-1"]
    assert selected_server_ids(tags, lambda t: ["s-9", "s-9"]) == ["s-9"]


def test_resolution_names_the_account_region_and_servers():
    # Given a tag group of the hub
    group = {
        "groupId": "g1",
        "region": "us-east-1",
        "serverSelectionTags": {"Tier": "app"},
    }
    asked = []

    def lookup(region, tags, context):
        asked.append((region, tags, context))
        return ["s-1", "s-2"]

    # When it is resolved with the plan's context
    servers = resolve_group_servers(group, HUB, lookup)
    # Then the lookup ran in its region and account, once
    assert asked == [("us-east-1", {"Tier": "app"}, HUB)]
    assert servers.as_record() == {
        "region": "us-east-1",
        "accountContext": HUB,
        "serverIds": ["s-1", "s-2"],
    }


@pytest.mark.parametrize(
    "group, lookup, code",
    [
        (
            {"groupId": "g", "sourceServerIds": []},
            _no_tag_lookup,
            "NO_SERVERS_RESOLVED",
        ),
        (
            {"groupId": "g", "serverSelectionTags": {"a": "b"}},
            lambda *_: [],
            "NO_SERVERS_RESOLVED",
        ),
        (
            {"groupId": "g", "serverSelectionTags": {"a": "b"}},
            lambda *_: (_ for _ in ()).throw(
                EndpointConnectionError(endpoint_url="https://drs")
            ),
            "SERVER_RESOLUTION_FAILED",
        ),
    ],
)
def test_a_group_selecting_nothing_is_refused(group, lookup, code):
    with pytest.raises(ServerResolutionError) as caught:
        resolve_group_servers(group, None, lookup)
    assert caught.value.code == code


def test_recorded_servers_win_and_the_conflict_set_reads_them():
    # Given a record with wave 2's servers recorded at start
    record = {
        "accountContext": HUB,
        "waves": [
            {"serverIds": ["s-1"], "region": "us-east-1"},
            {
                "serverIds": ["s-2"],
                "region": "us-west-2",
                "accountContext": None,
                "servers": [{"sourceServerId": "s-3"}],
            },
            {"serverIds": []},
        ],
    }
    # Then each wave's recorded servers, region and account are found
    first = recorded_wave_servers(record, 0)
    assert (first.region, first.account_context) == ("us-east-1", HUB)
    second = recorded_wave_servers(record, 1)
    assert (second.server_ids, second.account_context) == (["s-2"], None)
    # And a recorded empty list is "no server", not "nothing recorded"
    assert recorded_wave_servers(record, 2).server_ids == []
    assert recorded_wave_servers(record, 5) is None
    # And the conflict check sees recorded and launched servers
    assert execution_server_ids(record) == {"s-1", "s-2", "s-3"}


def _client_error(code: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "raw AWS text s-1 j-9"}},
        "StartRecovery",
    )


@pytest.mark.parametrize(
    "code, expected",
    [
        ("ConflictException", "SERVER_CONFLICT"),
        ("ThrottlingException", "DRS_LIMIT_EXCEEDED"),
        ("AccessDeniedException", "FORBIDDEN"),
        ("UninitializedAccountException", "INVALID_STATE"),
        ("ValidationException", "DRS_START_RECOVERY_FAILED"),
    ],
)
def test_a_refused_start_recovery_is_said_in_our_words(code, expected):
    mapped, message = recovery_start_error(
        _client_error(code), ["s-1", "s-2"], "123456789012", "us-east-1"
    )
    assert mapped == expected
    assert "raw AWS text" not in message
    assert "account 123456789012, region us-east-1" in message
    if expected == "SERVER_CONFLICT":
        assert message.startswith(
            "server(s) s-1, s-2 are already in an active DRS job"
        )


def test_an_unreachable_drs_is_said_in_our_words():
    error = EndpointConnectionError(endpoint_url="https://drs.internal")
    code, message = recovery_start_error(error, ["s-1"])
    assert code == "DRS_START_RECOVERY_FAILED"
    assert "drs.internal" not in message
