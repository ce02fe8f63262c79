"""A wave with a FAILED server is decided only when its DRS job ended,
so the record holds every server's final status (issue 16 item 2, the
failed-wave side of issue 15 defect 4)."""

from tests.helpers import REGION
from tests.unit.test_query_handler_poll_wave import TWO_WAVES, _poll
from tests.unit.test_query_handler_poll_wave import _started
from tests.unit.wave_engine_support import HUB, wave_engine

STEP_SECONDS = 10
MAX_SIMULATED_SECONDS = 3600


def _job(engine):
    (job,) = engine.sim.jobs(HUB, REGION)
    return job


def _until(engine, predicate) -> None:
    """Advance simulated time in steps until ``predicate(job)``."""
    for _ in range(MAX_SIMULATED_SECONDS // STEP_SECONDS):
        if predicate(_job(engine)):
            return
        engine.advance(STEP_SECONDS)
    raise AssertionError("the simulated job never reached the condition")


def _one_failed_while_running(job) -> bool:
    statuses = {s.launch_status for s in job.servers.values()}
    return job.status == "STARTED" and "FAILED" in statuses


def test_a_failed_server_fails_the_wave_once_the_job_ended(monkeypatch):
    # Given erp-db-01 fails to launch while erp-db-02 still launches
    faults = [{"type": "launch_failure", "server": "erp-db-01"}]
    with wave_engine(monkeypatch, faults=faults) as engine:
        state = _started(engine, TWO_WAVES)
        _until(engine, _one_failed_while_running)
        # When polled while the job still runs
        waiting = _poll(state)
        # Then the wave is not decided yet; the reason says why
        assert waiting["status"] == "running", waiting.get("error")
        assert "erp-db-01" in waiting["status_reason"]
        assert "waiting for 1 DRS job(s) to end" in waiting["status_reason"]
        assert engine.record("exec-1")["waves"][0]["status"] == "STARTED"
        # When the job ends and it is polled again
        _until(engine, lambda job: job.status == "COMPLETED")
        result = _poll(waiting)
        # Then the wave failed naming the server, and the record holds
        # every server's final status as DRS has it
        assert result["status"] == "failed", result
        assert result["error_code"] == "SERVER_LAUNCH_FAILED"
        assert "erp-db-01" in result["error"]
        job = _job(engine)
        truth = {sid: s.launch_status for sid, s in job.servers.items()}
        assert sorted(truth.values()) == ["FAILED", "LAUNCHED"]
        wave = engine.record("exec-1")["waves"][0]
        assert wave["status"] == "FAILED"
        assert {
            s["sourceServerId"]: s["status"] for s in wave["servers"]
        } == truth
        # And no next wave was started
        assert engine.calls("execution-handler") == []
