"""A poll whose recording outlives the poll interval looks at DRS again
(``wave_observation.fresher_view``): a job that ended meanwhile is
recorded and decided in the same poll, not one interval later."""

import pytest
from botocore.exceptions import ClientError

import wave_observation
import wave_recovery
from shared import clock
from tests.helpers import load_handler
from tests.unit.wave_engine_support import HUB, REGION, base_state, wave_engine

ONE_WAVE = [
    {"waveNumber": 1, "waveName": "Databases", "protectionGroupId": "pg-db"}
]
INTERVAL = 30  # base_state's current_wave_update_time


class FakeClock:
    """``shared.clock``'s source: wall time plus what a test adds."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def engine(monkeypatch):
    with wave_engine(monkeypatch) as eng:
        yield eng


@pytest.fixture
def fake_clock():
    source = FakeClock(clock.epoch_float())
    clock.set_time_source(source)
    yield source
    clock.reset_time_source()


def _started(engine):
    engine.add_group("pg-db", sourceServerIds=engine.ids("erp-db"))
    engine.add_record("exec-1", total_waves=1)
    state = wave_recovery.start_wave_recovery(base_state(ONE_WAVE), 0)
    assert state["status"] == "running", state.get("error")
    assert state["current_wave_update_time"] == INTERVAL
    return state


def _poll(state):
    handler = load_handler("query-handler")
    return handler.lambda_handler(
        {"action": "poll_wave_status", "state": state}, None
    )


def _slow_writes(monkeypatch, engine, fake_clock, seconds, drs_seconds):
    """The first record write of a poll takes ``seconds`` (the injected
    clock moves), during which DRS moves ``drs_seconds`` on."""
    real = wave_observation.write_servers
    calls = []

    def slow(*args, **kwargs):
        if not calls:
            fake_clock.now += seconds
            engine.advance(drs_seconds)
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(wave_observation, "write_servers", slow)
    return calls


def _describe_calls(engine):
    return engine.sim.call_count("DescribeJobs", HUB, REGION)


def test_a_job_ending_during_a_long_pass_is_decided_in_the_same_poll(
    engine, monkeypatch, fake_clock
):
    # Given a running wave whose servers are still converting
    state = _started(engine)
    engine.advance(100)
    # And a poll whose recording takes two poll intervals, while DRS
    # launches every server and ends the job
    calls = _slow_writes(monkeypatch, engine, fake_clock, 2 * INTERVAL, 1200)
    before = _describe_calls(engine)
    # When it polls once
    result = _poll(state)
    # Then the same poll read DRS again, recorded every server LAUNCHED
    # and completed the wave (the plan: one wave)
    assert _describe_calls(engine) - before == 2
    assert len(calls) == 2
    assert result["status"] == "completed", result.get("error")
    wave = engine.record("exec-1")["waves"][0]
    assert {s["status"] for s in wave["servers"]} == {"LAUNCHED"}
    assert all(s.get("instanceId") for s in wave["servers"])
    assert wave["jobs"][0]["jobStatus"] == "COMPLETED"
    # As DRS itself says
    job = next(j for j in engine.sim.jobs(HUB, REGION) if j.type == "LAUNCH")
    assert job.status == "COMPLETED"


def test_a_long_pass_with_nothing_ended_reads_drs_once_more_only(
    engine, monkeypatch, fake_clock
):
    # Given a running wave, and a poll whose recording takes two
    # intervals while DRS does not end the job
    state = _started(engine)
    engine.advance(100)
    calls = _slow_writes(monkeypatch, engine, fake_clock, 2 * INTERVAL, 10)
    before = _describe_calls(engine)
    # When it polls once
    result = _poll(state)
    # Then it read the jobs once more, found none ended: one pass
    assert _describe_calls(engine) - before == 2
    assert len(calls) == 1
    assert result["status"] == "running"
    job = next(j for j in engine.sim.jobs(HUB, REGION) if j.type == "LAUNCH")
    assert job.status != "COMPLETED"


def test_a_quick_pass_leaves_a_job_ended_meanwhile_to_the_next_poll(
    engine, monkeypatch, fake_clock
):
    # Given a running wave, and a poll whose recording is quick (under
    # one interval) while DRS ends the job
    state = _started(engine)
    engine.advance(100)
    calls = _slow_writes(monkeypatch, engine, fake_clock, 1, 1200)
    before = _describe_calls(engine)
    # When it polls once
    result = _poll(state)
    # Then it read DRS once and the wave goes on; the next poll ends it
    assert _describe_calls(engine) - before == 1
    assert len(calls) == 1
    assert result["status"] == "running"
    assert _poll(result)["status"] == "completed"


TWO_WAVES = ONE_WAVE + [
    {"waveNumber": 2, "waveName": "Apps", "protectionGroupId": "pg-app"}
]


def _two_waves_first_launched(engine):
    engine.add_group("pg-db", sourceServerIds=engine.ids("erp-db"))
    engine.add_group("pg-app", sourceServerIds=engine.ids("erp-app"))
    engine.add_record("exec-1", total_waves=2)
    state = wave_recovery.start_wave_recovery(base_state(TWO_WAVES), 0)
    assert state["status"] == "running", state.get("error")
    engine.advance(1200)  # every server of wave 1 LAUNCHED, its job ended
    return state


def _launch_jobs(engine):
    return [j for j in engine.sim.jobs(HUB, REGION) if j.type == "LAUNCH"]


def test_the_next_wave_starts_before_the_ended_waves_last_records(
    engine, monkeypatch
):
    # Given a two-wave plan whose first wave has launched every server
    state = _two_waves_first_launched(engine)
    real = wave_observation.write_servers
    jobs_at_write = []

    def counting(*args, **kwargs):
        jobs_at_write.append(len(_launch_jobs(engine)))
        return real(*args, **kwargs)

    monkeypatch.setattr(wave_observation, "write_servers", counting)
    real_read = wave_observation.wave_servers
    jobs_at_read = []

    def reading(*args, **kwargs):
        jobs_at_read.append(len(_launch_jobs(engine)))
        return real_read(*args, **kwargs)

    monkeypatch.setattr(wave_observation, "wave_servers", reading)
    # When one poll sees it
    result = _poll(state)
    # Then wave 2's job was started before wave 1's records were read
    # and written
    assert jobs_at_read == [2]
    assert jobs_at_write == [2]
    assert result["status"] == "running"
    assert result["current_wave_number"] == 1
    # And by the poll's end wave 1 is COMPLETED with every record final
    wave = engine.record("exec-1")["waves"][0]
    assert wave["status"] == "COMPLETED"
    assert {s["status"] for s in wave["servers"]} == {"LAUNCHED"}
    assert all(s.get("instanceId") for s in wave["servers"])
    assert wave["serverCounts"] == {"LAUNCHED": len(wave["servers"])}


def test_a_poll_failing_its_deferred_records_completes_on_retry_once(
    engine, monkeypatch
):
    # Given a two-wave plan whose first wave has launched every server,
    # and a poll that fails writing the ended wave's records after it
    # started the next wave
    state = _two_waves_first_launched(engine)
    real = wave_observation.write_servers

    def throttled(*args, **kwargs):
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException"}},
            "UpdateItem",
        )

    monkeypatch.setattr(wave_observation, "write_servers", throttled)
    with pytest.raises(Exception):
        _poll(dict(state))
    # Then the ended wave is not saved COMPLETED (its records are not)
    assert engine.record("exec-1")["waves"][0]["status"] != "COMPLETED"
    assert len(_launch_jobs(engine)) == 2
    # When the state machine retries the poll with the same state
    monkeypatch.setattr(wave_observation, "write_servers", real)
    result = _poll(state)
    # Then wave 1 completes with its records, and wave 2 runs on the one
    # job the first try started (its start is claimed once)
    assert result["status"] == "running", result.get("error")
    waves = engine.record("exec-1")["waves"]
    assert waves[0]["status"] == "COMPLETED"
    assert {s["status"] for s in waves[0]["servers"]} == {"LAUNCHED"}
    assert waves[1]["status"] == "STARTED"
    assert len(_launch_jobs(engine)) == 2


def test_a_wave_waiting_for_approval_is_marked_after_the_ended_wave(
    engine, monkeypatch
):
    # Given a two-wave plan whose second wave pauses before it starts,
    # and whose first wave has launched every server
    from shared import wave_graph

    waves = [dict(ONE_WAVE[0]), dict(TWO_WAVES[1], pauseBeforeWave=True)]
    engine.add_group("pg-db", sourceServerIds=engine.ids("erp-db"))
    engine.add_group("pg-app", sourceServerIds=engine.ids("erp-app"))
    engine.add_record("exec-1", total_waves=2)
    state = wave_recovery.start_wave_recovery(base_state(waves), 0)
    engine.advance(1200)
    real = wave_graph._mark
    seen = []

    def marking(state, index, status, reason, table):
        seen.append(
            (index, status, engine.record("exec-1")["waves"][0]["status"])
        )
        return real(state, index, status, reason, table)

    monkeypatch.setattr(wave_graph, "_mark", marking)
    # When one poll sees the first wave end
    result = _poll(state)
    # Then it pauses, and when the second wave was marked waiting the
    # first was already COMPLETED on the record (no moment shows a
    # waiting wave beside an ended one still STARTED)
    assert result["status"] == "paused"
    assert seen == [(1, "WAITING_APPROVAL", "COMPLETED")]
    servers = engine.record("exec-1")["waves"][0]["servers"]
    assert {s["status"] for s in servers} == {"LAUNCHED"}
