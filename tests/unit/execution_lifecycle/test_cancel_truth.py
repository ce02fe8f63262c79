"""A cancel follows its jobs to their end, records DRS's truth and, for
a drill, terminates what launched (issue 15, defect 4)."""

from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.exceptions import ClientError
from typing import Dict

from tests.helpers import HUB_ACCOUNT, REGION
from tests.unit.execution_lifecycle.test_execution_control import (
    SETTLE,
    _running_with_job,
)


def _sim_job(lc, job_id: str):
    """A job as the DRS simulator records it."""
    jobs = lc.sim.jobs(HUB_ACCOUNT, REGION)
    (job,) = [j for j in jobs if j.job_id == job_id]
    return job


def _record_statuses(record) -> Dict[str, tuple]:
    return {
        s["sourceServerId"]: (s.get("status"), s.get("recoveryInstanceId"))
        for s in record["waves"][0]["servers"]
    }


def _running_instances(lc, job_id: str) -> list:
    """EC2 instances of the job's recovery instances not terminated."""
    job = _sim_job(lc, job_id)
    ids = [s.recovery_instance_id for s in job.servers.values()]
    ids = [i for i in ids if i]
    if not ids:
        return []
    found = boto3.client("ec2", region_name=REGION).describe_instances(
        InstanceIds=ids
    )
    return [
        i["InstanceId"]
        for r in found["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] not in ("terminated", "shutting-down")
    ]


def test_concurrent_cancels_of_a_drill_record_drs_truth_and_clean_up(lc):
    # Given a running drill whose wave-1 job of 3 servers is launching
    execution_id, job_id = _running_with_job(lc, servers=3)
    # When 10 cancels arrive at once
    with ThreadPoolExecutor(10) as pool:
        answers = list(
            pool.map(
                lambda _: lc.direct(
                    "cancel_execution", {"executionId": execution_id}
                ),
                range(10),
            )
        )
    # Then every answer is CANCELLING (the job still runs)
    assert {a["status"] for a in answers} == {"CANCELLING"}, answers
    # When the job ends in DRS (its servers launched) and the queued
    # settle workers run
    lc.sim.clock.advance(3600)
    lc.sim.tick()
    assert _sim_job(lc, job_id).status == "COMPLETED"
    lc.deliver_async(SETTLE)
    # Then the execution is CANCELLED and the record's per-server
    # statuses and recovery instances are DRS's
    record = lc.record(execution_id)
    assert record["status"] == "CANCELLED"
    job = _sim_job(lc, job_id)
    truth = {
        sid: (s.launch_status, s.recovery_instance_id)
        for sid, s in job.servers.items()
    }
    assert {v[0] for v in truth.values()} == {"LAUNCHED"}
    assert _record_statuses(record) == truth
    assert record["waves"][0]["status"] == "CANCELLED"
    # And one TERMINATE job of those instances was started and recorded
    (termination,) = record["terminations"]
    assert sorted(termination["recoveryInstanceIds"]) == sorted(
        v[1] for v in truth.values()
    )
    terminate = _sim_job(lc, termination["jobId"])
    assert terminate.type == "TERMINATE"
    # And once it ran, no recovery instance of the drill is left running
    lc.sim.clock.advance(600)
    lc.sim.tick()
    assert _sim_job(lc, termination["jobId"]).status == "COMPLETED"
    assert _running_instances(lc, job_id) == []
    # And exactly one EXECUTION_CANCELLED was published
    events = [
        n["MessageAttributes"]["eventType"]["Value"]
        for n in lc.notifications()
    ]
    assert events.count("EXECUTION_CANCELLED") == 1


def test_a_cancel_after_the_job_ended_records_truth_at_once(lc):
    # Given a running drill whose job already ended (servers launched)
    execution_id, job_id = _running_with_job(lc, servers=2)
    lc.sim.clock.advance(3600)
    lc.sim.tick()
    # When it is cancelled
    body = lc.direct("cancel_execution", {"executionId": execution_id})
    # Then it is CANCELLED at once with DRS's statuses and the drill's
    # instances are being terminated
    assert body["status"] == "CANCELLED"
    record = lc.record(execution_id)
    statuses = {v[0] for v in _record_statuses(record).values()}
    assert statuses == {"LAUNCHED"}
    assert len(record["terminations"]) == 1
    lc.sim.clock.advance(600)
    lc.sim.tick()
    assert _running_instances(lc, job_id) == []


def test_a_cancelled_recovery_keeps_its_instances(lc):
    # Given a running RECOVERY (not a drill) whose job ended
    execution_id, job_id = _running_with_job(lc, servers=2)
    lc.set_record(execution_id, isDrill=False, executionType="RECOVERY")
    lc.sim.clock.advance(3600)
    lc.sim.tick()
    # When it is cancelled
    body = lc.direct("cancel_execution", {"executionId": execution_id})
    # Then the truth is recorded and nothing is terminated
    assert body["status"] == "CANCELLED"
    record = lc.record(execution_id)
    assert {v[0] for v in _record_statuses(record).values()} == {"LAUNCHED"}
    assert "terminations" not in record
    assert len(_running_instances(lc, job_id)) == 2


def test_a_failed_drill_cleanup_is_recorded_in_our_words(lc, monkeypatch):
    # Given a running drill whose job ended; DRS refuses the terminate
    execution_id, _job_id = _running_with_job(lc, servers=1)
    lc.sim.clock.advance(3600)
    lc.sim.tick()
    import execution_settlement

    def refused(*_args, **_kwargs):
        raise ClientError(
            {"Error": {"Code": "InternalServerException", "Message": "x"}},
            "TerminateRecoveryInstances",
        )

    monkeypatch.setattr(
        execution_settlement, "terminate_recovery_instances", refused
    )
    # When it is cancelled
    body = lc.direct("cancel_execution", {"executionId": execution_id})
    # Then it is CANCELLED and the details say the cleanup failed, in our
    # words, and how to finish it
    assert body["status"] == "CANCELLED"
    details = lc.direct("get_execution_details", {"executionId": execution_id})
    assert details["status"] == "CANCELLED"
    assert details["drillCleanupError"] == (
        "terminating the drill's recovery instances failed "
        "(ClientError); run terminate-instances for this execution"
    )
