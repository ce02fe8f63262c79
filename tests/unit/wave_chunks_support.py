"""Helpers of the chunked-wave tests (``test_wave_chunks``,
``test_wave_chunk_poll_starts``): a wave of the sample scenario's 8 hub
servers with small quotas (3 servers per job), polled as the state
machine polls it, and the simulator's job history read back."""

from typing import Any, Dict, List

from shared import clock
from tests.helpers import load_handler
from tests.unit.wave_engine_support import base_state, wave_engine

ONE_WAVE = [
    {"waveNumber": 1, "waveName": "ERP", "protectionGroupId": "pg-erp"},
]
STEP_SECONDS = 60  # one poll a simulated minute (the wave takes ~20)
MAX_STEPS = 100  # 100 simulated minutes: every poll loop has a deadline


def chunk_engine(monkeypatch, concurrent: int, faults=None):
    monkeypatch.setenv("DRS_MAX_SERVERS_PER_JOB", "3")
    monkeypatch.setenv("DRS_MAX_CONCURRENT_JOBS", str(concurrent))
    monkeypatch.setenv("DRS_MAX_SERVERS_IN_ALL_JOBS", "500")
    return wave_engine(monkeypatch, faults=faults)


def follow_sim_clock(engine) -> None:
    """Our clock is the simulator's (deferrals, claims, timeouts)."""
    clock.set_time_source(lambda: engine.sim.clock.now().timestamp())


def prepare_wave(engine, servers: List[str]) -> Dict[str, Any]:
    follow_sim_clock(engine)
    engine.add_group("pg-erp", sourceServerIds=servers)
    engine.add_record("exec-1", total_waves=1)
    return base_state(ONE_WAVE)


def poll_once(state):
    handler = load_handler("query-handler")
    return handler.lambda_handler(
        {"action": "poll_wave_status", "state": state}, None
    )


def run_wave(engine, state, on_step=None) -> List[Dict[str, Any]]:
    """Poll as the state machine would until the state ends."""
    states = [state]
    for _ in range(MAX_STEPS):
        if states[-1]["status"] != "running":
            return states
        engine.advance(STEP_SECONDS)
        if on_step:
            on_step()
        states.append(poll_once(states[-1]))
    raise AssertionError("the wave did not end within the deadline")


def max_concurrent(jobs) -> int:
    """The most jobs active at once, from the simulator's job history."""
    moments = []
    for job in jobs:
        moments.append((job.created, 1))
        if job.ended is not None:
            moments.append((job.ended, -1))
    active = peak = 0
    for _, change in sorted(moments, key=lambda m: (m[0], m[1])):
        active += change
        peak = max(peak, active)
    return peak
