"""Issue 15 defects 1 and 4 on the local cloud (real state machine,
packaged handlers, DRS simulator): an execution recovers the servers it
recorded at start; concurrent cancels of a drill end CANCELLED with
DRS's truth on the record and no recovery instance left running."""

from concurrent.futures import ThreadPoolExecutor

from tests.integration.test_execution_lifecycle import (
    DM,
    EXEC,
    TERMINAL,
    Api,
    _wait_status,
)

REGION = "us-east-1"


def _sim_jobs(cloud):
    """{job id: job} as the DRS simulator records them (hub, region)."""
    jobs = cloud.simulator.jobs(cloud.hub_account, REGION)
    return {job.job_id: job for job in jobs}


def test_a_group_edited_while_paused_changes_nothing_for_the_execution(
    local_cloud, wait_until
):
    api = Api(local_cloud)
    # Given plan B pausing before wave 2 (the application servers)
    apps = api.servers("Application")
    web = api.servers("Web")
    plan_id = api.plan(
        "safety-b",
        [("sb-db", api.servers("Database"), False), ("sb-app", apps, True)],
    )
    execution_id = api.start(plan_id)["executionId"]
    paused = _wait_status(
        api, wait_until, execution_id, ("PAUSED",) + TERMINAL
    )
    assert paused["status"] == "PAUSED", paused
    group_id = paused["waves"][1]["protectionGroupId"]
    # When wave 2's group is replaced by one app server and a web server
    group = api.call(DM, "get_protection_group", {"groupId": group_id})
    edited = api.call(
        DM,
        "update_protection_group",
        {
            "groupId": group_id,
            "sourceServerIds": [apps[0], web[0]],
            "version": group["version"],
        },
    )
    # Then the edit is accepted (it takes effect for later executions)
    assert edited.get("sourceServerIds") == [apps[0], web[0]], edited
    # And a second plan on the edited group is refused: apps[0] is
    # recorded by the paused execution
    second = api.call(
        DM,
        "create_recovery_plan",
        {
            "planName": "safety-c",
            "waves": [
                {
                    "waveNumber": 1,
                    "waveName": "edited",
                    "protectionGroupId": group_id,
                }
            ],
        },
    )
    refused = api.start(second["planId"])
    assert refused.get("error") == "SERVER_CONFLICT", refused
    assert refused["serverIds"] == [apps[0]]
    assert refused["conflictingExecutionId"] == execution_id
    # When plan B is resumed
    resumed = api.call(EXEC, "resume_execution", {"executionId": execution_id})
    assert resumed["status"] == "RUNNING", resumed
    done = _wait_status(api, wait_until, execution_id, TERMINAL)
    # Then it completes, wave 2 recovering the servers recorded at start
    assert done["status"] == "COMPLETED", done
    job = _sim_jobs(local_cloud)[done["waves"][1]["jobId"]]
    assert sorted(job.servers) == apps
    assert (
        sorted(s["sourceServerId"] for s in done["waves"][1]["servers"])
        == apps
    )


def test_concurrent_cancels_of_a_drill_leave_no_instance_running(
    local_cloud, wait_until
):
    api = Api(local_cloud)
    # Given a two-wave drill whose first job is under way
    plan_id = api.plan(
        "safety-cancel",
        [
            ("sc-app", api.servers("Application"), False),
            ("sc-web", api.servers("Web"), False),
        ],
    )
    execution_id = api.start(plan_id)["executionId"]

    def job_started():
        details = api.details(execution_id)
        return details if details["waves"][0].get("jobId") else None

    wait_until(job_started, timeout=60, interval=0.2, message="job")
    # When it is cancelled 10 times at once
    with ThreadPoolExecutor(10) as pool:
        answers = list(
            pool.map(
                lambda _: api.call(
                    EXEC, "cancel_execution", {"executionId": execution_id}
                ),
                range(10),
            )
        )
    # (a cancel arriving after the end is refused, naming CANCELLED)
    assert all(
        a.get("status") in ("CANCELLING", "CANCELLED")
        or (a.get("error"), a.get("currentStatus"))
        == ("INVALID_STATE", "CANCELLED")
        for a in answers
    ), answers
    assert any(a.get("status") for a in answers), answers
    # Then it ends CANCELLED
    final = _wait_status(api, wait_until, execution_id, TERMINAL, timeout=120)
    assert final["status"] == "CANCELLED", final
    # And for every job it started, which DRS ended, the record's
    # per-server statuses are DRS's
    jobs = _sim_jobs(local_cloud)
    launched = set()
    started = [w for w in final["waves"] if w.get("jobId")]
    assert started
    for wave in started:
        job = jobs[wave["jobId"]]
        assert job.status == "COMPLETED"
        truth = {sid: s.launch_status for sid, s in job.servers.items()}
        recorded = {
            s["sourceServerId"]: s.get("status") for s in wave["servers"]
        }
        assert recorded == truth
        launched |= {
            s.recovery_instance_id
            for s in job.servers.values()
            if s.recovery_instance_id
        }

    # And every instance the drill launched ends terminated
    def none_running():
        if not launched:
            return True
        found = local_cloud.client("ec2").describe_instances(
            InstanceIds=sorted(launched)
        )
        states = [
            i["State"]["Name"]
            for r in found["Reservations"]
            for i in r["Instances"]
        ]
        return all(state == "terminated" for state in states)

    wait_until(none_running, timeout=60, interval=0.5, message="cleanup")
    listed = local_cloud.client("drs").describe_recovery_instances()["items"]
    ours = {w["jobId"] for w in started}
    assert [i for i in listed if i.get("jobID") in ours] == []
