"""terminate-instances records DRS's truth first (issue 15, fault matrix
``spoke-role-broken``).

A drill whose account's role broke mid-wave ends FAILED with its servers
PENDING while its DRS job goes on launching. While access is refused,
nothing can be read or terminated: the record says the cleanup is pending
and what to do. Once the role is back, ``terminate-instances`` reads
every job of the execution again, records each server's final launch
status and recovery instance, refuses (409) while a job still launches,
then terminates every instance and clears the pending cleanup.
"""

from botocore.exceptions import ClientError

from tests.helpers import HUB_ACCOUNT
from tests.unit.execution_lifecycle.test_cancel_truth import (
    _record_statuses,
    _running_instances,
    _sim_job,
)
from tests.unit.execution_lifecycle.test_drill_cleanup_follow import (
    CLEANUP,
    LAUNCHED_SECONDS,
    TERMINATE_SECONDS,
    _ended_while_launching,
)

AWS_TEXT = "An error occurred ("
TERMINATE = "terminate_recovery_instances"
# The hub as the execution's named account: its calls use the function's
# own credentials, so the test can refuse and restore them.
CONTEXT = {"accountId": HUB_ACCOUNT, "isCurrentAccount": True}


def _refuse_access(monkeypatch):
    """Every DRS client of the execution-handler is refused, as when the
    account's role cannot be assumed."""
    import execution_drs

    def create_drs_client(*_args, **_kwargs):
        raise ClientError(
            {"Error": {"Code": "AccessDenied", "Message": "not trusted"}},
            "AssumeRole",
        )

    monkeypatch.setattr(execution_drs, "create_drs_client", create_drs_client)


def _truth(lc, job_id):
    job = _sim_job(lc, job_id)
    return {
        sid: (s.launch_status, s.recovery_instance_id)
        for sid, s in job.servers.items()
    }


def _failed_while_launching(lc):
    execution_id, job_id = _ended_while_launching(
        lc, "FAILED", errorCode="ACCOUNT_ACCESS_DENIED", accountContext=CONTEXT
    )
    return execution_id, job_id


def test_refused_access_is_a_forbidden_naming_the_account_and_action(
    lc, monkeypatch
):
    # Given a drill that failed while its job launches, its account's
    # role refused
    execution_id, _ = _failed_while_launching(lc)
    before = lc.record(execution_id)
    with monkeypatch.context() as patch:
        _refuse_access(patch)
        # When the operator asks to terminate its instances
        status, answer = lc.rest(
            "POST", f"/executions/{execution_id}/terminate-instances"
        )
    # Then 403 says which account and what to do, in our words
    assert (status, answer["error"]) == (403, "FORBIDDEN"), answer
    assert answer["accountId"] == HUB_ACCOUNT
    assert f"access to account {HUB_ACCOUNT} is denied" in answer["message"]
    assert (
        f"POST /executions/{execution_id}/terminate-instances"
        in answer["message"]
    )
    assert AWS_TEXT not in answer["message"]
    assert "not trusted" not in answer["message"]
    # And nothing was written
    assert lc.record(execution_id) == before


def test_the_pending_cleanup_is_recorded_with_the_account_and_action(
    lc, monkeypatch
):
    # Given a drill that failed while its job launches
    execution_id, _ = _failed_while_launching(lc)
    with monkeypatch.context() as patch:
        _refuse_access(patch)
        # When the engine's drill cleanup runs while access is refused
        lc.handler({"action": CLEANUP, "execution_id": execution_id}, None)
    # Then the record says the cleanup is pending, why and what to do
    error = lc.record(execution_id)["drillCleanupError"]
    assert f"access to account {HUB_ACCOUNT} is denied" in error
    assert f"/executions/{execution_id}/terminate-instances" in error
    assert AWS_TEXT not in error


def test_restored_access_records_the_truth_then_terminates_everything(
    lc, monkeypatch
):
    # Given a drill that failed while its job launches, its cleanup
    # pending because access was refused
    execution_id, job_id = _failed_while_launching(lc)
    with monkeypatch.context() as patch:
        _refuse_access(patch)
        lc.handler({"action": CLEANUP, "execution_id": execution_id}, None)
    lc.async_calls.clear()
    assert lc.record(execution_id)["drillCleanupError"]
    recorded = _record_statuses(lc.record(execution_id))
    assert "LAUNCHED" not in {status for status, _ in recorded.values()}
    # When access is back and the operator acts while the job launches
    lc.sim.clock.advance(15)
    lc.sim.tick()
    assert _sim_job(lc, job_id).status in ("PENDING", "STARTED")
    status, answer = lc.rest(
        "POST", f"/executions/{execution_id}/terminate-instances"
    )
    # Then 409 names the job, and the record already holds DRS's truth
    assert (status, answer["error"]) == (409, "INVALID_STATE"), answer
    assert answer["activeJobs"] == [job_id]
    record = lc.record(execution_id)
    assert _record_statuses(record) == _truth(lc, job_id)
    assert "terminations" not in record
    assert record["drillCleanupError"]
    # When the job has ended and the operator acts again
    lc.sim.clock.advance(LAUNCHED_SECONDS)
    lc.sim.tick()
    assert _sim_job(lc, job_id).status == "COMPLETED"
    status, answer = lc.rest(
        "POST", f"/executions/{execution_id}/terminate-instances"
    )
    # Then every server's final status and instance is recorded, every
    # instance is being terminated, and the pending cleanup is cleared
    assert status == 200, answer
    record = lc.record(execution_id)
    truth = _truth(lc, job_id)
    assert _record_statuses(record) == truth
    assert {s for s, _ in truth.values()} == {"LAUNCHED"}
    (termination,) = record["terminations"]
    assert termination["jobId"] == answer["terminateJobs"][0]["jobId"]
    assert sorted(termination["recoveryInstanceIds"]) == sorted(
        i for _, i in truth.values()
    )
    assert record.get("drillCleanupError") is None
    assert record["status"] == "FAILED"
    details = lc.direct("get_execution_details", {"executionId": execution_id})
    assert "drillCleanupError" not in details
    # And nothing is left running once DRS's TERMINATE job is done
    lc.sim.clock.advance(TERMINATE_SECONDS)
    lc.sim.tick()
    assert _running_instances(lc, job_id) == []
    assert lc.drs().describe_recovery_instances()["items"] == []


def test_a_completed_drill_keeps_its_recorded_truth(lc):
    # Given a drill whose wave completed, every server recorded LAUNCHED
    execution_id, job_id = _ended_while_launching(lc, "COMPLETED")
    lc.sim.clock.advance(LAUNCHED_SECONDS)
    lc.sim.tick()
    record = lc.record(execution_id)
    wave = dict(record["waves"][0], status="COMPLETED")
    wave["servers"] = [
        dict(
            s,
            status="LAUNCHED",
            recoveryInstanceId=_truth(lc, job_id)[s["sourceServerId"]][1],
        )
        for s in wave["servers"]
    ]
    lc.set_record(execution_id, waves=[wave])
    # When its instances are terminated
    answer = lc.direct(TERMINATE, {"executionId": execution_id})
    # Then they are, and the record's servers still say what DRS did
    assert answer["count"] == 3, answer
    assert _record_statuses(lc.record(execution_id)) == _truth(lc, job_id)


def test_every_job_of_a_wave_run_as_several_is_recorded_and_terminated(lc):
    # Given a failed drill whose one wave ran as two DRS jobs (chunks),
    # its servers recorded PENDING
    ids = lc.servers(3)
    lc.plan("p1", ("g1", ids))
    execution_id = lc.start("p1")
    jobs = [
        lc.drs().start_recovery(
            isDrill=True, sourceServers=[{"sourceServerID": s} for s in part]
        )["job"]["jobID"]
        for part in (ids[:2], ids[2:])
    ]
    wave = dict(
        lc.record(execution_id)["waves"][0],
        status="FAILED",
        serverIds=ids,
        servers=[{"sourceServerId": s, "status": "PENDING"} for s in ids],
        jobs=[
            {"chunk": 0, "offset": 0, "count": 2, "status": "STARTED"},
            {"chunk": 1, "offset": 2, "count": 1, "status": "STARTED"},
        ],
    )
    for chunk, job_id in zip(wave["jobs"], jobs):
        chunk["jobId"] = job_id
    wave.pop("jobId", None)
    lc.set_record(execution_id, status="FAILED", waves=[wave])
    lc.sim.clock.advance(LAUNCHED_SECONDS)
    lc.sim.tick()
    # When the operator terminates its instances
    answer = lc.direct(TERMINATE, {"executionId": execution_id})
    # Then every server of both jobs is recorded as DRS says
    assert answer["count"] == 3, answer
    truth = {**_truth(lc, jobs[0]), **_truth(lc, jobs[1])}
    record = lc.record(execution_id)
    assert _record_statuses(record) == truth
    # And every instance of both jobs is being terminated
    (termination,) = record["terminations"]
    assert sorted(termination["recoveryInstanceIds"]) == sorted(
        i for _, i in truth.values()
    )
