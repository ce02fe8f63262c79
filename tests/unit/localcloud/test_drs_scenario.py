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


def _server_entry(data):
    return data["accounts"][0]["regions"]["us-east-1"]["source_servers"][0]


def _with_fault(**fault):
    return lambda d: d.update(faults=[{"type": "throttle", **fault}])


@pytest.mark.parametrize(
    "mutate, message",
    [
        (_with_fault(operation="DescribeJob"), r"faults\[0\]\.operation"),
        (
            lambda d: d.update(
                faults=[{"type": "launch_failure", "server": "nobody"}]
            ),
            r"faults\[0\]\.server: no source server 'nobody'",
        ),
        (_with_fault(account="999999999999"), r"faults\[0\]\.account"),
        (_with_fault(region="eu-west-3"), r"faults\[0\]\.region"),
        (
            _with_fault(account=SPOKE, region="us-east-1"),
            r"faults\[0\]\.account",
        ),
        (_with_fault(nth=0), r"faults\[0\]\.nth: expected 1 or more"),
        (_with_fault(rate=0.5, nth=2), r"faults\[0\]\.nth: not allowed"),
        (
            lambda d: d.update(faults=[{"type": "latency", "seconds": -1}]),
            r"faults\[0\]\.seconds: expected 0 or more",
        ),
        (
            lambda d: _server_entry(d).update(count=0),
            r"source_servers\[0\]\.count: expected 1 or more",
        ),
        (
            lambda d: _server_entry(d).update(count=2),
            r"source_servers\[0\]\.hostname: needs \{i\}",
        ),
        (
            lambda d: _server_entry(d).update(
                hardware={
                    "disks": [{"device": "/dev/a", "size_gib": 8, "x": 1}]
                }
            ),
            r"source_servers\[0\]\.hardware\.disks\[0\]\.x: unknown key",
        ),
        (
            lambda d: _server_entry(d).update(tags={1: "one"}),
            r"source_servers\[0\]\.tags: keys must be strings",
        ),
        (
            lambda d: d["accounts"][0].update(
                regions={"US East": {"source_servers": []}}
            ),
            r"accounts\[0\]\.regions\.US East: not an AWS region name",
        ),
    ],
    ids=[
        "operation-not-in-drs-model",
        "server-not-in-scenario",
        "account-not-in-scenario",
        "region-not-in-scenario",
        "account-not-in-scenario-with-region",
        "nth-below-one",
        "rate-and-nth",
        "negative-seconds",
        "count-below-one",
        "count-without-index",
        "unknown-disk-key",
        "non-string-tag-key",
        "bad-region-name",
    ],
)
def test_strict_scenario_errors_name_the_field(mutate, message):
    # Given a valid scenario with one bad value
    data = region_scenario([{"hostname": "db-1"}])
    mutate(data)
    # When / Then loading fails naming the field
    with pytest.raises(ScenarioError, match=message):
        scenario_from_dict(data)


def test_faults_naming_what_exists_load():
    # Given faults on a real operation, account, region and hostname
    data = region_scenario(
        [{"hostname": "web-{i:02d}", "count": 2}],
        faults=[
            {
                "type": "launch_failure",
                "server": "web-02",
                "account": HUB,
                "region": "us-east-1",
            },
            {"type": "throttle", "operation": "StartRecovery", "nth": 1},
            {"type": "latency", "rate": 0.5, "seconds": 0},
        ],
    )
    # When / Then it loads
    scenario = scenario_from_dict(data)
    assert [f.type for f in scenario.faults] == [
        "launch_failure",
        "throttle",
        "latency",
    ]


def test_a_fault_server_id_must_be_a_loaded_server(drs_factory):
    # Given a fault naming a well-formed source server id nobody has
    data = region_scenario(
        [{"hostname": "db-1"}],
        faults=[{"type": "launch_failure", "server": "s-0123456789abcdef0"}],
    )
    # When loaded into the simulator / Then it is a scenario error
    with pytest.raises(ScenarioError, match=r"faults\[0\]\.server"):
        drs_factory(data)
