"""A plan's dependency graph as the API sees it (issue 17): the answer's
``graph`` (linear or not, roots, longest chain) on create, update, get
and list; a ``dependsOnWaves`` naming an unknown wave, the wave itself,
or closing a cycle is a 400 with a machine-readable ``reason``."""

import pytest

from tests.unit.data_management.test_recovery_plans import (
    _three_tier,
    _waves,
)


def test_a_linear_plan_is_reported_linear_on_every_answer(dm):
    # Given the three-tier plan (db <- app <- web, a chain)
    ids = _three_tier(dm)
    # When it is created, read, listed
    created = dm.direct(
        "create_recovery_plan", {"planName": "P", "waves": _waves(ids)}
    )
    status, got = dm.rest("GET", f"/recovery-plans/{created['planId']}")
    _, listed = dm.rest("GET", "/recovery-plans")
    # Then every answer says the plan is linear
    expected = {"linear": True, "roots": [1], "longestChain": [1, 2, 3]}
    assert created["graph"] == expected
    assert status == 200 and got["graph"] == expected
    assert listed["plans"][0]["graph"] == expected


def test_an_update_that_forks_the_plan_is_reported_as_a_graph(dm):
    # Given the linear plan
    ids = _three_tier(dm)
    created = dm.direct(
        "create_recovery_plan", {"planName": "P", "waves": _waves(ids)}
    )
    # When web is made to depend on db only (app and web run together)
    waves = _waves(ids)
    waves[2]["dependsOnWaves"] = [1]
    status, updated = dm.rest(
        "PUT",
        f"/recovery-plans/{created['planId']}",
        {"waves": waves, "version": created["version"]},
    )
    # Then the answer names the fork: not linear, one root, chain of two
    assert status == 200, updated
    assert updated["graph"] == {
        "linear": False,
        "roots": [1],
        "longestChain": [1, 2],
    }


@pytest.mark.parametrize(
    "depends, field, reason",
    [
        ({0: [7]}, "waves[0].dependsOnWaves", "UNKNOWN_WAVE_DEPENDENCY"),
        ({1: [2]}, "waves[1].dependsOnWaves", "SELF_WAVE_DEPENDENCY"),
        ({0: [3]}, "waves[0].dependsOnWaves", "WAVE_DEPENDENCY_CYCLE"),
    ],
)
def test_a_bad_dependency_is_a_400_with_a_reason(dm, depends, field, reason):
    # Given valid groups and a plan whose dependsOnWaves is broken
    ids = _three_tier(dm)
    waves = _waves(ids)
    for index, named in depends.items():
        waves[index]["dependsOnWaves"] = named
    # When it is posted
    status, answer = dm.rest(
        "POST", "/recovery-plans", {"planName": "P", "waves": waves}
    )
    # Then 400 VALIDATION_ERROR names the field and the reason; no plan
    assert status == 400, answer
    assert answer["error"] == "VALIDATION_ERROR"
    assert answer["reason"] == reason
    assert answer["field"].startswith("waves[")
    if reason != "WAVE_DEPENDENCY_CYCLE":
        assert answer["field"] == field
    assert dm.direct("list_recovery_plans")["count"] == 0
