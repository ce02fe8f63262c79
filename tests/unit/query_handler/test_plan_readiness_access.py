"""Readiness access check: the spoke's role with its ExternalId, and DRS
initialized in each account/region a plan uses."""

from tests.helpers import REGION
from tests.unit.query_handler.conftest import SPOKE, register_spoke
from tests.unit.query_handler.readiness_support import (
    check,
    put_group,
    put_plan,
    readiness,
)


def spoke_plan(world) -> None:
    """Plan p2: wave 1 the spoke's Web servers (its account's role)."""
    put_group(world, "pg-spoke", {"Tier": "Web"}, accountId=SPOKE)
    put_plan(world, "p2", ["pg-spoke"])


def test_spoke_plan_with_the_right_external_id_is_ready(
    small_world, enforce_external_id
):
    # Given a plan of the spoke's servers, the role registered rightly
    spoke_plan(small_world)
    # When the readiness is asked
    report = readiness(small_world, "p2")
    # Then the spoke was reached and its servers judged
    assert report["status"] == "READY", report
    assert small_world.sim.call_count("DescribeSourceServers", SPOKE) == 1
    assert small_world.sim.call_count("GetLaunchConfiguration", SPOKE) == 3


def test_wrong_external_id_is_not_ready(small_world, enforce_external_id):
    # Given the spoke registered with an ExternalId its role refuses
    register_spoke(
        small_world.tables["TARGET_ACCOUNTS_TABLE"], external_id="wrong"
    )
    spoke_plan(small_world)
    # When the readiness is asked
    report = readiness(small_world, "p2")
    # Then access is NOT_READY, naming the account and the ExternalId
    access = check(report, "access")
    assert report["status"] == "NOT_READY"
    assert access["status"] == "NOT_READY"
    assert f"account {SPOKE}" in access["message"]
    assert "ExternalId" in access["message"]
    assert access["resources"][0]["resource"] == {
        "accountId": SPOKE,
        "region": REGION,
    }
    # And the other checks do not repeat it
    assert check(report, "membership")["status"] == "READY"
    assert small_world.sim.call_count("DescribeSourceServers", SPOKE) == 0


def test_drs_not_initialized_is_not_ready(small_world):
    # Given a group in a region where DRS is not initialized
    put_group(small_world, "pg-west", {"Tier": "Web"}, region="us-west-2")
    put_plan(small_world, "p3", ["pg-west"])
    # When the readiness is asked
    report = readiness(small_world, "p3")
    # Then access names the uninitialized region
    access = check(report, "access")
    assert access["status"] == "NOT_READY"
    assert "DRS is not initialized" in access["message"]
    assert "us-west-2" in access["message"]
