"""DELETE /executions?ids=…: finished executions' history only."""

from shared.execution_lock import lock_key


def _finished(lc, plan_id, status="COMPLETED", **values):
    execution_id = lc.start(plan_id)
    lc.set_record(execution_id, status=status, **values)
    return execution_id


def test_finished_executions_are_deleted_and_reported(lc):
    # Given two finished executions of one plan
    lc.plan("p1", ("g1", lc.servers(1)))
    done = _finished(lc, "p1")
    failed = _finished(lc, "p1", status="FAILED")
    # When both are deleted with an unknown id
    status, body = lc.rest(
        "DELETE", "/executions", query={"ids": f"{done},{failed},nope"}
    )
    # Then both are gone and the unknown id is reported
    assert status == 200, body
    assert body["deletedCount"] == 2 and body["totalRequested"] == 3
    assert sorted(body["deletedIds"]) == sorted([done, failed])
    assert body["notFoundIds"] == ["nope"] and body["notFound"] == 1
    table = lc.tables["EXECUTION_HISTORY_TABLE"]
    for execution_id in (done, failed):
        assert "Item" not in table.get_item(Key={"executionId": execution_id})


def test_running_paused_and_cancelling_executions_are_kept(lc):
    # Given executions running, paused and cancelling
    ids = {}
    for number, status in enumerate(("RUNNING", "PAUSED", "CANCELLING")):
        plan = f"p{number}"
        lc.plan(plan, (f"g{number}", lc.servers(1, offset=number)))
        ids[status] = lc.start(plan)
        lc.set_record(ids[status], status=status)
    # When they are all asked to be deleted
    status, body = lc.rest(
        "DELETE", "/executions", query={"ids": ",".join(ids.values())}
    )
    # Then none is deleted, each is reported with its status and why
    assert status == 200, body
    assert body["deletedCount"] == 0 and body["activeSkipped"] == 3
    kept = {k["executionId"]: k for k in body["activeExecutionsSkipped"]}
    for wanted, execution_id in ids.items():
        assert kept[execution_id]["status"] == wanted
        assert "only a finished one" in kept[execution_id]["reason"]
        assert lc.record(execution_id)["status"] == wanted


def test_a_drill_with_instances_left_is_kept(lc):
    # Given a completed drill whose recovery instance was not terminated
    servers = lc.servers(1)
    lc.plan("p1", ("g1", servers))
    execution_id = lc.start("p1")
    record = lc.record(execution_id)
    waves = record["waves"]
    waves[0]["servers"] = [
        {"sourceServerId": servers[0], "recoveryInstanceId": "i-1"}
    ]
    lc.set_record(execution_id, status="COMPLETED", waves=waves)
    # When it is asked to be deleted
    body = lc.direct("delete_executions", {"ids": execution_id})
    # Then it is kept: terminate-instances still needs the record
    assert body["deletedCount"] == 0, body
    assert "terminate them first" in (
        body["activeExecutionsSkipped"][0]["reason"]
    )


def test_a_plan_lock_item_is_never_deleted(lc):
    # Given a plan whose execution holds the plan's lock
    lc.plan("p1", ("g1", lc.servers(1)))
    lc.start("p1")
    key = lock_key("p1")
    # When the lock's key is passed as an id
    body = lc.direct("delete_executions", {"ids": key})
    # Then it is not found, and the lock stays
    assert body["notFoundIds"] == [key], body
    table = lc.tables["EXECUTION_HISTORY_TABLE"]
    assert "Item" in table.get_item(Key={"executionId": key})


def test_ids_are_required_and_bounded(lc):
    # When the ids are missing, empty or too many
    answers = [
        lc.rest("DELETE", "/executions"),
        lc.rest("DELETE", "/executions", query={"ids": " , "}),
        lc.rest(
            "DELETE",
            "/executions",
            query={"ids": ",".join(f"e{i}" for i in range(101))},
        ),
    ]
    # Then each is a 400 naming ids, before anything is read
    for status, error in answers:
        assert (status, error["field"]) == (400, "ids"), error


def test_an_operator_may_not_erase_history(lc):
    # Given a finished execution
    lc.plan("p1", ("g1", lc.servers(1)))
    done = _finished(lc, "p1")
    # When a DRSOperator asks to delete it
    status, error = lc.rest(
        "DELETE", "/executions", query={"ids": done}, groups=("DRSOperator",)
    )
    # Then 403, and the record stays
    assert (status, error["error"]) == (403, "FORBIDDEN"), error
    assert lc.record(done)["status"] == "COMPLETED"


def test_a_role_that_may_not_delete_is_reported_per_id(lc):
    # Given a finished execution and a role DynamoDB refuses DeleteItem
    from botocore.awsrequest import AWSResponse

    from shared.tables import execution_history_table

    lc.plan("p1", ("g1", lc.servers(1)))
    done = _finished(lc, "p1")

    def refuse(params, **_):
        error = {
            "Error": {"Code": "AccessDeniedException", "Message": "no"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return AWSResponse("", 400, {}, None), error

    events = execution_history_table().meta.client.meta.events
    events.register("before-call.dynamodb.DeleteItem", refuse)
    # When it is asked to be deleted
    body = lc.direct("delete_executions", {"ids": done})
    events.unregister("before-call.dynamodb.DeleteItem", refuse)
    # Then it is reported failed, in our words, and stays
    assert body["failed"] == 1 and body["deletedCount"] == 0, body
    assert "DeleteItem" in body["failedDeletes"][0]["error"]
    assert lc.record(done)["status"] == "COMPLETED"


def test_a_deleted_execution_takes_its_progress_lock_items(lc):
    # Given a finished execution whose wave job is mapped to it and whose
    # progress wait item is stored, and a running execution's items
    from shared import progress_wake

    table = lc.tables["EXECUTION_HISTORY_TABLE"]
    lc.plan("p1", ("g1", lc.servers(1)))
    lc.plan("p2", ("g2", lc.servers(1, offset=1)))
    done = _finished(lc, "p1", waves=[{"waveNumber": 1, "jobId": "drsjob-1"}])
    running = lc.start("p2")
    lc.set_record(running, status="RUNNING")
    progress_wake.register_job(done, "drsjob-1", None, table)
    progress_wake.register_job(running, "drsjob-2", None, table)
    for execution_id in (done, running):
        progress_wake.wake_execution(execution_id, "test", table)
    # When the finished one is deleted
    status, body = lc.rest("DELETE", "/executions", query={"ids": done})
    # Then its lock#wake# and lock#job# items are gone with it
    assert status == 200 and body["deletedIds"] == [done], body
    keys = {i["executionId"] for i in table.scan()["Items"]}
    assert progress_wake.wake_key(done) not in keys
    assert progress_wake.job_key("drsjob-1") not in keys
    # And the running execution's items stay
    assert progress_wake.wake_key(running) in keys
    assert progress_wake.job_key("drsjob-2") in keys
