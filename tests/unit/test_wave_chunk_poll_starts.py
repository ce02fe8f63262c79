"""A poll starts queued chunks as soon as DRS frees capacity (issue 16
items 1-2): before the wave's records are read, during a long poll, and
again after a start while other chunks wait. Outcomes are asserted from
the simulator's own job history."""

import pytest

import wave_observation
import wave_recovery
from shared import clock
from tests.helpers import REGION
from tests.unit.wave_chunks_support import (
    chunk_engine,
    max_concurrent,
    poll_once,
    prepare_wave,
)
from tests.unit.wave_engine_support import HUB


@pytest.fixture(autouse=True)
def _restore_clock():
    yield
    clock.reset_time_source()


def _slow_first_write(monkeypatch, engine, seconds: int) -> None:
    """The poll's first records write takes ``seconds`` of DRS's time
    (longer than the poll interval: our clock is DRS's)."""
    real = wave_observation.write_servers
    writes = []

    def slow(*args, **kwargs):
        if not writes:
            engine.advance(seconds)
        writes.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(wave_observation, "write_servers", slow)


def test_capacity_freed_during_a_long_poll_is_used_by_that_poll(
    monkeypatch,
):
    # Given 8 servers in one wave, 3 servers per job, 1 job at once: one
    # job runs, two chunks wait for capacity
    with chunk_engine(monkeypatch, concurrent=1) as engine:
        state = prepare_wave(engine, engine.ids("erp-"))
        state = wave_recovery.start_wave_recovery(state, 0)
        engine.advance(100)
        assert len(engine.sim.jobs(HUB, REGION)) == 1
        # And a poll whose recording outlives the poll interval while
        # DRS ends the running job (our clock is DRS's)
        _slow_first_write(monkeypatch, engine, 1200)
        # When it polls once
        state = poll_once(state)
        # Then that poll saw the job end and started the next chunk
        jobs = engine.sim.jobs(HUB, REGION)
        assert len(jobs) == 2, [j.status for j in jobs]
        assert jobs[0].status == "COMPLETED"
        assert state["status"] == "running"
        # And never more than 1 job was active at once
        assert max_concurrent(jobs) == 1


def test_a_poll_that_started_a_chunk_starts_the_next_one_freed_meanwhile(
    monkeypatch,
):
    # Given 8 servers in one wave, 3 per job, 1 job at once (chunks of
    # 3, 3, 2), the first job ended: the next poll starts the second
    # chunk at once
    with chunk_engine(monkeypatch, concurrent=1) as engine:
        state = prepare_wave(engine, engine.ids("erp-"))
        state = wave_recovery.start_wave_recovery(state, 0)
        engine.advance(1200)
        # And its recording outlives the poll interval while DRS ends
        # that second job too (our clock is DRS's)
        _slow_first_write(monkeypatch, engine, 1200)
        # When it polls once
        state = poll_once(state)
        # Then that same poll started the third chunk as well
        jobs = engine.sim.jobs(HUB, REGION)
        assert len(jobs) == 3, [j.status for j in jobs]
        assert [j.status for j in jobs[:2]] == ["COMPLETED"] * 2
        assert state["status"] == "running"
        # And never more than 1 job was active at once
        assert max_concurrent(jobs) == 1
        # And the record holds every chunk's job
        chunks = engine.record("exec-1")["waves"][0]["jobs"]
        assert [c["status"] for c in chunks] == ["STARTED"] * 3


def test_queued_chunks_start_before_the_wave_records_are_read(
    monkeypatch,
):
    # Given 8 servers in one wave, 3 per job, 1 job at once, the running
    # job ended (capacity for the next chunk)
    with chunk_engine(monkeypatch, concurrent=1) as engine:
        state = prepare_wave(engine, engine.ids("erp-"))
        state = wave_recovery.start_wave_recovery(state, 0)
        engine.advance(1200)
        real = wave_observation.wave_servers
        jobs_at_read = []

        def reading(*args, **kwargs):
            jobs_at_read.append(len(engine.sim.jobs(HUB, REGION)))
            return real(*args, **kwargs)

        monkeypatch.setattr(wave_observation, "wave_servers", reading)
        # When one poll sees it
        state = poll_once(state)
        # Then the next chunk's job was started before the records were
        # read (DescribeJobs alone showed the freed capacity)
        assert jobs_at_read == [2]
        assert state["status"] == "running"
        # And the ended job's servers are recorded LAUNCHED
        servers = engine.record("exec-1")["waves"][0]["servers"]
        assert sum(s["status"] == "LAUNCHED" for s in servers) == 3


def test_capacity_freed_while_the_records_are_read_is_used_first(
    monkeypatch,
):
    # Given 8 servers in one wave, 3 per job, 1 job at once, the job
    # running, and a records read that outlives the poll interval while
    # DRS ends the job (our clock is DRS's)
    with chunk_engine(monkeypatch, concurrent=1) as engine:
        state = prepare_wave(engine, engine.ids("erp-"))
        state = wave_recovery.start_wave_recovery(state, 0)
        engine.advance(100)
        real_read = wave_observation.wave_servers
        real_write = wave_observation.write_servers
        jobs_at_write = []

        def slow_read(*args, **kwargs):
            engine.advance(1200)
            return real_read(*args, **kwargs)

        def counting(*args, **kwargs):
            jobs_at_write.append(len(engine.sim.jobs(HUB, REGION)))
            return real_write(*args, **kwargs)

        monkeypatch.setattr(wave_observation, "wave_servers", slow_read)
        monkeypatch.setattr(wave_observation, "write_servers", counting)
        # When it polls once
        state = poll_once(state)
        # Then the next chunk's job started before any record was written
        assert jobs_at_write and jobs_at_write[0] == 2
        jobs = engine.sim.jobs(HUB, REGION)
        assert len(jobs) == 2 and max_concurrent(jobs) == 1
        # And the ended job's servers are recorded LAUNCHED
        servers = engine.record("exec-1")["waves"][0]["servers"]
        assert sum(s["status"] == "LAUNCHED" for s in servers) == 3
