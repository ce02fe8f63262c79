"""A drill that ended while one of its DRS jobs still launches (a timed
out wave, a failure of the engine itself) is cleaned up once the job
ended: DRS refuses to terminate instances of servers in an active job and
would launch more after (issue 16 item 2, issue 15 defect 4)."""

from tests.unit.execution_lifecycle.test_cancel_truth import (
    _running_instances,
    _sim_job,
)
from tests.unit.execution_lifecycle.test_execution_control import (
    _running_with_job,
)

CLEANUP = "cleanup_drill"
LAUNCHED_SECONDS = 3600
TERMINATE_SECONDS = 600


def _ended_while_launching(lc, status, servers=3, **attrs):
    """A drill the engine ended ``status`` while its job still runs."""
    execution_id, job_id = _running_with_job(lc, servers=servers)
    lc.set_record(execution_id, status=status, **attrs)
    return execution_id, job_id


def test_a_timed_out_drill_is_cleaned_up_once_its_job_ended(lc):
    # Given a drill that timed out while its job still launches
    execution_id, job_id = _ended_while_launching(lc, "TIMEOUT")
    assert _sim_job(lc, job_id).status in ("PENDING", "STARTED")
    # When the engine asks for the drill cleanup
    answer = lc.handler(
        {"action": CLEANUP, "execution_id": execution_id}, None
    )
    # Then nothing is terminated yet: the cleanup waits for the job
    assert answer["cleanedUp"] is True
    assert "terminations" not in lc.record(execution_id)
    (queued,) = [c for c in lc.async_calls if c["action"] == CLEANUP]
    assert queued["execution_id"] == execution_id and queued["deadline"]
    # When the job ends (every server launched) and the worker runs
    lc.sim.clock.advance(LAUNCHED_SECONDS)
    lc.sim.tick()
    assert _sim_job(lc, job_id).status == "COMPLETED"
    (result,) = lc.deliver_async(CLEANUP)
    # Then every instance the job launched is terminated, recorded once
    assert result["cleanedUp"] is True
    record = lc.record(execution_id)
    (termination,) = record["terminations"]
    assert termination["terminatedBy"] == "drill cleanup after timeout"
    launched = [
        s.recovery_instance_id for s in _sim_job(lc, job_id).servers.values()
    ]
    assert sorted(termination["recoveryInstanceIds"]) == sorted(launched)
    assert "drillCleanupError" not in record
    lc.sim.clock.advance(TERMINATE_SECONDS)
    lc.sim.tick()
    assert _running_instances(lc, job_id) == []


def test_the_worker_requeues_itself_while_the_job_runs(lc):
    # Given a failed drill whose job still launches, its worker queued
    execution_id, job_id = _ended_while_launching(lc, "FAILED")
    lc.handler({"action": CLEANUP, "execution_id": execution_id}, None)
    (queued,) = [c for c in lc.async_calls if c["action"] == CLEANUP]
    lc.async_calls.remove(queued)
    # When the worker's slice of time runs out before the job ended
    import execution_settlement

    clock = iter([0.0, 10_000.0])
    result = execution_settlement.follow_drill_cleanup(
        queued, sleep=lambda _: None, now=lambda: next(clock)
    )
    # Then it terminated nothing and queued itself again
    assert result["activeJobs"] == [job_id]
    assert "terminations" not in lc.record(execution_id)
    assert [c["action"] for c in lc.async_calls] == [CLEANUP]


def test_a_recovery_or_completed_drill_is_never_cleaned_up(lc):
    # Given a failed RECOVERY whose job ended
    execution_id, _ = _ended_while_launching(
        lc, "FAILED", servers=1, isDrill=False, executionType="RECOVERY"
    )
    lc.sim.clock.advance(LAUNCHED_SECONDS)
    lc.sim.tick()
    ask = {"action": CLEANUP, "execution_id": execution_id}
    # When the cleanup is asked for it, and for it as a COMPLETED drill
    answers = [lc.handler(ask, None)]
    lc.set_record(
        execution_id, status="COMPLETED", isDrill=True, executionType="DRILL"
    )
    answers.append(lc.handler(ask, None))
    # Then both are refused: nothing queued, nothing terminated
    assert [a["cleanedUp"] for a in answers] == [False, False]
    assert lc.async_calls == []
    assert "terminations" not in lc.record(execution_id)
