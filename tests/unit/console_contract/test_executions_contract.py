"""Console contract: starting a drill, the history and execution pages."""

from tests.helpers import HUB_ACCOUNT as HUB
from tests.unit.execution_lifecycle.test_execution_queries import _launched


def _console_start(plan_id, dry_run=False, topic=""):
    """The body the console's "Run" dialog posts to /executions."""
    return {
        "planId": plan_id,
        "executionType": "DRILL",
        "initiatedBy": "someone@example.com",
        "dryRun": dry_run,
        "topicArn": topic,
    }


def test_run_dialog_starts_a_drill(lc):
    # Given a plan
    lc.plan("p1", ("g1", lc.servers(2)))
    # When the console posts its start body
    status, body = lc.rest("POST", "/executions", _console_start("p1"))
    # Then the drill is queued, recorded as the signed-in user
    assert status == 202, body
    assert body["executionId"] and body["status"] == "PENDING"
    record = lc.record(body["executionId"])
    assert record["initiatedBy"] == "tester@example.com"


def test_dry_run_validates_and_reports_without_starting(lc):
    # Given a plan of two servers whose last scheduled readiness is stored
    servers = lc.servers(2)
    lc.plan("p1", ("g1", servers))
    stored = {"status": "READY", "checkedAt": "2026-01-01T00:00:00+00:00"}
    lc.tables["RECOVERY_PLANS_TABLE"].update_item(
        Key={"planId": "p1"},
        UpdateExpression="SET readiness = :r",
        ExpressionAttributeValues={":r": stored},
    )
    # When the console asks for a dry run
    status, body = lc.rest(
        "POST", "/executions", _console_start("p1", dry_run=True)
    )
    # Then 200 reports what would start, with the plan's readiness
    assert status == 200, body
    assert body["dryRun"] is True and body["valid"] is True
    assert body["waves"][0]["serverIds"] == servers
    assert body["totalServers"] == 2
    assert body["readiness"] == stored
    assert body["readinessUrl"] == "/recovery-plans/p1/readiness"
    # And a script's direct dry run answers the same report
    direct = lc.direct(
        "execute_recovery_plan", {"planId": "p1", "dryRun": True}
    )
    assert direct["dryRun"] is True, direct
    assert direct["waves"] == body["waves"]
    # And nothing was recorded or queued
    assert lc.tables["EXECUTION_HISTORY_TABLE"].scan()["Items"] == []
    assert lc.async_calls == []


def test_dry_run_refuses_what_a_start_would_refuse(lc):
    # Given a plan whose server is busy in another plan's execution
    servers = lc.servers(1)
    lc.plan("p1", ("g1", servers))
    lc.plan("p2", ("g2", servers))
    lc.start("p2")
    # When p1 is dry-run
    status, error = lc.rest(
        "POST", "/executions", _console_start("p1", dry_run=True)
    )
    # Then the start's own refusal is answered
    assert (status, error["error"]) == (409, "SERVER_CONFLICT"), error


def test_a_foreign_topic_is_refused_clearly(lc):
    # Given a plan and a topic that is not this deployment's
    lc.plan("p1", ("g1", lc.servers(1)))
    body = _console_start("p1", topic="arn:aws:sns:us-east-1:1:other")
    # When the console posts it
    status, error = lc.rest("POST", "/executions", body)
    # Then 400 names topicArn and says where executions are published
    assert (status, error["field"]) == (400, "topicArn"), error
    assert lc.topic_arn in error["message"]


def test_the_deployment_topic_is_accepted(lc):
    # Given a plan and this deployment's own execution topic
    lc.plan("p1", ("g1", lc.servers(1)))
    body = _console_start("p1", topic=lc.topic_arn)
    # When the console posts it
    status, answer = lc.rest("POST", "/executions", body)
    # Then the drill starts
    assert status == 202, answer


def test_history_list_reads_items_with_plan_names(lc):
    # Given a finished drill
    execution_id, _ = _launched(lc, "p1", lc.servers(1))
    # When the history page lists executions as the console does
    status, body = lc.rest("GET", "/executions", query={"limit": "20"})
    # Then it reads items with the console's names
    assert status == 200
    (item,) = body["items"]
    assert item["executionId"] == execution_id
    assert item["recoveryPlanId"] == "p1"
    assert item["recoveryPlanName"] == "Plan p1"
    assert item["status"] == "COMPLETED"
    assert item["executionType"] == "DRILL"
    assert item["executedBy"] == item["initiatedBy"]
    assert isinstance(item["startTime"], int)
    assert body["executions"] == body["items"]


def test_execution_page_reads_server_rows_and_terminate_metadata(lc):
    # Given a finished drill that launched two servers
    servers = lc.servers(2)
    execution_id, job_id = _launched(lc, "p1", servers)
    # When the execution page reads it
    status, body = lc.rest("GET", f"/executions/{execution_id}")
    # Then each wave has server rows with their launch status
    assert status == 200
    assert body["recoveryPlanName"] == "Plan p1"
    assert body["executedBy"] == body["initiatedBy"]
    assert body["totalWaves"] == 1
    rows = body["waves"][0]["serverExecutions"]
    assert sorted(r["serverId"] for r in rows) == servers
    for row in rows:
        assert row["launchStatus"] == "LAUNCHED"
        assert row["recoveredInstanceId"].startswith("i-")
    # And Terminate is offered
    meta = body["terminationMetadata"]
    assert meta == {"canTerminate": True, "hasRecoveryInstances": True}


def test_job_logs_are_per_wave_events(lc):
    # Given a finished drill
    execution_id, job_id = _launched(lc, "p1", lc.servers(1))
    # When the console reads its job logs
    status, body = lc.rest("GET", f"/executions/{execution_id}/job-logs")
    # Then each log names its wave and lists events
    assert status == 200
    (log,) = body["jobLogs"]
    assert (log["waveNumber"], log["jobId"]) == (1, job_id)
    events = [e["event"] for e in log["events"]]
    assert "JOB_START" in events
    for event in log["events"]:
        assert "logDateTime" in event and "eventData" in event


def test_terminate_answer_and_metadata_after_terminating(lc):
    # Given a finished drill with two recovery instances
    execution_id, _ = _launched(lc, "p1", lc.servers(2))
    # When the console terminates them (no body)
    status, body = lc.rest(
        "POST", f"/executions/{execution_id}/terminate-instances"
    )
    # Then it reads the counters and the jobs
    assert status == 200, body
    assert (body["totalTerminated"], body["totalFailed"]) == (2, 0)
    assert body["alreadyTerminated"] is False
    assert [j["type"] for j in body["jobs"]] == ["TERMINATE"]
    assert len(body["terminated"]) == 2 and body["failed"] == []
    # And, once DRS has terminated them, a second click says so
    lc.sim.clock.advance(60)
    lc.sim.tick()
    _, again = lc.rest(
        "POST", f"/executions/{execution_id}/terminate-instances"
    )
    assert again.get("alreadyTerminated") is True, again
    assert again["totalTerminated"] == 0
    # And the page no longer offers Terminate
    _, page = lc.rest("GET", f"/executions/{execution_id}")
    assert page["terminationMetadata"]["canTerminate"] is False


def test_history_of_one_account(lc):
    # Given a hub drill and a (recorded) drill in a spoke account
    hub_id, _ = _launched(lc, "p1", lc.servers(1))
    spoke_id, _ = _launched(lc, "p2", lc.servers(1, 1))
    lc.set_record(spoke_id, accountContext={"accountId": "210987654321"})
    # When the history page lists each selected account
    _, hub = lc.rest("GET", "/executions", query={"accountId": HUB})
    _, spoke = lc.rest(
        "GET", "/executions", query={"accountId": "210987654321"}
    )
    _, by_plan = lc.rest(
        "GET", "/executions", query={"accountId": HUB, "planId": "p2"}
    )
    # Then each answers only its own executions
    assert [i["executionId"] for i in hub["items"]] == [hub_id]
    assert [i["executionId"] for i in spoke["items"]] == [spoke_id]
    assert by_plan["items"] == []
