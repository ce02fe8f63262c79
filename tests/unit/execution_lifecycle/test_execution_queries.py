"""list/get/status/waves/jobs/job-logs/recovery-instances and terminate."""

import boto3

from tests.helpers import REGION


def _launched(lc, plan_id, servers, group=None, status="COMPLETED"):
    """An execution whose one wave the engine launched with DRS."""
    lc.plan(plan_id, (group or f"g-{plan_id}", servers))
    execution_id = lc.start(plan_id)
    job = lc.drs().start_recovery(
        isDrill=True, sourceServers=[{"sourceServerID": s} for s in servers]
    )["job"]
    lc.sim.clock.advance(120)
    lc.sim.tick()
    instances = lc.drs().describe_recovery_instances(
        filters={"sourceServerIDs": servers}
    )["items"]
    by_server = {i["sourceServerID"]: i for i in instances}
    wave = dict(
        lc.record(execution_id)["waves"][0],
        status="COMPLETED",
        jobId=job["jobID"],
        servers=[
            {
                "sourceServerId": s,
                "status": "LAUNCHED",
                "recoveryInstanceId": by_server[s]["recoveryInstanceID"],
                "instanceId": by_server[s]["ec2InstanceID"],
            }
            for s in servers
        ],
    )
    lc.set_record(execution_id, status=status, waves=[wave], endTime=2**31)
    return execution_id, job["jobID"]


def test_details_have_example_5_fields(lc):
    # Given an execution whose wave launched two servers
    servers = lc.servers(2)
    execution_id, job_id = _launched(lc, "p1", servers, status="RUNNING")
    # When its details are read (direct)
    body = lc.direct("get_execution_details", {"executionId": execution_id})
    # Then Example 5's fields are there
    for key in (
        "executionId",
        "planId",
        "planName",
        "status",
        "executionType",
        "startTime",
        "waves",
    ):
        assert key in body, key
    assert (body["planId"], body["status"]) == ("p1", "RUNNING")
    assert body["executionType"] == "DRILL"
    assert isinstance(body["startTime"], int)
    (wave,) = body["waves"]
    assert (wave["waveNumber"], wave["waveName"]) == (1, "Wave 1")
    assert (wave["status"], wave["jobId"]) == ("COMPLETED", job_id)
    assert [s["sourceServerId"] for s in wave["servers"]] == servers
    assert all(s["status"] == "LAUNCHED" for s in wave["servers"])
    assert all(s["instanceId"].startswith("i-") for s in wave["servers"])
    assert "accountContext" not in body and "taskToken" not in body


def test_details_status_and_waves_over_rest(lc):
    lc.plan("p1", ("g1", lc.servers(1)))
    execution_id = lc.start("p1")
    status, body = lc.rest("GET", f"/executions/{execution_id}")
    assert (status, body["status"]) == (200, "PENDING")
    status, body = lc.rest("GET", f"/executions/{execution_id}/status")
    assert (status, body["status"], body["totalWaves"]) == (200, "PENDING", 1)
    assert "waves" not in body
    status, body = lc.rest("GET", f"/executions/{execution_id}/waves")
    assert [w["status"] for w in body["waves"]] == ["PENDING"]
    status, body = lc.rest("GET", "/executions/nope")
    assert (status, body["error"]) == (404, "NOT_FOUND")


def test_list_filters_and_pages_newest_first(lc):
    # Given three executions of two plans (two finished)
    lc.plan("pa", ("ga", lc.servers(1)))
    lc.plan("pb", ("gb", lc.servers(1, 1)))
    first = lc.start("pa")
    lc.set_record(first, status="COMPLETED", startTime=100)
    second = lc.start("pa")
    lc.set_record(second, startTime=200)
    third = lc.start("pb")
    lc.set_record(third, status="FAILED", startTime=300)
    # When listed by plan, by status, and everything paged by 2
    by_plan = lc.direct("list_executions", query={"planId": "pa"})
    by_status = lc.direct("list_executions", query={"status": "failed"})
    page1 = lc.direct("list_executions", query={"limit": "2"})
    page2 = lc.direct(
        "list_executions",
        query={"limit": "2", "nextToken": page1["nextToken"]},
    )
    # Then newest first, filtered, no lock items
    ids = [e["executionId"] for e in by_plan["executions"]]
    assert ids == [second, first]
    assert [e["executionId"] for e in by_status["executions"]] == [third]
    paged = page1["executions"] + page2["executions"]
    assert [e["executionId"] for e in paged] == [third, second, first]
    assert "nextToken" not in page2
    # And REST answers the same
    status, body = lc.rest("GET", "/executions", query={"planId": "pb"})
    assert [e["executionId"] for e in body["executions"]] == [third]


def test_list_planid_pages_with_token(lc):
    lc.plan("pa", ("ga", lc.servers(1)))
    ids = []
    for start in (1, 2, 3):
        execution_id = lc.start("pa")
        lc.set_record(execution_id, status="COMPLETED", startTime=start)
        ids.append(execution_id)
    page1 = lc.direct("list_executions", query={"planId": "pa", "limit": 2})
    page2 = lc.direct(
        "list_executions",
        query={"planId": "pa", "limit": 2, "nextToken": page1["nextToken"]},
    )
    got = [e["executionId"] for e in page1["executions"] + page2["executions"]]
    assert got == ids[::-1]


def test_list_bad_parameters_are_validation_errors(lc):
    for query, field in (
        ({"limit": "0"}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"status": "SLEEPING"}, "status"),
        ({"nextToken": "!!notatoken"}, "nextToken"),
    ):
        body = lc.direct("list_executions", query=query)
        assert (body["error"], body["field"]) == ("VALIDATION_ERROR", field)


def test_jobs_logs_and_recovery_instances(lc):
    # Given an execution whose wave launched two servers
    servers = lc.servers(2)
    execution_id, job_id = _launched(lc, "p1", servers)
    # When its DRS jobs, logs and instances are read
    jobs = lc.direct("get_execution_jobs", {"executionId": execution_id})
    logs = lc.direct("get_execution_job_logs", {"executionId": execution_id})
    status, found = lc.rest(
        "GET", f"/executions/{execution_id}/recovery-instances"
    )
    # Then they describe this execution's job and instances
    assert [j["jobID"] for j in jobs["jobs"]] == [job_id]
    assert jobs["jobs"][0]["status"] == "COMPLETED"
    (log,) = logs["jobLogs"]
    assert log["jobId"] == job_id
    assert "JOB_START" in [i["event"] for i in log["items"]]
    assert status == 200
    assert sorted(i["sourceServerId"] for i in found["instances"]) == servers
    for item in found["instances"]:
        assert item["jobId"] == job_id
        assert item["ec2"]["state"] == "running"


def test_terminate_only_this_executions_instances(lc):
    # Given two finished drills of two plans on different servers
    mine, theirs = lc.servers(2), lc.servers(1, 2)
    execution_id, _ = _launched(lc, "p1", mine)
    other_id, _ = _launched(lc, "p2", theirs)
    # When this execution's instances are terminated (REST)
    status, body = lc.rest(
        "POST", f"/executions/{execution_id}/terminate-instances"
    )
    # Then a TERMINATE job covers exactly its instances
    assert status == 200
    (term,) = body["terminateJobs"]
    assert sorted(i["sourceServerId"] for i in body["instances"]) == mine
    lc.sim.clock.advance(60)
    lc.sim.tick()
    drs = lc.drs()
    job = drs.describe_jobs(filters={"jobIDs": [term["jobId"]]})["items"][0]
    assert (job["type"], job["status"]) == ("TERMINATE", "COMPLETED")
    left = drs.describe_recovery_instances()["items"]
    assert sorted(i["sourceServerID"] for i in left) == theirs
    # And the terminate job is recorded and shown with the execution's jobs
    assert lc.record(execution_id)["terminations"][0]["jobId"] == (
        term["jobId"]
    )
    jobs = lc.direct("get_execution_jobs", {"executionId": execution_id})
    assert term["jobId"] in [j["jobID"] for j in jobs["jobs"]]
    # And a second call finds nothing left to terminate
    again = lc.direct(
        "terminate_recovery_instances", {"executionId": execution_id}
    )
    assert again["instances"] == []
    ec2 = boto3.client("ec2", region_name=REGION)
    states = {
        i["InstanceId"]: i["State"]["Name"]
        for r in ec2.describe_instances()["Reservations"]
        for i in r["Instances"]
    }
    other = lc.direct("get_recovery_instances", {"executionId": other_id})
    assert all(
        states[i["instanceId"]] == "running" for i in other["instances"]
    )


def test_terminate_refused_while_the_execution_is_active(lc):
    execution_id, _ = _launched(lc, "p1", lc.servers(1), status="RUNNING")
    body = lc.direct(
        "terminate_recovery_instances", {"executionId": execution_id}
    )
    assert body["error"] == "INVALID_STATE"
    assert body["currentStatus"] == "RUNNING"
    assert len(lc.drs().describe_recovery_instances()["items"]) == 1


def test_same_servers_other_execution_instances_are_not_this_ones(lc):
    # Given an old drill of a server, then a new one (same server)
    servers = lc.servers(1)
    old_id, old_job = _launched(lc, "p1", servers)
    new_id, new_job = _launched(lc, "p1b", servers, group="g-other")
    # When each execution's instances are listed
    old = lc.direct("get_recovery_instances", {"executionId": old_id})
    new = lc.direct("get_recovery_instances", {"executionId": new_id})
    # Then each sees only the instance its own job launched
    assert [i["jobId"] for i in old["instances"]] == [old_job]
    assert [i["jobId"] for i in new["instances"]] == [new_job]
    # And terminating the old one leaves the new instance alone
    lc.direct("terminate_recovery_instances", {"executionId": old_id})
    lc.sim.clock.advance(60)
    lc.sim.tick()
    left = lc.drs().describe_recovery_instances()["items"]
    assert [i["jobID"] for i in left] == [new_job]


def test_ec2_details_skip_instances_that_no_longer_exist(lc):
    # Given one launched instance and one id EC2 does not know
    _launched(lc, "p1", lc.servers(1))
    (item,) = lc.drs().describe_recovery_instances()["items"]
    from execution_drs import ec2_details

    # When their EC2 details are read
    details = ec2_details(
        [item["ec2InstanceID"], "i-0000000000000dead"], REGION, None
    )
    # Then the known one is described and the gone one is skipped
    assert list(details) == [item["ec2InstanceID"]]
    assert details[item["ec2InstanceID"]]["state"] == "running"


def test_roles_terminate_needs_terminate_instances_reads_need_view(lc):
    # Given a finished execution
    lc.plan("p1", ("g1", lc.servers(1)))
    execution_id = lc.start("p1")
    lc.set_record(execution_id, status="COMPLETED")
    base = f"/executions/{execution_id}"
    # When a plan manager terminates / a read-only user reads its jobs
    denied = lc.rest(
        "POST", base + "/terminate-instances", groups=("DRSPlanManager",)
    )
    allowed = lc.rest("GET", base + "/jobs", groups=("DRSReadOnly",))
    logs = lc.rest("GET", base + "/job-logs", groups=("DRSReadOnly",))
    # Then terminate is forbidden, reads are allowed (no job yet)
    assert (denied[0], denied[1]["permission"]) == (
        403,
        "terminate_instances",
    )
    assert allowed == (
        200,
        {"executionId": execution_id, "jobs": [], "count": 0},
    )
    assert logs == (200, {"executionId": execution_id, "jobLogs": []})


def test_terminate_while_instances_are_being_terminated_says_so(lc):
    # Given a finished drill whose instances are already being terminated
    execution_id, _ = _launched(lc, "p1", lc.servers(2))
    first = lc.direct(
        "terminate_recovery_instances", {"executionId": execution_id}
    )
    assert len(first["terminateJobs"]) == 1
    # When terminate is asked again before the TERMINATE job finished
    again = lc.direct(
        "terminate_recovery_instances", {"executionId": execution_id}
    )
    # Then nothing new is asked of DRS and the answer says why
    assert again["terminateJobs"] == [] and again["count"] == 0
    assert again["alreadyTerminating"] == 2
    assert "already being terminated" in again["message"]
    assert len(lc.record(execution_id)["terminations"]) == 1


def _instance_pages(lc, execution_id, limit):
    """Every page of the execution's recovery instances (REST)."""
    pages, token = [], None
    while True:
        query = {"limit": str(limit)}
        if token:
            query["nextToken"] = token
        status, page = lc.rest(
            "GET",
            f"/executions/{execution_id}/recovery-instances",
            query=query,
        )
        assert status == 200, page
        pages.append(page)
        token = page.get("nextToken")
        if not token:
            return pages


def test_recovery_instances_paged_to_the_end(lc):
    # Given a drill that launched five servers
    servers = lc.servers(5)
    execution_id, _ = _launched(lc, "p1", servers)
    # When its instances are read unpaged, then two at a time
    status, whole = lc.rest(
        "GET", f"/executions/{execution_id}/recovery-instances"
    )
    pages = _instance_pages(lc, execution_id, 2)
    # Then the unpaged answer lists all five, without a token
    assert status == 200 and whole["count"] == 5
    assert "nextToken" not in whole
    # And the pages hold 2, 2 and 1, the same instances in the same order
    assert [p["count"] for p in pages] == [2, 2, 1]
    paged = [i for p in pages for i in p["instances"]]
    assert paged == whole["instances"]
    assert all(i["ec2"]["state"] == "running" for i in paged)


def test_recovery_instances_bad_page_parameters(lc):
    # Given a drill that launched two servers, and a token of another
    # execution's instances and one of the executions listing
    execution_id, _ = _launched(lc, "p1", lc.servers(2))
    other_id, _ = _launched(lc, "p2", lc.servers(2, 2))
    other_token = _instance_pages(lc, other_id, 1)[0]["nextToken"]
    listing_token = lc.direct("list_executions", query={"limit": 1})[
        "nextToken"
    ]
    for query, field in (
        ({"limit": "0"}, "limit"),
        ({"limit": "x"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"nextToken": "!!notatoken"}, "nextToken"),
        ({"nextToken": other_token}, "nextToken"),
        ({"nextToken": listing_token}, "nextToken"),
    ):
        # When the instances are asked for with it
        status, body = lc.rest(
            "GET",
            f"/executions/{execution_id}/recovery-instances",
            query=query,
        )
        # Then it is a 400 naming the parameter
        assert status == 400, (query, body)
        assert (body["error"], body["field"]) == ("VALIDATION_ERROR", field)
