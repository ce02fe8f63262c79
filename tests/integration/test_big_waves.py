"""Waves of any size on the local cloud (issue 16): the real state
machine, the packaged functions and the DRS simulator.

A wave is cut into ``ceil(N / DrsMaxServersPerJob)`` DRS jobs started as
DRS's quotas allow. The tests lower ``DrsMaxServersPerJob`` (the
functions' ``DRS_MAX_SERVERS_PER_JOB``, what the template parameter
sets) so a few hundred servers make enough jobs to meet the quota of
20 active jobs, and use short simulated durations: each test takes
seconds. What DRS did is read from the simulator's job history.
"""

import uuid
from datetime import datetime
from typing import Any, Dict, List, Optional

import pytest
from boto3.dynamodb.types import TypeDeserializer

from bench.scenarios import REGION, plan_definition, scenario_dict
from localcloud.drill.invoker import Invoker
from localcloud.drill.plan_setup import setup_plans
from localcloud.scenario import load_scenario, scenario_from_dict
from tests.helpers import with_server_rows

HISTORY = "hrp-drs-tech-adapter-execution-history-dev"
PER_JOB_VARIABLE = "DRS_MAX_SERVERS_PER_JOB"
MAX_CONCURRENT_JOBS = 20  # the template's defaults, kept
MAX_SERVERS_IN_ALL_JOBS = 500
RUN_TIMEOUT = 120.0
# Simulated seconds (the cloud runs 600 per wall second). Short jobs
# for the failure case; for the quota case jobs of about 8 wall seconds,
# longer than starting 20 chunks one after the other takes, so the 21st
# chunk meets the quota of 20 active jobs.
SHORT = {
    "start": [5, 15],
    "snapshot": [30, 60],
    "conversion": [60, 120],
    "launch": [60, 120],
    "terminate": [10, 20],
}
LONG = {**SHORT, "conversion": [2400, 2700], "launch": [1800, 2100]}
ENDED = {"COMPLETED"}
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}
DESERIALIZE = TypeDeserializer()


@pytest.fixture
def servers_per_job(function_env):
    """``servers_per_job(n)`` sets ``DrsMaxServersPerJob`` to ``n`` on
    every deployed function the template gives it to; restored after."""
    return lambda value: function_env(PER_JOB_VARIABLE, value)


@pytest.fixture
def big_cloud(local_cloud):
    """``big_cloud(servers, durations, faults)``: the cloud reset to one
    hub tier of ``servers`` servers (tag ``Tier: tier01``); the default
    scenario after."""

    def load(
        servers: int,
        durations: Dict[str, List[int]],
        faults: Optional[List[Dict]] = None,
    ):
        data = scenario_dict([servers], durations=durations)
        data["faults"] = list(faults or [])
        local_cloud.reset(scenario_from_dict(data))
        return local_cloud

    yield load
    local_cloud.reset(load_scenario())


def _item(cloud, execution_id: str) -> Dict[str, Any]:
    """The execution's item alone (status, waves and their chunks), not
    its server records: what a wait polls."""
    item = cloud.client("dynamodb").get_item(
        TableName=HISTORY,
        Key={"executionId": {"S": execution_id}},
        ConsistentRead=True,
    )
    raw = item.get("Item") or {}
    return {k: DESERIALIZE.deserialize(v) for k, v in raw.items()}


def _record(cloud, execution_id: str) -> Dict[str, Any]:
    """The execution's record with every server record of its waves."""
    item = _item(cloud, execution_id)
    return with_server_rows(cloud.client("dynamodb"), item)


def _start_drill(cloud) -> str:
    """Create the one-wave plan by tags and start a DRILL through the
    execution-handler; the execution id."""
    api = Invoker(cloud.client("lambda"), caller="test_big_waves")
    definition = plan_definition(f"big-{uuid.uuid4().hex[:6]}", 1)
    setup = setup_plans(api, definition, cloud.scenario, "")[0]
    started = api.execution(
        "execute_recovery_plan",
        {"planId": setup.plan_id, "executionType": "DRILL"},
    )
    return started["executionId"]


def _run_drill(cloud, wait_until) -> Dict[str, Any]:
    """Start the one-wave DRILL, wait (deadline) until its record is
    terminal."""
    return _until_ended(cloud, _start_drill(cloud), wait_until)


def _until_ended(cloud, execution_id: str, wait_until) -> Dict[str, Any]:
    """Wait (deadline) until the execution is terminal; its record then
    (the poll reads the item alone: a few hundred server records read
    ten times a second would slow the cloud under test)."""
    wait_until(
        lambda: _item(cloud, execution_id).get("status") in TERMINAL,
        timeout=RUN_TIMEOUT,
        interval=0.25,
        message=f"execution {execution_id} ends",
    )
    return _record(cloud, execution_id)


def _launch_jobs(cloud) -> List[Any]:
    jobs = cloud.simulator.jobs(cloud.hub_account, REGION)
    return sorted(
        (j for j in jobs if j.type == "LAUNCH"), key=lambda j: j.created
    )


def _usage_at(jobs: List[Any], moment: datetime) -> tuple:
    """(active jobs, servers in active jobs) just after ``moment``: jobs
    created at or before it and not ended by then."""
    active = [
        j
        for j in jobs
        if j.created <= moment and (j.ended is None or j.ended > moment)
    ]
    return len(active), sum(len(j.servers) for j in active)


def test_a_250_server_wave_keeps_within_the_quotas(
    big_cloud, servers_per_job, wait_until
):
    # Given 250 tagged servers, 10 servers per DRS job (25 jobs) and the
    # quotas of 20 active jobs and 500 servers in active jobs
    cloud = big_cloud(250, LONG)
    servers_per_job(10)
    # When a one-wave drill of the tier runs
    execution_id = _start_drill(cloud)
    # (once DRS has the 20 jobs the quota lets start, the jobs created
    # after them are short: of those, only when they started is checked)
    wait_until(
        lambda: len(_launch_jobs(cloud)) >= MAX_CONCURRENT_JOBS,
        timeout=RUN_TIMEOUT,
        interval=0.25,
        message=f"DRS has {MAX_CONCURRENT_JOBS} LAUNCH jobs",
    )
    cloud.simulator.durations = {**cloud.simulator.durations, **SHORT}
    record = _until_ended(cloud, execution_id, wait_until)
    # Then every server launched, in the 25 jobs the wave planned
    assert record["status"] == "COMPLETED", record.get("error")
    (wave,) = record["waves"]
    assert len(wave["jobs"]) == 25
    assert {j["status"] for j in wave["jobs"]} == {"STARTED"}
    jobs = _launch_jobs(cloud)
    assert len(jobs) == 25
    launched = {
        sid: s.launch_status for j in jobs for sid, s in j.servers.items()
    }
    assert len(launched) == 250
    assert set(launched.values()) == {"LAUNCHED"}
    # And at every moment a job was created, DRS's quotas held
    for job in jobs:
        active, servers = _usage_at(jobs, job.created)
        assert active <= MAX_CONCURRENT_JOBS, (job.job_id, active)
        assert servers <= MAX_SERVERS_IN_ALL_JOBS, (job.job_id, servers)
    # And the jobs that did not fit waited for others to end
    late = jobs[MAX_CONCURRENT_JOBS:]
    assert all(
        any(e.ended and e.ended <= j.created for e in jobs) for j in late
    )


def _first_failure(job: Any) -> Optional[str]:
    return next(
        (
            item["logDateTime"]
            for item in job.log
            if item["event"] == "LAUNCH_FAILED"
        ),
        None,
    )


def test_one_failing_server_among_150_is_decided_after_every_job(
    big_cloud, servers_per_job, wait_until
):
    # Given 150 tagged servers in 5 jobs of 30, one fails to launch
    cloud = big_cloud(
        150, SHORT, [{"type": "launch_failure", "server": "tier01-0001"}]
    )
    servers_per_job(30)
    # When a one-wave drill of the tier runs
    record = _run_drill(cloud, wait_until)
    jobs = _launch_jobs(cloud)
    # Then the failure came while other jobs still ran
    failed_at = min(f for f in map(_first_failure, jobs) if f)
    last_end = max(j.ended for j in jobs).isoformat()
    assert failed_at < last_end
    # And the wave was decided FAILED only once every job had ended: the
    # record saw each job ended and no server still launching
    assert record["status"] == "FAILED"
    (wave,) = record["waves"]
    assert wave["status"] == "FAILED"
    assert len(wave["jobs"]) == 5
    assert {j.get("jobStatus") for j in wave["jobs"]} <= ENDED
    statuses = [s["status"] for s in wave["servers"]]
    assert sorted(set(statuses)) == ["FAILED", "LAUNCHED"]
    assert statuses.count("FAILED") == 1 and len(statuses) == 150
    assert all(j.status in ENDED for j in jobs)
    # And the drill cleanup terminates every instance that launched
    instances = [
        s.recovery_instance_id
        for j in jobs
        for s in j.servers.values()
        if s.recovery_instance_id
    ]
    assert len(instances) == 149
    state = cloud.simulator.regions[(cloud.hub_account, REGION)]
    wait_until(
        lambda: not set(instances) & set(state.recovery_instances),
        timeout=RUN_TIMEOUT,
        message="every launched recovery instance terminated",
    )
    final = wait_until(
        lambda: _item(cloud, record["executionId"]).get("terminations"),
        timeout=RUN_TIMEOUT,
        interval=0.25,
        message="the drill cleanup is recorded",
    )
    (termination,) = final
    assert termination["terminatedBy"] == "drill cleanup after failure"
    assert sorted(termination["recoveryInstanceIds"]) == sorted(instances)
    ec2 = cloud.client("ec2").describe_instances(InstanceIds=instances)
    states = {
        i["State"]["Name"] for r in ec2["Reservations"] for i in r["Instances"]
    }
    assert states <= {"terminated", "shutting-down"}
