"""Waves as a dependency graph (issue 17) end to end on the local cloud:
the real state machine, the packaged functions, the DRS simulator. Order
is asserted from the simulator's job history (created / ended), never
from wall time."""

import json

import pytest
import yaml

from localcloud.scenario import (
    DEFAULT_SCENARIO,
    load_scenario,
    scenario_from_dict,
)
from tests.integration.test_wave_engine import RUN_TIMEOUT, Cloud, wave

REGION = "us-east-1"


@pytest.fixture
def cloud(local_cloud, wait_until):
    """The default scenario with groups per ERP tier (app split in two:
    app-01/02 and app-03, so a fork has two branches)."""
    cloud = Cloud(local_cloud, wait_until)
    cloud.group("pg-db", sourceServerIds=cloud.ids("erp-db"))
    app = cloud.ids("erp-app")
    cloud.group("pg-app", sourceServerIds=app[:2])
    cloud.group("pg-batch", sourceServerIds=app[2:])
    cloud.group("pg-web", sourceServerIds=cloud.ids("erp-web"))
    return cloud


def _after(number, group, depends, **extra):
    return wave(number, group, dependsOnWaves=depends, **extra)


def _launch_jobs(cloud):
    """Wave number -> its LAUNCH jobs (the engine tags each job with its
    wave's index)."""
    jobs = {}
    for job in cloud.cloud.simulator.jobs(cloud.cloud.hub_account, REGION):
        if job.type == "LAUNCH":
            number = int(job.tags["DRSOrchWave"]) + 1
            jobs.setdefault(number, []).append(job)
    return jobs


def _span(jobs):
    """(first created, last ended) of a wave's jobs."""
    return min(j.created for j in jobs), max(j.ended for j in jobs)


def _statuses(record):
    """The waves' statuses ([] before the record is written)."""
    return [w["status"] for w in (record or {}).get("waves") or []]


def _jobs_recorded(record, count):
    """The first ``count`` waves have recorded a DRS job."""
    waves = ((record or {}).get("waves") or [])[:count]
    return len(waves) == count and all(
        w.get("jobId") or any(j.get("jobId") for j in w.get("jobs") or [])
        for w in waves
    )


def test_fork_and_join_run_in_dependency_order(cloud):
    # Given db; app and batch both after db (fork); web after both (join)
    waves = [
        _after(1, "pg-db", []),
        _after(2, "pg-app", [1]),
        _after(3, "pg-batch", [1]),
        _after(4, "pg-web", [2, 3]),
    ]
    # When the plan runs through the state machine
    execution_id, arn = cloud.start(waves)
    # Then it succeeds with every wave COMPLETED
    assert cloud.finished(arn) == "SUCCEEDED"
    record = cloud.record(execution_id)
    assert record["status"] == "COMPLETED"
    assert _statuses(record) == ["COMPLETED"] * 4
    spans = {n: _span(jobs) for n, jobs in _launch_jobs(cloud).items()}
    assert sorted(spans) == [1, 2, 3, 4]
    # And app and batch started after db ended, and ran side by side
    for branch in (2, 3):
        assert spans[branch][0] >= spans[1][1]
    assert spans[2][0] < spans[3][1] and spans[3][0] < spans[2][1]
    # And web never started before both of its dependencies ended
    assert spans[4][0] >= max(spans[2][1], spans[3][1])


def test_a_pause_on_one_branch_lets_the_other_complete(cloud):
    # Given db -> app (pauses before), and an independent batch -> web
    waves = [
        _after(1, "pg-db", []),
        _after(2, "pg-app", [1], pauseBeforeWave=True),
        _after(3, "pg-batch", []),
        _after(4, "pg-web", [3]),
    ]
    execution_id, arn = cloud.start(waves)
    # When app waits for approval
    cloud.wait_until(
        lambda: _statuses(cloud.record(execution_id))[1:2]
        == ["WAITING_APPROVAL"],
        timeout=RUN_TIMEOUT,
        message="app waits for approval",
    )
    # Then the execution pauses only once the other branch completed
    record = cloud.record_status(execution_id, "PAUSED")
    assert _statuses(record) == [
        "COMPLETED",
        "WAITING_APPROVAL",
        "COMPLETED",
        "COMPLETED",
    ]
    assert record["waves"][1].get("readyTime")
    assert record["taskToken"]
    jobs = _launch_jobs(cloud)
    assert 2 not in jobs and all(not j.active for j in jobs[4])
    # When it is resumed
    cloud.sfn.send_task_success(
        taskToken=record["taskToken"], output=json.dumps({"resumed": True})
    )
    # Then app runs and the execution completes
    assert cloud.finished(arn) == "SUCCEEDED"
    final = cloud.record(execution_id)
    assert final["status"] == "COMPLETED"
    assert _statuses(final) == ["COMPLETED"] * 4
    spans = {n: _span(j) for n, j in _launch_jobs(cloud).items()}
    assert spans[2][0] >= max(spans[1][1], spans[4][1])


@pytest.fixture
def failing_db(cloud):
    """erp-db-02 fails to launch; the default scenario is restored."""
    data = yaml.safe_load(DEFAULT_SCENARIO.read_text())
    data["faults"] = [{"type": "launch_failure", "server": "erp-db-02"}]
    cloud.cloud.reset(scenario_from_dict(data))
    try:
        # groups are per test: the reset emptied the tables
        fresh = Cloud(cloud.cloud, cloud.wait_until)
        fresh.group("pg-db", sourceServerIds=fresh.ids("erp-db"))
        fresh.group("pg-app", sourceServerIds=fresh.ids("erp-app"))
        fresh.group("pg-web", sourceServerIds=fresh.ids("erp-web"))
        yield fresh
    finally:
        cloud.cloud.reset(load_scenario())


def test_a_failed_branch_skips_its_dependents_and_the_other_completes(
    failing_db,
):
    # Given db fails; app depends on db; web does not
    cloud = failing_db
    waves = [
        _after(1, "pg-db", []),
        _after(2, "pg-app", [1]),
        _after(3, "pg-web", []),
    ]
    # When the plan runs
    execution_id, arn = cloud.start(waves)
    # Then the execution fails; app is skipped, web completed
    assert cloud.finished(arn) == "FAILED"
    record = cloud.record_status(execution_id, "FAILED")
    assert _statuses(record) == ["FAILED", "SKIPPED", "COMPLETED"]
    assert record["waves"][1].get("statusReason")
    assert "erp-db-02" in record["error"]
    assert "not started" in record["error"] and "Wave 2" in record["error"]
    # And app never got a DRS job; web's job completed
    jobs = _launch_jobs(cloud)
    assert 2 not in jobs
    assert [j.status for j in jobs[3]] == ["COMPLETED"]


def test_cancel_with_two_branches_running_starts_nothing_more(cloud):
    # Given db and app running side by side, web joining them
    waves = [
        _after(1, "pg-db", []),
        _after(2, "pg-app", []),
        _after(3, "pg-web", [1, 2]),
    ]
    execution_id, arn = cloud.start(waves)
    cloud.wait_until(
        lambda: _jobs_recorded(cloud.record(execution_id), 2),
        timeout=RUN_TIMEOUT,
        message="db and app record their DRS jobs",
    )
    # When the execution is cancelled (the lifecycle API's write)
    cloud.set_status(execution_id, "CANCELLING")
    # Then it ends CANCELLED (the state machine in Fail)
    assert cloud.finished(arn) == "FAILED"
    record = cloud.record_status(execution_id, "CANCELLED")
    assert record["waves"][2]["status"] in ("PENDING", "CANCELLED")
    # And web never got a job; both running waves' jobs ended
    jobs = _launch_jobs(cloud)
    assert sorted(jobs) == [1, 2]
    assert not any(j.active for js in jobs.values() for j in js)
