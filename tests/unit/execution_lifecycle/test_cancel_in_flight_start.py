"""A cancel while the next wave's start is in flight (issue 15, fault
matrix ``cancel-between-waves``): the wave was claimed while RUNNING, so
its start may still start a DRS job; the cancel waits for that job to be
recorded and followed, and never ends before it."""

from shared import clock
from shared.wave_state import save_wave
from tests.helpers import HUB_ACCOUNT, REGION
from tests.unit.execution_lifecycle.test_execution_control import SETTLE


def _claimed_second_wave(lc):
    """A RUNNING execution: wave 1 completed, wave 2 claimed (STARTED,
    no job yet) by a start that is still running."""
    first, second = lc.servers(1), lc.servers(1, 1)
    lc.plan("p1", ("g1", first), ("g2", second))
    execution_id = lc.start("p1")
    waves = lc.record(execution_id)["waves"]
    done = dict(waves[0], status="COMPLETED", servers=[])
    claimed = dict(waves[1], status="STARTED", startTime=clock.iso_now())
    lc.set_record(execution_id, status="RUNNING", waves=[done, claimed])
    lc.notifications()
    return execution_id, second


def test_a_cancel_waits_for_a_claimed_wave_start_and_records_its_job(lc):
    # Given wave 2 claimed by a start still in flight
    execution_id, servers = _claimed_second_wave(lc)
    # When the execution is cancelled
    body = lc.direct("cancel_execution", {"executionId": execution_id})
    # Then it does not end yet: the settle worker is queued to re-check
    assert body["status"] == "CANCELLING"
    assert [c for c in lc.async_calls if c["action"] == SETTLE]
    # When the start then starts its DRS job and records it
    job = lc.drs().start_recovery(
        isDrill=True, sourceServers=[{"sourceServerID": s} for s in servers]
    )["job"]
    started = {
        "jobId": job["jobID"],
        "region": REGION,
        "servers": [
            {"sourceServerId": s, "status": "PENDING"} for s in servers
        ],
    }
    save_wave(execution_id, 1, started)
    # And DRS ends the job, then the settle worker re-checks
    lc.sim.clock.advance(3600)
    lc.sim.tick()
    (result,) = lc.deliver_async(SETTLE)
    # Then the execution is CANCELLED with that job recorded and its
    # servers as DRS reports them
    assert result["status"] == "CANCELLED"
    record = lc.record(execution_id)
    assert record["waves"][1]["jobId"] == job["jobID"]
    (truth,) = [
        j for j in lc.sim.jobs(HUB_ACCOUNT, REGION) if j.job_id == job["jobID"]
    ]
    recorded = {
        s["sourceServerId"]: s["status"] for s in record["waves"][1]["servers"]
    }
    assert recorded == {
        sid: s.launch_status for sid, s in truth.servers.items()
    }


def test_a_claim_older_than_any_start_does_not_hold_the_cancel(lc):
    # Given wave 2 claimed by a start that ended long ago without a job
    execution_id, _servers = _claimed_second_wave(lc)
    record = lc.record(execution_id)
    stale = dict(record["waves"][1], startTime="2020-01-01T00:00:00Z")
    lc.set_record(execution_id, waves=[record["waves"][0], stale])
    # When the execution is cancelled
    body = lc.direct("cancel_execution", {"executionId": execution_id})
    # Then it is CANCELLED at once, the unstarted wave CANCELLED
    assert body["status"] == "CANCELLED"
    record = lc.record(execution_id)
    assert [w["status"] for w in record["waves"]] == [
        "COMPLETED",
        "CANCELLED",
    ]
