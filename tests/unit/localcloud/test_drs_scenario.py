"""Scenario loading: the sample file, JSON, and clear errors."""

import json

import pytest
from localcloud.scenario import (
    DEFAULT_SCENARIO,
    ScenarioError,
    load_scenario,
    scenario_from_dict,
)

from .conftest import HUB, SPOKE, region_scenario


def test_sample_scenario_declares_three_tiers_and_a_spoke():
    # Given / When the shipped sample
    scenario = load_scenario(DEFAULT_SCENARIO)
    # Then the hub holds 2 database, 3 application and 3 web servers
    hub_servers = scenario.hub.regions[0].source_servers
    tiers = [s.tags["Tier"] for s in hub_servers]
    assert scenario.hub.account_id == HUB
    assert scenario.hub.regions[0].name == "us-east-1"
    assert tiers.count("Database") == 2
    assert tiers.count("Application") == 3
    assert tiers.count("Web") == 3
    assert all(s.tags["Application"] == "ERP" for s in hub_servers)
    # And the spoke exposes its cross-account role and ExternalId
    (spoke,) = scenario.spokes
    assert spoke.account_id == SPOKE
    assert spoke.cross_account_role == "DRSOrchestrationCrossAccountRole"
    assert spoke.external_id
    portal = spoke.regions[0].source_servers
    assert {s.tags["Application"] for s in portal} == {"Portal"}


def test_json_scenario_loads_like_yaml(tmp_path):
    # Given a JSON scenario with a fault and a counted server entry
    data = region_scenario(
        [{"hostname": "web-{i:03d}", "count": 3}],
        faults=[{"type": "throttle", "operation": "DescribeJobs", "nth": 2}],
    )
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    # When it is loaded
    scenario = load_scenario(path)
    # Then hostnames are expanded and the fault is kept
    names = [s.hostname for s in scenario.hub.regions[0].source_servers]
    assert names == ["web-001", "web-002", "web-003"]
    assert scenario.faults[0].nth == 2
    assert scenario.durations["snapshot"] == (10.0, 20.0)


@pytest.mark.parametrize(
    "mutate, key",
    [
        (
            lambda d: d["accounts"][0]["regions"]["us-east-1"][
                "source_servers"
            ][0].update(replication_state="BROKEN"),
            "accounts[0].regions.us-east-1.source_servers[0]"
            ".replication_state",
        ),
        (
            lambda d: d["accounts"][0].update(id="12345"),
            "accounts[0].id",
        ),
        (
            lambda d: d["accounts"][0].update(colour="blue"),
            "accounts[0].colour",
        ),
        (lambda d: d.update(faults=[{"type": "meteor"}]), "faults[0].type"),
        (
            lambda d: d["accounts"][0]["regions"]["us-east-1"][
                "source_servers"
            ][0].update(subnet="nowhere"),
            "source_servers[0].subnet",
        ),
        (lambda d: d.update(durations={"launch": "soon"}), "durations.launch"),
    ],
)
def test_bad_scenario_names_the_offending_key(mutate, key):
    # Given a valid scenario with one bad value
    data = region_scenario([{"hostname": "db-1"}])
    mutate(data)
    # When / Then loading fails naming the key
    with pytest.raises(
        ScenarioError,
        match=key.replace(".", r"\.").replace("[", r"\[").replace("]", r"\]"),
    ):
        scenario_from_dict(data)


def test_bad_file_names_the_file(tmp_path):
    # Given a YAML file without a hub account
    path = tmp_path / "bad.yaml"
    path.write_text("accounts: []\n")
    # When / Then the error names the file and the key
    with pytest.raises(ScenarioError, match=r"bad\.yaml: accounts"):
        load_scenario(path)
