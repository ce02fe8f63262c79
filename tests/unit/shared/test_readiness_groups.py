"""One wave's members from several groups (shared.readiness_groups)."""

from shared.readiness_groups import _merge
from shared.readiness_inventory import WaveMembers

EAST = ("123456789012", "us-east-1")


def _part(group_id, servers, location=EAST, error=None):
    return WaveMembers(
        1, "ERP", {"groupId": group_id}, location, list(servers), error
    )


def test_the_union_has_no_repeats_and_keeps_each_servers_group():
    # Given two groups selecting an overlapping server
    parts = [_part("g1", ["s-1", "s-2"]), _part("g2", ["s-2", "s-3"])]
    # When the wave's members are merged
    merged = _merge(["g1", "g2"], parts)
    # Then the union is in group order, each server once, with its group
    assert merged.server_ids == ["s-1", "s-2", "s-3"]
    assert merged.group_server_ids == {"g1": ["s-1", "s-2"], "g2": ["s-3"]}
    assert merged.error is None and merged.location == EAST


def test_groups_in_two_regions_are_a_wave_error():
    # Given two groups of one wave listed in two regions
    west = ("123456789012", "us-west-2")
    parts = [_part("g1", ["s-1"]), _part("g2", ["s-2"], location=west)]
    # When merged
    merged = _merge(["g1", "g2"], parts)
    # Then the wave has an error naming both locations
    assert "one account and region" in merged.error
    assert "us-west-2" in merged.error


def test_a_group_error_is_the_waves_and_one_group_stays_as_is():
    # Given a wave whose second group does not exist
    parts = [_part("g1", ["s-1"]), _part("g2", [], None, "no such group")]
    # Then its error is the wave's
    assert _merge(["g1", "g2"], parts).error == "no such group"
    # And a wave of one group is merged unchanged, without group map
    single = _merge(["g1"], parts[:1])
    assert single.server_ids == ["s-1"] and single.group_server_ids is None
