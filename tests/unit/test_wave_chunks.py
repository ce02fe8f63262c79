"""A wave runs as several DRS jobs within the quotas (issue 16 items 1-2).

The quotas are deployment settings (``DRS_MAX_*``); here they are small
(3 servers per job) so the sample scenario's 8 hub servers make a wave of
3 jobs. Outcomes are asserted from the simulator's own job history.
"""

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import chunk_starts
import wave_recovery
from shared import clock
from tests.helpers import REGION, load_handler
from tests.unit.wave_engine_support import HUB
from tests.unit.wave_chunks_support import (
    MAX_STEPS,
    STEP_SECONDS,
    chunk_engine,
    max_concurrent,
    poll_once,
    prepare_wave,
    run_wave,
)


@pytest.fixture(autouse=True)
def _restore_clock():
    yield
    clock.reset_time_source()


def _no_retry_drs():
    """A DRS client that does not retry, so a throttle reaches us."""
    config = Config(retries={"mode": "standard", "total_max_attempts": 1})
    return boto3.client("drs", region_name=REGION, config=config)


def test_a_wave_runs_as_jobs_within_the_concurrent_job_quota(monkeypatch):
    # Given 8 servers in one wave, 3 servers per job, 2 jobs at once
    with chunk_engine(monkeypatch, concurrent=2) as engine:
        servers = engine.ids("erp-")
        state = prepare_wave(engine, servers)
        # When the wave starts
        state = wave_recovery.start_wave_recovery(state, 0)
        # Then two jobs of 3 servers run and the third waits for capacity
        jobs = engine.sim.jobs(HUB, REGION)
        assert sorted(len(j.servers) for j in jobs) == [3, 3]
        wave = engine.record("exec-1")["waves"][0]
        assert [j["status"] for j in wave["jobs"]] == [
            "STARTED",
            "STARTED",
            "QUEUED",
        ]
        assert wave["status"] == "STARTED"
        # When it is polled until it ends
        states = run_wave(engine, state)
        # Then it completed with every server launched
        assert (
            states[-1]["status"] == "running" or states[-1]["wave_completed"]
        )
        record = engine.record("exec-1")
        wave = record["waves"][0]
        assert wave["status"] == "COMPLETED", states[-1].get("error")
        assert {s["status"] for s in wave["servers"]} == {"LAUNCHED"}
        # And DRS ran exactly 3 jobs covering each server once
        jobs = engine.sim.jobs(HUB, REGION)
        assert len(jobs) == 3
        launched = [sid for j in jobs for sid in j.servers]
        assert sorted(launched) == sorted(servers)
        assert {j.tags["DRSOrchJobChunk"] for j in jobs} == {"0", "1", "2"}
        # And never more than 2 jobs were active at once
        assert max_concurrent(jobs) == 2
        # And the state carries counts only
        entry = states[-1]["wave_results"][0]
        assert entry["launchedCount"] == 8 and entry["jobCount"] == 3
        # And the execution's details show the wave's jobs
        details = load_handler("execution-handler").lambda_handler(
            {
                "operation": "get_execution_details",
                "body": {"executionId": "exec-1"},
            },
            None,
        )
        (shown,) = details["waves"]
        assert [j["serverCount"] for j in shown["jobs"]] == [3, 3, 2]
        assert sorted(shown["jobIds"]) == sorted(j.job_id for j in jobs)
        assert {j["jobStatus"] for j in shown["jobs"]} == {"COMPLETED"}


def test_jobs_started_outside_the_plan_count_against_the_quota(
    monkeypatch,
):
    # Given a job started in the DRS console for one server not in the
    # wave, and a quota of 2 active jobs
    with chunk_engine(monkeypatch, concurrent=2) as engine:
        outside = engine.ids("erp-db")[:1]
        servers = [s for s in engine.ids("erp-") if s not in outside]
        state = prepare_wave(engine, servers)
        boto3.client("drs", region_name=REGION).start_recovery(
            sourceServers=[{"sourceServerID": outside[0]}], isDrill=True
        )
        # When the wave of 7 servers (3 jobs) starts
        wave_recovery.start_wave_recovery(state, 0)
        # Then only one of its jobs started: the console's job counts
        ours = [
            j
            for j in engine.sim.jobs(HUB, REGION)
            if j.tags.get("DRSOrchExecutionId") == "exec-1"
        ]
        assert len(ours) == 1
        statuses = [
            j["status"] for j in engine.record("exec-1")["waves"][0]["jobs"]
        ]
        assert statuses == ["STARTED", "QUEUED", "QUEUED"]


def test_a_throttled_chunk_waits_and_starts_once(monkeypatch):
    # Given the third and fourth StartRecovery calls are throttled (DRS
    # asks to retry after 60 s) and 3 jobs may run at once
    faults = [
        {
            "type": "throttle",
            "operation": "StartRecovery",
            "nth": n,
            "retry_after_seconds": 60,
        }
        for n in (3, 4)
    ]
    with chunk_engine(monkeypatch, concurrent=3, faults=faults) as engine:
        state = prepare_wave(engine, engine.ids("erp-"))
        drs = _no_retry_drs()
        # When the wave starts
        state = wave_recovery.start_wave_recovery(state, 0, drs_client=drs)
        # Then the wave runs; the last chunk waits out the throttle
        assert state["status"] == "running", state.get("error")
        jobs = engine.record("exec-1")["waves"][0]["jobs"]
        assert [j["status"] for j in jobs] == ["STARTED", "STARTED", "QUEUED"]
        assert "throttled" in jobs[2]["error"]
        assert jobs[2]["notBefore"] >= clock.epoch() + 59
        # And a poll says why the chunk waits, on the state and the record
        polled = poll_once(dict(state))
        assert "1 DRS job(s) waiting for capacity" in polled["status_reason"]
        assert "throttled" in polled["status_reason"]
        wave = engine.record("exec-1")["waves"][0]
        assert wave["statusReason"] == polled["status_reason"]
        # When started again before the 60 s are over: nothing is tried
        wave_recovery.start_wave_recovery(state, 0, drs_client=drs)
        assert len(engine.sim.jobs(HUB, REGION)) == 2
        # When started after 60 s (throttled again), then after 60 s more
        engine.advance(61)
        wave_recovery.start_wave_recovery(state, 0, drs_client=drs)
        assert engine.record("exec-1")["waves"][0]["jobs"][2]["status"] == (
            "QUEUED"
        )
        engine.advance(61)
        wave_recovery.start_wave_recovery(state, 0, drs_client=drs)
        # Then the chunk started exactly once: 3 jobs in DRS, no duplicate
        jobs = engine.record("exec-1")["waves"][0]["jobs"]
        assert [j["status"] for j in jobs] == ["STARTED"] * 3
        assert jobs[2]["attempts"] == 3
        assert len(engine.sim.jobs(HUB, REGION)) == 3


def test_cancel_while_chunks_are_queued_starts_none_of_them(monkeypatch):
    # Given a wave of 3 jobs where only one may run at once
    with chunk_engine(monkeypatch, concurrent=1) as engine:
        state = prepare_wave(engine, engine.ids("erp-"))
        state = wave_recovery.start_wave_recovery(state, 0)
        assert len(engine.sim.jobs(HUB, REGION)) == 1
        # When the execution is cancelled (the lifecycle API's write)
        engine.history.update_item(
            Key={"executionId": "exec-1"},
            UpdateExpression="SET #s = :c",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":c": "CANCELLING"},
        )
        # And polled until it ends
        states = run_wave(engine, state)
        # Then it ended cancelled after its one job settled
        assert states[-1]["status"] == "cancelled"
        (job,) = engine.sim.jobs(HUB, REGION)
        assert not job.active
        # And the queued chunks never started: skipped on the record
        jobs = engine.record("exec-1")["waves"][0]["jobs"]
        assert [j["status"] for j in jobs] == ["STARTED", "SKIPPED", "SKIPPED"]


def test_a_failed_server_stops_new_chunks_and_waits_for_running_jobs(
    monkeypatch,
):
    # Given erp-db-01 (first chunk) fails to launch; 2 jobs at once
    faults = [{"type": "launch_failure", "server": "erp-db-01"}]
    with chunk_engine(monkeypatch, concurrent=2, faults=faults) as engine:
        state = prepare_wave(engine, engine.ids("erp-"))
        state = wave_recovery.start_wave_recovery(state, 0)
        seen_running_with_failure = []

        def observe():
            jobs = engine.sim.jobs(HUB, REGION)
            failed = any(
                s.launch_status == "FAILED"
                for j in jobs
                for s in j.servers.values()
            )
            if failed and any(j.active for j in jobs):
                seen_running_with_failure.append(True)

        # When polled until it ends
        states = run_wave(engine, state, on_step=observe)
        # Then the wave failed naming the server, after every job ended
        final = states[-1]
        assert final["status"] == "failed"
        assert final["error_code"] == "SERVER_LAUNCH_FAILED"
        assert "erp-db-01" in final["error"]
        jobs = engine.sim.jobs(HUB, REGION)
        assert all(not j.active for j in jobs)
        # And while a job still ran after the failure, the wave waited
        if seen_running_with_failure:
            assert any(
                "waiting for" in (s.get("status_reason") or "") for s in states
            )
        # And the third chunk never started
        assert len(jobs) == 2
        wave = engine.record("exec-1")["waves"][0]
        assert [j["status"] for j in wave["jobs"]][2] == "SKIPPED"
        # And the record holds DRS's final word for every started server
        started = {sid for j in jobs for sid in j.servers}
        recorded = {s["sourceServerId"]: s["status"] for s in wave["servers"]}
        for job in jobs:
            for sid, server in job.servers.items():
                assert recorded[sid] == server.launch_status
        assert started <= set(recorded)


def test_a_started_job_whose_record_was_lost_is_adopted(monkeypatch):
    # Given recording the first started job fails (a crash after
    # StartRecovery): its chunk stays claimed without a job
    with chunk_engine(monkeypatch, concurrent=3) as engine:
        state = prepare_wave(engine, engine.ids("erp-"))
        real = chunk_starts.set_chunk
        lost = []

        def losing(execution_id, index, chunk, attributes, **kwargs):
            if attributes.get("jobId") and not lost:
                lost.append(chunk)
                raise ClientError(
                    {"Error": {"Code": "InternalServerError"}}, "UpdateItem"
                )
            return real(execution_id, index, chunk, attributes, **kwargs)

        monkeypatch.setattr(chunk_starts, "set_chunk", losing)
        wave_recovery.start_wave_recovery(state, 0)
        jobs = engine.record("exec-1")["waves"][0]["jobs"]
        assert jobs[0]["status"] == "STARTING" and "jobId" not in jobs[0]
        assert len(engine.sim.jobs(HUB, REGION)) == 3
        # When a start runs again after a start's longest run
        engine.advance(chunk_starts_stale() + 1)
        wave_recovery.start_wave_recovery(state, 0)
        # Then the job is found by its tags and recorded: no duplicate
        sim_jobs = engine.sim.jobs(HUB, REGION)
        assert len(sim_jobs) == 3
        first = next(j for j in sim_jobs if j.tags["DRSOrchJobChunk"] == "0")
        jobs = engine.record("exec-1")["waves"][0]["jobs"]
        assert jobs[0]["status"] == "STARTED"
        assert jobs[0]["jobId"] == first.job_id


def chunk_starts_stale() -> int:
    from shared.wave_jobs import CLAIM_STALE_SECONDS

    return CLAIM_STALE_SECONDS


def test_terminating_many_instances_keeps_within_the_quotas(monkeypatch):
    # Given a completed drill wave of 8 instances and at most 3 servers
    # in active DRS jobs (TERMINATE jobs count too)
    with chunk_engine(monkeypatch, concurrent=3) as engine:
        monkeypatch.setenv("DRS_MAX_SERVERS_IN_ALL_JOBS", "3")
        from shared.config import reset_settings

        reset_settings()
        state = prepare_wave(engine, engine.ids("erp-"))
        state = wave_recovery.start_wave_recovery(state, 0)
        run_wave(engine, state)
        engine.history.update_item(
            Key={"executionId": "exec-1"},
            UpdateExpression="SET #s = :f",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":f": "FAILED"},
        )
        from recovery_instances import terminate_recovery_instances

        # When terminate runs until nothing is pending (as the cleanup
        # worker does, each poll interval)
        answers = []
        for _ in range(MAX_STEPS):
            answers.append(terminate_recovery_instances("exec-1"))
            if answers[-1]["pendingInstances"] == 0:
                break
            engine.advance(STEP_SECONDS)
        # Then the first run terminated 3 and said 5 wait for capacity
        assert answers[0]["count"] == 3
        assert answers[0]["pendingInstances"] == 5
        # And every instance was terminated, never over the quota
        terminations = [
            j for j in engine.sim.jobs(HUB, REGION) if j.type == "TERMINATE"
        ]
        assert sum(len(j.servers) for j in terminations) == 8
        assert max(len(j.servers) for j in terminations) <= 3
        _, peak_servers = _peak_usage(terminations)
        assert peak_servers <= 3
        assert "drillCleanupError" not in engine.record("exec-1")


def _peak_usage(jobs):
    """(most jobs, most servers) active at once, from the job history."""
    moments = sorted({j.created for j in jobs})
    peak_jobs = peak_servers = 0
    for moment in moments:
        active = [
            j
            for j in jobs
            if j.created <= moment and (j.ended is None or j.ended > moment)
        ]
        peak_jobs = max(peak_jobs, len(active))
        peak_servers = max(peak_servers, sum(len(j.servers) for j in active))
    return peak_jobs, peak_servers
