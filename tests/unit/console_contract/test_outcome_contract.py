"""Console contract: the execution page's outcome summary
(``outcomeDetails`` of ``GET /executions/{id}``), derived from the
record."""

from tests.unit.execution_lifecycle.test_execution_queries import _launched


def _details(lc, execution_id):
    status, body = lc.rest(
        "GET", f"/executions/{execution_id}", groups=("DRSReadOnly",)
    )
    assert status == 200, body
    return body["outcomeDetails"]


def test_a_completed_drill_reads_succeeded_with_its_counts(lc):
    # Given a completed drill that launched its two servers
    execution_id, _ = _launched(lc, "p1", lc.servers(2))
    # When the execution page reads it
    outcome = _details(lc, execution_id)
    # Then the summary says it succeeded, with the counts
    assert outcome["outcome"] == "SUCCEEDED"
    assert outcome["status"] == "COMPLETED"
    assert (outcome["totalServers"], outcome["launchedServers"]) == (2, 2)
    assert (outcome["failedServers"], outcome["pendingServers"]) == (0, 0)
    assert outcome["totalWaves"] == 1
    assert outcome["wavesByStatus"] == {"COMPLETED": 1}
    assert outcome["message"] == "completed: 2 of 2 server(s) launched"
    assert outcome["terminatedInstances"] == 0


def test_a_failed_wave_with_one_launch_reads_partial(lc):
    # Given an execution whose wave launched one server and failed one
    servers = lc.servers(2)
    execution_id, _ = _launched(lc, "p1", servers, status="FAILED")
    wave = lc.record(execution_id)["waves"][0]
    wave["servers"][1]["status"] = "FAILED"
    wave["status"] = "FAILED"
    lc.set_record(
        execution_id,
        waves=[wave],
        errorCode="SERVER_LAUNCH_FAILED",
        statusReason=f"server {servers[1]} failed to launch",
    )
    # When the execution page reads it
    outcome = _details(lc, execution_id)
    # Then it is PARTIAL, naming the failed server and our reason
    assert outcome["outcome"] == "PARTIAL"
    assert outcome["failedServers"] == 1 and outcome["launchedServers"] == 1
    assert outcome["waves"][0]["failedServerIds"] == [servers[1]]
    assert outcome["errorCode"] == "SERVER_LAUNCH_FAILED"
    assert servers[1] in outcome["statusReason"]
    assert outcome["message"] == "failed: 1 of 2 server(s) launched, 1 failed"


def test_a_running_execution_reads_in_progress(lc):
    # Given an execution just started (its wave resolved, nothing launched)
    lc.plan("p1", ("g1", lc.servers(3)))
    execution_id = lc.start("p1")
    lc.set_record(execution_id, status="RUNNING")
    # When the execution page reads it
    outcome = _details(lc, execution_id)
    # Then it is in progress with every server pending
    assert outcome["outcome"] == "IN_PROGRESS"
    assert outcome["totalServers"] == 3 and outcome["pendingServers"] == 3
    assert outcome["message"].startswith("running: 0 of 3")
