"""A wave of several protection groups, and a wave recorded empty
(issue 20).

The execution record is written as ``execute_recovery_plan`` writes it
(``protectionGroupIds``, the union ``serverIds``, ``groupServerIds``);
the engine runs the wave against the DRS simulator to its end.
"""

from typing import Any, Dict, List

import boto3
import pytest

import wave_recovery
from shared import clock
from tests.helpers import REGION, load_handler
from tests.unit.wave_engine_support import HUB, base_state, wave_engine

WAVE = [{"waveNumber": 1, "waveName": "ERP", "protectionGroupId": "pg-db"}]
STEP_SECONDS = 60
MAX_STEPS = 120  # every poll loop has a deadline


@pytest.fixture
def engine(monkeypatch):
    monkeypatch.setenv("DRS_MAX_SERVERS_PER_JOB", "3")
    with wave_engine(monkeypatch) as engine:
        clock.set_time_source(lambda: engine.sim.clock.now().timestamp())
        yield engine
    clock.reset_time_source()


def _recorded_wave(groups: Dict[str, List[str]]) -> Dict[str, Any]:
    """waves[0] as the start records a wave of these groups."""
    union = [s for ids in groups.values() for s in ids]
    wave: Dict[str, Any] = {
        "waveNumber": 1,
        "status": "PENDING",
        "servers": [],
        "protectionGroupId": next(iter(groups)),
        "protectionGroupIds": list(groups),
        "region": REGION,
        "accountContext": {"accountId": HUB, "isCurrentAccount": True},
        "serverIds": union,
    }
    if len(groups) > 1:
        wave["groupServerIds"] = groups
    return wave


def _run(engine, state) -> Dict[str, Any]:
    handler = load_handler("query-handler")
    for _ in range(MAX_STEPS):
        if state["status"] != "running" or state.get("wave_completed"):
            return state
        engine.advance(STEP_SECONDS)
        state = handler.lambda_handler(
            {"action": "poll_wave_status", "state": state}, None
        )
    raise AssertionError("the wave did not end within the deadline")


def test_a_wave_of_two_groups_runs_each_server_with_its_group_config(
    engine,
):
    # Given two groups with different launch settings, in one wave
    db, app = engine.ids("erp-db"), engine.ids("erp-app")
    engine.add_group(
        "pg-db", sourceServerIds=db, launchConfig={"copyTags": False}
    )
    engine.add_group(
        "pg-app", sourceServerIds=app, launchConfig={"copyTags": True}
    )
    wave = _recorded_wave({"pg-db": db, "pg-app": app})
    engine.add_record("exec-1", total_waves=1, waves=[wave])
    # When the wave starts and is polled to its end
    state = wave_recovery.start_wave_recovery(base_state(WAVE), 0)
    state = _run(engine, state)
    # Then it completed with every server of both groups launched
    record = engine.record("exec-1")["waves"][0]
    assert record["status"] == "COMPLETED", state.get("error")
    launched = {s["sourceServerId"] for s in record["servers"]}
    assert launched == set(db + app)
    assert {s["status"] for s in record["servers"]} == {"LAUNCHED"}
    # And the record shows both groups and the jobs over the union
    assert record["protectionGroupIds"] == ["pg-db", "pg-app"]
    assert sum(int(j["count"]) for j in record["jobs"]) == len(db + app)
    # And each server was configured from its own group
    drs = boto3.client("drs", region_name=REGION)
    for sid, expected in [(s, False) for s in db] + [(s, True) for s in app]:
        config = drs.get_launch_configuration(sourceServerID=sid)
        assert config["copyTags"] is expected, sid
    statuses = engine.groups.get_item(Key={"groupId": "pg-app"})["Item"]
    assert set(statuses["launchConfigStatus"]) == set(app)


def test_a_wave_recorded_without_servers_completes_empty(engine):
    # Given a wave recorded at the start with no server
    engine.add_group("pg-db", sourceServerIds=engine.ids("erp-db"))
    wave = _recorded_wave({"pg-db": []})
    engine.add_record("exec-1", total_waves=1, waves=[wave])
    # When the wave starts
    state = wave_recovery.start_wave_recovery(base_state(WAVE), 0)
    # Then it is COMPLETED at once with a reason, and no DRS job ran
    record = engine.record("exec-1")["waves"][0]
    assert record["status"] == "COMPLETED"
    assert "no server to recover" in record["statusReason"]
    assert record["serverIds"] == [] and record["jobs"] == []
    assert engine.sim.jobs(HUB, REGION) == []
    assert state["status"] == "running" and state["wave_completed"]
    assert state["wave_results"][0]["status"] == "COMPLETED"
