"""The execution lifecycle on the local cloud: real state machine,
packaged handlers, DRS simulator (``seeds/004_*`` Examples 4 and 5)."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

REGION = "us-east-1"
EXEC = "execution-handler"
DM = "data-management-handler"
TERMINAL = ("COMPLETED", "FAILED", "TIMEOUT", "CANCELLED")


class Api:
    """Direct invocations of the deployed functions."""

    def __init__(self, cloud):
        self.cloud = cloud
        self.lam = cloud.client("lambda")

    def call(self, function, operation, body=None):
        response = self.lam.invoke(
            FunctionName=f"hrp-drs-tech-adapter-{function}-dev",
            Payload=json.dumps({"operation": operation, "body": body or {}}),
        )
        assert "FunctionError" not in response, response
        return json.load(response["Payload"])

    def servers(self, tier):
        items = self.cloud.client("drs").describe_source_servers()["items"]
        return sorted(
            s["sourceServerID"] for s in items if s["tags"]["Tier"] == tier
        )

    def plan(self, name, waves):
        """A plan of (group name, server ids, pauseBeforeWave) waves."""
        items = []
        for number, (group, servers, pause) in enumerate(waves, start=1):
            created = self.call(
                DM,
                "create_protection_group",
                {
                    "groupName": group,
                    "region": REGION,
                    "sourceServerIds": servers,
                },
            )
            assert "groupId" in created, created
            items.append(
                {
                    "waveNumber": number,
                    "waveName": f"{group} wave",
                    "protectionGroupId": created["groupId"],
                    "pauseBeforeWave": pause,
                }
            )
        plan = self.call(
            DM, "create_recovery_plan", {"planName": name, "waves": items}
        )
        assert "planId" in plan, plan
        return plan["planId"]

    def start(self, plan_id):
        return self.call(
            EXEC,
            "execute_recovery_plan",
            {"planId": plan_id, "executionType": "DRILL"},
        )

    def details(self, execution_id):
        return self.call(
            EXEC, "get_execution_details", {"executionId": execution_id}
        )


def published(event_type):
    """(subject, message, attributes) sent to the notifications topic."""
    from moto.sns.models import sns_backends

    topic = next(
        t
        for t in sns_backends["123456789012"][REGION].topics.values()
        if t.name == "hrp-drs-tech-adapter-execution-notifications-dev"
    )
    return [
        (subject, message, attributes)
        for _id, message, subject, attributes, _group in list(
            topic.sent_notifications
        )
        if attributes["eventType"]["Value"] == event_type
    ]


@pytest.fixture
def api(local_cloud):
    return Api(local_cloud)


def _wait_status(api, wait_until, execution_id, statuses, timeout=90):
    def reached():
        details = api.details(execution_id)
        return details if details["status"] in statuses else None

    return wait_until(
        reached, timeout=timeout, interval=0.5, message=f"{statuses}"
    )


def test_twenty_concurrent_starts_give_one_execution(api):
    # Given a plan
    plan_id = api.plan("race", [("race-db", api.servers("Database"), False)])
    # When 20 starts race
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: api.start(plan_id), range(20)))
    # Then exactly one execution and 19 EXECUTION_CONFLICT
    started = [a for a in answers if a.get("status") == "PENDING"]
    conflicts = [a for a in answers if a.get("error") == "EXECUTION_CONFLICT"]
    assert (len(started), len(conflicts)) == (1, 19), answers
    listed = api.call(EXEC, "list_executions", {})
    assert [e["executionId"] for e in listed["executions"]] == [
        started[0]["executionId"]
    ]


def test_servers_in_a_live_drs_job_outside_the_system_conflict(
    local_cloud, api
):
    # Given a DRS drill started outside the system on one app server,
    # still running when the plan starts (at speed 600 a job of default
    # durations ends in about a wall second: a slow start outlived it)
    servers = api.servers("Application")
    sim = local_cloud.simulator
    usual = sim.durations
    sim.durations = {**usual, "conversion": [86400, 86400]}
    try:
        job = local_cloud.client("drs").start_recovery(
            isDrill=True, sourceServers=[{"sourceServerID": servers[0]}]
        )["job"]
    finally:
        sim.durations = usual
    plan_id = api.plan("busy", [("busy-app", servers, False)])
    # When the plan is started
    answer = api.start(plan_id)
    # Then SERVER_CONFLICT names the server and the job
    assert answer["error"] == "SERVER_CONFLICT", answer
    assert answer["serverIds"] == [servers[0]]
    assert answer["jobId"] == job["jobID"]
    assert api.call(EXEC, "list_executions", {})["executions"] == []


def test_cancel_during_a_wave(local_cloud, api, wait_until):
    # Given a two-wave plan running its first wave
    plan_id = api.plan(
        "cancel-me",
        [
            ("c-db", api.servers("Database"), False),
            ("c-app", api.servers("Application"), True),
        ],
    )
    execution_id = api.start(plan_id)["executionId"]

    def wave_started():
        details = api.details(execution_id)
        wave = details["waves"][0]
        return details if wave.get("jobId") else None

    details = wait_until(
        wave_started, timeout=60, interval=0.2, message="wave"
    )
    job_id = details["waves"][0]["jobId"]
    # When it is cancelled
    answer = api.call(EXEC, "cancel_execution", {"executionId": execution_id})
    assert answer["status"] in ("CANCELLING", "CANCELLED"), answer
    # Then it ends CANCELLED, the state machine stopped, DRS settled
    final = _wait_status(api, wait_until, execution_id, TERMINAL)
    assert final["status"] == "CANCELLED", final
    sfn = local_cloud.client("stepfunctions")
    arn = final["stateMachineExecutionArn"]
    assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"
    job = local_cloud.client("drs").describe_jobs(
        filters={"jobIDs": [job_id]}
    )["items"][0]
    assert job["status"] == "COMPLETED"
    assert final["waves"][1]["status"] == "CANCELLED"


def test_pause_resume_complete_and_second_resume(local_cloud, api, wait_until):
    # Given a plan pausing before its second wave, started
    plan_id = api.plan(
        "pausing",
        [
            ("p-db", api.servers("Database"), False),
            ("p-web", api.servers("Web"), True),
        ],
    )
    started = api.start(plan_id)
    # Then the start answers Example 4's fields
    execution_id = started["executionId"]
    assert {k: started[k] for k in ("status", "message", "statusUrl")} == {
        "status": "PENDING",
        "message": "Execution started - check status with operation: "
        "get_execution_details",
        "statusUrl": f"/executions/{execution_id}",
    }
    # (with each wave's planned DRS jobs, the plan READY at start)
    assert [w["plannedJobs"] for w in started["waves"]] == [1, 1]
    assert started["preflight"]["status"] == "READY"
    # When it pauses before wave 2
    paused = _wait_status(
        api, wait_until, execution_id, ("PAUSED",) + TERMINAL
    )
    assert paused["status"] == "PAUSED", paused
    # (the wave engine stores the zero-based wave index: 1 = 2nd wave)
    assert paused["pausedBeforeWave"] == 1
    # And a notification says how to resume, filterable by plan
    # (the record changes before the notification is sent: wait for it)
    pauses = wait_until(
        lambda: published("EXECUTION_PAUSED"),
        timeout=15,
        message="EXECUTION_PAUSED notification",
    )
    subject, message, attributes = pauses[-1]
    assert subject.startswith("DR execution paused - action required")
    assert f"POST /executions/{execution_id}/resume" in message
    assert attributes["planId"]["Value"] == plan_id
    # And it is resumed
    resumed = api.call(EXEC, "resume_execution", {"executionId": execution_id})
    assert resumed["status"] == "RUNNING", resumed
    # Then it completes with Example 5's fields
    done = _wait_status(api, wait_until, execution_id, TERMINAL)
    assert done["status"] == "COMPLETED", done
    for key in ("planId", "planName", "executionType", "startTime"):
        assert key in done
    assert done["executionType"] == "DRILL"
    for wave in done["waves"]:
        assert wave["status"] == "COMPLETED"
        assert wave["jobId"].startswith("drsjob-")
        for server in wave["servers"]:
            assert server["status"] == "LAUNCHED"
            assert server["instanceId"].startswith("i-")
    assert len(published("EXECUTION_STARTED")) == 1
    wait_until(
        lambda: published("EXECUTION_COMPLETED"),
        timeout=15,
        message="EXECUTION_COMPLETED notification",
    )
    assert len(published("EXECUTION_COMPLETED")) == 1
    # And a second resume is INVALID_STATE
    again = api.call(EXEC, "resume_execution", {"executionId": execution_id})
    assert again["error"] == "INVALID_STATE", again
    assert again["currentStatus"] == "COMPLETED"


def test_pause_endpoint_pauses_before_the_next_wave(
    local_cloud, api, wait_until
):
    # Given a three-wave plan pausing before no wave, running wave 1
    plan_id = api.plan(
        "pause-endpoint",
        [
            ("pe-db", api.servers("Database"), False),
            ("pe-app", api.servers("Application"), False),
            ("pe-web", api.servers("Web"), False),
        ],
    )
    execution_id = api.start(plan_id)["executionId"]
    running = _wait_status(api, wait_until, execution_id, ("RUNNING",))
    # (QUEUED: its chunk planned, its StartRecovery not yet answered)
    assert running["waves"][0]["status"] in (
        "PENDING",
        "QUEUED",
        "STARTED",
    ), running
    # When the pause operation is called
    answer = api.call(EXEC, "pause_execution", {"executionId": execution_id})
    # Then it is accepted for the next wave boundary
    assert answer == {
        "executionId": execution_id,
        "status": "RUNNING",
        "pauseRequested": True,
        "message": "Execution will pause before its next wave",
    }
    # And the execution pauses before wave 2, wave 1 done, 2 and 3 not
    paused = _wait_status(
        api, wait_until, execution_id, ("PAUSED",) + TERMINAL
    )
    assert paused["status"] == "PAUSED", paused
    assert paused["pausedBeforeWave"] == 1
    assert paused["pausedBeforeWaveNumber"] == 2
    assert paused["pauseRequested"] is False
    # (the wave that became ready waits for approval: issue 17)
    assert [w["status"] for w in paused["waves"]] == [
        "COMPLETED",
        "WAITING_APPROVAL",
        "PENDING",
    ]
    assert [bool(w.get("jobId")) for w in paused["waves"]] == [
        True,
        False,
        False,
    ]
    # And a second pause is INVALID_STATE naming PAUSED
    again = api.call(EXEC, "pause_execution", {"executionId": execution_id})
    assert again["error"] == "INVALID_STATE", again
    assert again["currentStatus"] == "PAUSED"
    # When it is resumed
    resumed = api.call(EXEC, "resume_execution", {"executionId": execution_id})
    assert resumed["status"] == "RUNNING", resumed
    assert resumed["resumedWave"] == 1
    # Then it completes without pausing again, every wave COMPLETED
    done = _wait_status(api, wait_until, execution_id, ("PAUSED",) + TERMINAL)
    assert done["status"] == "COMPLETED", done
    assert [w["status"] for w in done["waves"]] == ["COMPLETED"] * 3
    assert "pausedBeforeWave" not in done
    assert len(published("EXECUTION_PAUSED")) == 1
    # And a pause of the COMPLETED execution is INVALID_STATE naming it
    late = api.call(EXEC, "pause_execution", {"executionId": execution_id})
    assert late["error"] == "INVALID_STATE", late
    assert late["currentStatus"] == "COMPLETED"
    assert api.details(execution_id)["status"] == "COMPLETED"


def _drill(api, wait_until, plan_id):
    """Start a drill of the plan and wait until it COMPLETED: its id."""
    execution_id = api.start(plan_id)["executionId"]
    done = _wait_status(api, wait_until, execution_id, TERMINAL)
    assert done["status"] == "COMPLETED", done
    return execution_id


def _recovery_instances(api, execution_id):
    """{recoveryInstanceId: EC2 instance id} of the execution."""
    found = api.call(
        EXEC, "get_recovery_instances", {"executionId": execution_id}
    )
    return {
        i["recoveryInstanceId"]: i["instanceId"] for i in found["instances"]
    }


def _terminate(local_cloud, api, wait_until, execution_id):
    """terminate_recovery_instances, waited until its job COMPLETED."""
    answer = api.call(
        EXEC, "terminate_recovery_instances", {"executionId": execution_id}
    )
    drs = local_cloud.client("drs")
    for job in answer.get("terminateJobs", []):

        def completed(job_id=job["jobId"]):
            found = drs.describe_jobs(filters={"jobIDs": [job_id]})
            return found["items"][0]["status"] == "COMPLETED"

        wait_until(completed, timeout=60, interval=0.5, message="terminate")
    return answer


def _listed_in_drs(local_cloud):
    """{recoveryInstanceId: sourceServerId} DRS still lists."""
    items = local_cloud.client("drs").describe_recovery_instances()["items"]
    return {i["recoveryInstanceID"]: i["sourceServerID"] for i in items}


def _ec2_states(local_cloud, instance_ids):
    """{EC2 instance id: state name}."""
    found = local_cloud.client("ec2").describe_instances(
        InstanceIds=sorted(instance_ids)
    )
    return {
        i["InstanceId"]: i["State"]["Name"]
        for r in found["Reservations"]
        for i in r["Instances"]
    }


def test_drill_then_terminate_leaves_other_instances(
    local_cloud, api, wait_until
):
    # Given two completed drills of two plans on different servers
    mine = api.plan("mine", [("m-db", api.servers("Database"), False)])
    other = api.plan("other", [("o-web", api.servers("Web"), False)])
    # (one after the other: two state machine executions starting at
    # once can fail inside moto, see the report of issue 7)
    first = _drill(api, wait_until, mine)
    second = _drill(api, wait_until, other)
    others = api.call(EXEC, "get_recovery_instances", {"executionId": second})
    assert others["count"] == len(api.servers("Web"))
    # When the first execution's instances are terminated
    answer = _terminate(local_cloud, api, wait_until, first)
    assert answer["count"] == len(api.servers("Database")), answer
    assert len(answer["terminateJobs"]) == 1, answer
    # Then none of its recovery instances remain, the other's all do
    left = _listed_in_drs(local_cloud)
    assert sorted(left.values()) == api.servers("Web")
    mine_now = api.call(EXEC, "get_recovery_instances", {"executionId": first})
    assert mine_now["count"] == 0


def test_terminate_leaves_no_instance_of_it_and_all_of_another(
    local_cloud, api, wait_until
):
    # Given drill A of a DB plan then drill B of an APP plan, completed
    db_plan = api.plan("term-db", [("t-db", api.servers("Database"), False)])
    app_plan = api.plan(
        "term-app", [("t-app", api.servers("Application"), False)]
    )
    first = _drill(api, wait_until, db_plan)
    second = _drill(api, wait_until, app_plan)
    mine = _recovery_instances(api, first)
    others = _recovery_instances(api, second)
    assert len(mine) == len(api.servers("Database"))
    assert len(others) == len(api.servers("Application"))
    # When A's recovery instances are terminated
    answer = _terminate(local_cloud, api, wait_until, first)
    # Then exactly A's instances were asked for
    assert sorted(i["recoveryInstanceId"] for i in answer["instances"]) == (
        sorted(mine)
    )
    # And DRS lists none of A's and all of B's, A's EC2 instances are
    # terminated and B's still running
    listed = _listed_in_drs(local_cloud)
    assert not set(mine) & set(listed), listed
    assert set(others) <= set(listed), listed
    states = _ec2_states(local_cloud, mine.values())
    assert states == dict.fromkeys(mine.values(), "terminated"), states
    states = _ec2_states(local_cloud, others.values())
    assert states == dict.fromkeys(others.values(), "running"), states
    assert _recovery_instances(api, first) == {}
    assert _recovery_instances(api, second) == others
    # When the DB plan is drilled again (C) and A is terminated again
    third = _drill(api, wait_until, db_plan)
    newer = _recovery_instances(api, third)
    assert len(newer) == len(api.servers("Database"))
    assert not set(newer) & set(mine)
    repeat = _terminate(local_cloud, api, wait_until, first)
    # Then A has nothing left to terminate and C keeps its instances
    assert (repeat["count"], repeat["terminateJobs"]) == (0, []), repeat
    assert _recovery_instances(api, third) == newer
    # When C's recovery instances are terminated
    _terminate(local_cloud, api, wait_until, third)
    # Then none of A's or C's remain and B's are all still running
    listed = _listed_in_drs(local_cloud)
    assert set(listed) == set(others), listed
    states = _ec2_states(local_cloud, newer.values())
    assert states == dict.fromkeys(newer.values(), "terminated"), states
    states = _ec2_states(local_cloud, others.values())
    assert states == dict.fromkeys(others.values(), "running"), states
    assert _recovery_instances(api, first) == {}
    assert _recovery_instances(api, third) == {}


def test_notification_formatter_publishes_an_execution_event(local_cloud, api):
    # Given an execution record
    plan_id = api.plan("fmt", [("f-db", api.servers("Database"), False)])
    execution_id = api.start(plan_id)["executionId"]
    # When the notification-formatter is invoked for it
    response = local_cloud.client("lambda").invoke(
        FunctionName="hrp-drs-tech-adapter-notification-formatter-dev",
        Payload=json.dumps(
            {"eventType": "EXECUTION_PAUSED", "executionId": execution_id}
        ),
    )
    # Then it published a readable message with the plan id attribute
    assert "FunctionError" not in response, response
    assert json.load(response["Payload"])["published"] is True
    subject, message, attributes = published("EXECUTION_PAUSED")[-1]
    assert subject == "DR execution paused - action required: fmt"
    assert execution_id in message
    assert attributes["planId"]["Value"] == plan_id
