"""The four functions the seeds move keep their names and signatures and
are importable from their handler's ``index`` (issue 16 item 8)."""

import inspect

import boto3
import pytest

from tests.helpers import REGION, load_handler
from tests.unit.wave_engine_support import HUB, base_state, wave_engine

ONE_WAVE = [
    {"waveNumber": 1, "waveName": "Databases", "protectionGroupId": "pg-db"}
]
# name -> (handler folder, the seed's parameters with their defaults)
EMPTY = inspect.Parameter.empty
SEED_SIGNATURES = {
    "start_wave_recovery": (
        "execution-handler",
        [("state", EMPTY), ("wave_number", EMPTY)],
    ),
    "apply_launch_config_before_recovery": (
        "execution-handler",
        [
            ("drs_client", EMPTY),
            ("server_ids", EMPTY),
            ("launch_config", EMPTY),
            ("region", EMPTY),
            ("protection_group", None),
        ],
    ),
    "poll_wave_status": ("query-handler", [("state", EMPTY)]),
    "query_drs_servers_by_tags": (
        "query-handler",
        [("region", EMPTY), ("tags", EMPTY), ("account_context", None)],
    ),
}


@pytest.mark.parametrize("name", sorted(SEED_SIGNATURES))
def test_seed_function_has_the_seed_signature(name):
    # Given the seed's parameters of the function
    folder, expected = SEED_SIGNATURES[name]
    # When it is imported from its handler's index
    function = getattr(load_handler(folder), name)
    params = list(inspect.signature(function).parameters.values())
    # Then its positional parameters are the seed's, in order, and any
    # other parameter is keyword-only with a default (seed calls work)
    positional = [
        (p.name, p.default)
        for p in params
        if p.kind == inspect.Parameter.POSITIONAL_OR_KEYWORD
    ]
    assert positional == expected
    extra = [p for p in params if p.name not in dict(expected)]
    for param in extra:
        assert param.kind == inspect.Parameter.KEYWORD_ONLY, param
        assert param.default is not EMPTY, param


@pytest.fixture
def engine(monkeypatch):
    with wave_engine(monkeypatch) as eng:
        yield eng


def test_seed_functions_run_a_wave_from_the_index_modules(engine):
    # Given a one-wave plan on the ERP database servers
    ids = engine.ids("erp-db")
    engine.add_group("pg-db", sourceServerIds=ids)
    engine.add_record("exec-1", total_waves=1)
    execution = load_handler("execution-handler")
    query = load_handler("query-handler")
    # When the wave is started and polled through the seeds' names
    state = execution.start_wave_recovery(base_state(ONE_WAVE), 0)
    assert state["status"] == "running", state.get("error")
    engine.advance()
    polled = query.poll_wave_status(state)
    # Then the wave's DRS job ran and the poll saw it complete
    assert polled["wave_completed"], polled.get("status_reason")
    jobs = [j for j in engine.sim.jobs(HUB, REGION) if j.type == "LAUNCH"]
    assert sorted(jobs[0].servers) == sorted(ids)


def test_query_drs_servers_by_tags_from_the_index(engine):
    # Given the sample scenario's ERP web servers (tagged Tier=Web)
    query = load_handler("query-handler")
    # When queried through the seed's name, positionally
    found = query.query_drs_servers_by_tags(
        REGION, {"Tier": "Web", "Application": "ERP"}, None
    )
    # Then exactly those servers are returned
    assert sorted(found) == sorted(engine.ids("erp-web"))


def test_apply_launch_config_before_recovery_applies_and_records(engine):
    # Given a group with a per-server override, stored
    ids = engine.ids("erp-app")
    group = engine.add_group(
        "pg-app",
        sourceServerIds=ids,
        servers=[{"sourceServerId": ids[0], "instanceType": "r5.large"}],
    )
    drs = boto3.client("drs", region_name=REGION)
    apply = load_handler("execution-handler")
    apply = apply.apply_launch_config_before_recovery
    # When the seed's helper applies the group defaults, positionally
    result = apply(drs, ids, {"instanceType": "c5.large"}, REGION, group)
    # Then every server is applied: the override wins for its server
    assert result.ok and result.to_dict()["applied"] == len(ids)
    ec2 = boto3.client("ec2", region_name=REGION)
    types = {}
    for sid in ids:
        template = drs.get_launch_configuration(sourceServerID=sid)[
            "ec2LaunchTemplateID"
        ]
        default = ec2.describe_launch_template_versions(
            LaunchTemplateId=template, Versions=["$Default"]
        )["LaunchTemplateVersions"][0]
        types[sid] = default["LaunchTemplateData"]["InstanceType"]
    assert types[ids[0]] == "r5.large"
    assert {types[sid] for sid in ids[1:]} == {"c5.large"}
    # And the outcome is recorded on the group, so a second call skips
    stored = engine.groups.get_item(Key={"groupId": "pg-app"})["Item"]
    assert set(stored["launchConfigStatus"]) == set(ids)
    again = apply(drs, ids, {"instanceType": "c5.large"}, REGION, stored)
    assert all(s.get("unchanged") for s in again.servers)


def test_apply_launch_config_before_recovery_without_a_group(engine):
    # Given no protection group (the seed's optional argument omitted)
    sid = engine.ids("erp-web")[0]
    drs = boto3.client("drs", region_name=REGION)
    apply = load_handler("execution-handler")
    # When applied / Then it works and records nothing
    result = apply.apply_launch_config_before_recovery(
        drs, [sid], {"copyPrivateIp": False}, REGION
    )
    assert result.ok and result.status_recorded is None
    assert (
        drs.get_launch_configuration(sourceServerID=sid)["copyPrivateIp"]
        is False
    )
