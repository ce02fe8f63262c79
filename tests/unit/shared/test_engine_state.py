"""The typed orchestration state: JSON in, the same JSON out."""

import json
import random

import pytest

from shared.engine_state import JSON_KEYS, EngineState
from tests.unit.wave_engine_support import (
    HUB,
    base_state,
    drive,
    plan_event,
    wave_engine,
)

WAVES = [
    {"waveNumber": 1, "waveName": "Databases", "protectionGroupId": "pg-db"},
    {
        "waveNumber": 2,
        "waveName": "Web",
        "protectionGroupId": "pg-web",
        "pauseBeforeWave": True,
    },
]


def _round_trip(data):
    out = EngineState.from_json(data).to_json()
    assert out == data
    assert list(out) == list(data)  # the same keys in the same order
    assert json.dumps(out) == json.dumps(data)


def test_real_states_of_a_run_round_trip(monkeypatch):
    # Given the states of a paused then completed two-wave drill, and the
    # states the orchestration sent to the other functions
    with wave_engine(monkeypatch) as engine:
        engine.add_group("pg-db", sourceServerIds=engine.ids("erp-db"))
        engine.add_group("pg-web", sourceServerIds=engine.ids("erp-web"))
        states = drive(
            engine, "dr-orchestration-stepfunction", plan_event(WAVES)
        )
        sent = [c["payload"]["state"] for c in engine.invocations]
    assert states[-1]["status"] == "completed"
    assert sent
    # Then each comes back from the typed object key for key
    for data in states + sent:
        _round_trip(data)


def test_absent_keys_stay_absent_and_unknown_keys_ride_along():
    data = {"zeta": 1, "status": "running", "x": {"a": [1]}, "error": None}
    state = EngineState.from_json(data)
    assert state.extra == {"zeta": 1, "x": {"a": [1]}}
    assert state.plan_id is None and not state.has("plan_id")
    assert state.has("error") and state.error is None
    _round_trip(data)
    # A field set (even to None) appears after the keys it had
    state.job_id = None
    state.status = "failed"
    assert list(state.to_json()) == ["zeta", "status", "x", "error", "job_id"]
    assert state.to_json()["status"] == "failed"


def test_values_are_shared_not_copied():
    data = base_state(WAVES)
    state = EngineState.from_json(data)
    state.waves[0]["status"] = "STARTED"
    assert data["waves"][0]["status"] == "STARTED"


def test_the_camel_case_account_context_keeps_its_key():
    data = {"accountContext": {"accountId": HUB}, "account_context": None}
    state = EngineState.from_json(data)
    assert state.input_account_context == {"accountId": HUB}
    assert state.account_context is None
    _round_trip(data)


def test_write_to_makes_the_dict_passed_in_the_state():
    data = {"status": "running", "extra_key": 1}
    state = EngineState.from_json(data)
    state.set(status="paused", paused_before_wave=1)
    assert state.write_to(data) is data
    assert data == {
        "status": "paused",
        "extra_key": 1,
        "paused_before_wave": 1,
    }
    with pytest.raises(AttributeError):
        state.set(stauts="x")


def test_a_state_built_directly_has_the_fields_given():
    state = EngineState(status="running", total_waves=2)
    assert state.to_json() == {"status": "running", "total_waves": 2}


@pytest.mark.parametrize("seed", range(25))
def test_random_states_round_trip(seed):
    # Property-style: any subset of the known keys, in any order, mixed
    # with unknown keys, any JSON values (None included)
    rng = random.Random(seed)
    values = [None, 0, 3, True, False, "x", [], [1, {"a": None}], {"k": []}]
    keys = list(JSON_KEYS) + [f"unknown_{i}" for i in range(5)]
    rng.shuffle(keys)
    data = {k: rng.choice(values) for k in keys[: rng.randint(0, len(keys))]}
    _round_trip(data)
    state = EngineState.from_json(data)
    for key in JSON_KEYS:
        assert state.has(
            {"accountContext": "input_account_context"}.get(key, key)
        ) == (key in data)


def test_take_makes_the_object_held_the_new_state():
    # Given the object a caller holds, and the state a callee answered
    held = EngineState.from_json({"status": "running", "job_id": None})
    answered = EngineState.from_json({"status": "failed", "other": 1})
    # When the held object takes it
    held.take(answered)
    # Then it is that state, key for key, and independent of it
    assert held.to_json() == {"status": "failed", "other": 1}
    held.extra["more"] = 2
    assert "more" not in answered.to_json()


def test_the_first_inputs_account_context_wins():
    both = {"accountContext": {"a": 1}, "account_context": {"b": 2}}
    assert EngineState.from_json(both).given_account_context == {"a": 1}
    resumed = {"account_context": {"b": 2}}
    assert EngineState.from_json(resumed).given_account_context == {"b": 2}
