"""Event-driven wave progress (issue 18): shared/progress_wake.py.

The wait's token, the job -> execution map and the wake, against moto's
DynamoDB and a recording Step Functions client.
"""

import pytest
from botocore.exceptions import ClientError

from shared import progress_wake
from shared.execution_lock import is_lock_item

EXECUTION = "exec-1"
JOB = "drsjob-aaaa1111"


class RecordingSfn:
    """SendTaskSuccess recorded; tokens in ``gone`` answer TaskTimedOut."""

    def __init__(self, gone=()):
        self.sent = []
        self.gone = set(gone)

    def send_task_success(self, taskToken, output):
        if taskToken in self.gone:
            raise ClientError(
                {"Error": {"Code": "TaskTimedOut", "Message": "over"}},
                "SendTaskSuccess",
            )
        self.sent.append(taskToken)
        return {}


@pytest.fixture
def table(ddb_tables):
    return ddb_tables["EXECUTION_HISTORY_TABLE"]


def _record(table, status="RUNNING", execution_id=EXECUTION):
    table.put_item(
        Item={
            "executionId": execution_id,
            "planId": "plan-1",
            "status": status,
            "startTime": 1,
        }
    )


def _store(table, sfn, token="token-1", execution_id=EXECUTION):
    return progress_wake.store_progress_token(
        {
            "action": "store_progress_token",
            "application": {"execution_id": execution_id},
            "taskToken": token,
        },
        table=table,
        sfn=sfn,
    )


def _event(
    job_id=JOB,
    region="us-east-1",
    state="RECOVERY_LAUNCH_SUCCEEDED",
    server=None,
):
    detail = {"state": state, "job-id": job_id, "is-drill": True}
    if server:
        detail["source-server-id"] = server
    return {
        "action": "drs_event",
        "event": {
            "source": "aws.drs",
            "detail-type": "DRS Source Server Launch Result",
            "region": region,
            "detail": detail,
        },
    }


def test_an_event_for_a_registered_job_wakes_the_stored_wait(table):
    # Given a running execution waiting for progress, its job mapped
    _record(table)
    sfn = RecordingSfn()
    assert progress_wake.register_job(EXECUTION, JOB, "us-east-1", table)
    assert _store(table, sfn) == {"stored": True, "wokenAtOnce": False}
    # When the job's launch result arrives, twice (a duplicate)
    first = progress_wake.handle_drs_event(_event(), table, sfn)
    second = progress_wake.handle_drs_event(_event(), table, sfn)
    # Then the wait is woken once; the duplicate only marks the next wait
    assert first == {"woken": True, "executionId": EXECUTION}
    assert second["woken"] is False
    assert sfn.sent == ["token-1"]
    # And that next wait ends at once (one extra poll, never a lost wake)
    assert _store(table, sfn, "token-2")["wokenAtOnce"] is True
    assert sfn.sent == ["token-1", "token-2"]
    assert _store(table, sfn, "token-3")["wokenAtOnce"] is False


def test_only_the_last_server_of_a_job_wakes_the_wait(table):
    # Given a waiting execution whose 3-server job is mapped with its size
    _record(table)
    sfn = RecordingSfn()
    progress_wake.register_job(EXECUTION, JOB, "us-east-1", table, servers=3)
    _store(table, sfn)
    # When the first two servers' results arrive, the second one twice
    early = [
        progress_wake.handle_drs_event(_event(server=sid), table, sfn)
        for sid in ("s-1", "s-2", "s-2")
    ]
    # Then nothing is woken or marked: the job still runs
    assert [r["reason"] for r in early] == ["job still running"] * 3
    assert sfn.sent == []
    # When the third server's result arrives
    last = progress_wake.handle_drs_event(_event(server="s-3"), table, sfn)
    # Then the wait is woken (the job ends: capacity frees)
    assert last == {"woken": True, "executionId": EXECUTION}
    assert sfn.sent == ["token-1"]
    # And a late duplicate only marks the next wait (a hint, never lost)
    progress_wake.handle_drs_event(_event(server="s-1"), table, sfn)
    assert _store(table, sfn, "token-2")["wokenAtOnce"] is True


def test_a_failed_launch_wakes_the_wait_at_once(table):
    # Given a waiting execution whose 100-server job is mapped
    _record(table)
    sfn = RecordingSfn()
    progress_wake.register_job(EXECUTION, JOB, "us-east-1", table, servers=100)
    _store(table, sfn)
    # When the job's first result is a failure
    result = progress_wake.handle_drs_event(
        _event(state="RECOVERY_LAUNCH_FAILED", server="s-7"), table, sfn
    )
    # Then the wait is woken now
    assert result["woken"] is True and sfn.sent == ["token-1"]


def test_a_wake_during_the_poll_ends_the_next_wait_at_once(table):
    # Given a running execution whose last wait timed out (stale token)
    _record(table)
    sfn = RecordingSfn(gone={"token-1"})
    progress_wake.register_job(EXECUTION, JOB, "us-east-1", table)
    _store(table, sfn)
    # When an event arrives while it polls
    result = progress_wake.handle_drs_event(_event(), table, sfn)
    # Then the stale token raises nothing and the next wait ends at once
    assert result["woken"] is False and sfn.sent == []
    assert _store(table, sfn, "token-2")["wokenAtOnce"] is True
    assert sfn.sent == ["token-2"]


@pytest.mark.parametrize(
    "event",
    [
        _event(job_id="drsjob-foreign"),
        _event(region="eu-west-1"),
        {"action": "drs_event", "event": {"detail": {}}},
        {"action": "drs_event", "event": "not an event"},
        {"action": "drs_event"},
    ],
)
def test_foreign_or_malformed_events_change_nothing(table, event):
    # Given a waiting execution with a mapped job
    _record(table)
    sfn = RecordingSfn()
    progress_wake.register_job(EXECUTION, JOB, "us-east-1", table)
    _store(table, sfn)
    # When an event of another job, region or shape arrives
    result = progress_wake.handle_drs_event(event, table, sfn)
    # Then nothing is woken or marked, and nothing raised
    assert result["woken"] is False and sfn.sent == []
    assert _store(table, sfn, "token-2")["wokenAtOnce"] is False


@pytest.mark.parametrize("status", ["CANCELLED", "COMPLETED", "FAILED"])
def test_an_event_for_a_finished_execution_is_ignored(table, status):
    # Given a finished execution whose wait item kept a token
    _record(table, status)
    sfn = RecordingSfn()
    progress_wake.register_job(EXECUTION, JOB, "us-east-1", table)
    _store(table, sfn)
    # When a late event of its job arrives
    result = progress_wake.handle_drs_event(_event(), table, sfn)
    # Then nothing is sent or marked, and the job's map item is dropped
    assert result == {"woken": False, "reason": f"execution {status}"}
    assert sfn.sent == []
    key = {"executionId": progress_wake.job_key(JOB)}
    assert "Item" not in table.get_item(Key=key)
    wait = table.get_item(
        Key={"executionId": progress_wake.wake_key(EXECUTION)}
    )
    assert "pending" not in wait["Item"]


def test_a_paused_execution_is_not_marked(table):
    # Given a paused execution (its wait is the resume, not progress)
    _record(table, "PAUSED")
    sfn = RecordingSfn()
    progress_wake.register_job(EXECUTION, JOB, "us-east-1", table)
    # When its job's event arrives
    result = progress_wake.handle_drs_event(_event(), table, sfn)
    # Then nothing happens and the map item stays for the running part
    assert result["woken"] is False and sfn.sent == []
    assert "Item" in table.get_item(
        Key={"executionId": progress_wake.job_key(JOB)}
    )


def test_cancel_or_resume_wake_the_wait(table):
    # Given a waiting execution
    _record(table, "CANCELLING")
    sfn = RecordingSfn()
    _store(table, sfn)
    # When a cancel wakes it
    woken = progress_wake.wake_execution(EXECUTION, "cancel", table, sfn)
    # Then the wait ends now
    assert woken is True and sfn.sent == ["token-1"]


def test_the_items_never_show_in_listings_or_indexes(table):
    # Given mapped jobs and a stored wait
    _record(table)
    progress_wake.register_job(EXECUTION, JOB, "us-east-1", table)
    _store(table, RecordingSfn())
    progress_wake.wake_execution("exec-2", "cancel", table, RecordingSfn())
    # Then every new item is a lock item (the listing scan skips them)
    # without planId or status (no index shows them)
    items = [i for i in table.scan()["Items"] if i["executionId"] != EXECUTION]
    assert len(items) == 3
    for item in items:
        assert is_lock_item(item)
        assert "planId" not in item and "status" not in item


def test_dynamodb_errors_are_logged_not_raised(table, monkeypatch):
    # Given a table that refuses every call
    def refuse(**_kwargs):
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "no"}},
            "PutItem",
        )

    for name in ("put_item", "get_item", "update_item"):
        monkeypatch.setattr(table, name, refuse, raising=False)
    sfn = RecordingSfn()
    # Then registering, waking and an event raise nothing
    assert progress_wake.register_job(EXECUTION, JOB, None, table) is False
    assert progress_wake.wake_execution(EXECUTION, "x", table, sfn) is False
    assert progress_wake.handle_drs_event(_event(), table, sfn)["woken"] is (
        False
    )


def test_a_wait_without_token_or_execution_is_not_stored(table):
    # Given a store request without a token
    result = progress_wake.store_progress_token(
        {"application": {"execution_id": EXECUTION}}, table=table
    )
    # Then nothing is stored (the task's timeout ends that wait)
    assert result == {"stored": False}


NOW = 1_800_000_000
DAY = 24 * 3600


@pytest.fixture
def fixed_clock():
    from shared import clock

    clock.set_time_source(lambda: float(NOW))
    yield NOW
    clock.reset_time_source()


def test_items_expire_a_few_days_after_they_can_last_matter(
    table, fixed_clock, monkeypatch
):
    # Given waves that wait at most one hour for their jobs
    from shared import config

    monkeypatch.setenv("WAVE_MAX_WAIT_SECONDS", "3600")
    config.reset_settings()
    sfn = RecordingSfn()
    # When a job is mapped, a wait stored and another execution woken
    # while it has no wait (pending)
    progress_wake.register_job(EXECUTION, JOB, "us-east-1", table)
    _store(table, sfn)
    progress_wake.wake_execution("exec-2", "cancel", table, sfn)

    def expiry(key):
        item = table.get_item(Key={"executionId": key})["Item"]
        return int(item[progress_wake.TTL_ATTRIBUTE])

    # Then the job's map expires 3 days after its wave's longest wait
    assert expiry(progress_wake.job_key(JOB)) == NOW + 3600 + 3 * DAY
    # And a wait item 3 days after its last wait or wake
    assert expiry(progress_wake.wake_key(EXECUTION)) == NOW + 3 * DAY
    assert expiry(progress_wake.wake_key("exec-2")) == NOW + 3 * DAY
    config.reset_settings()


def test_forget_execution_deletes_its_wait_and_job_items_only(table):
    # Given two executions with mapped jobs and stored waits, one job
    # recorded on a wave (chunks) and one on the seeds' one-job field
    sfn = RecordingSfn()
    record = {
        "executionId": EXECUTION,
        "waves": [
            {"jobs": [{"chunk": 0, "jobId": JOB}, {"chunk": 1}]},
            {"jobId": "drsjob-bbbb2222"},
        ],
    }
    for job_id in (JOB, "drsjob-bbbb2222"):
        progress_wake.register_job(EXECUTION, job_id, "us-east-1", table)
    progress_wake.register_job("exec-2", "drsjob-cccc3333", None, table)
    _store(table, sfn)
    _store(table, sfn, token="token-2", execution_id="exec-2")
    # When the first execution is forgotten, naming the other's job too
    deleted = progress_wake.forget_execution(
        EXECUTION, record, table, job_ids=["drsjob-cccc3333"]
    )
    # Then its wait and both its jobs' items are gone, by key
    assert deleted == 3
    keys = {i["executionId"] for i in table.scan()["Items"]}
    assert keys == {
        progress_wake.job_key("drsjob-cccc3333"),
        progress_wake.wake_key("exec-2"),
    }
    # And forgetting it again deletes nothing and raises nothing
    assert progress_wake.forget_execution(EXECUTION, record, table) == 0


def test_forget_execution_logs_dynamodb_errors(table, monkeypatch):
    # Given a table that refuses DeleteItem
    def refuse(**_kwargs):
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "no"}},
            "DeleteItem",
        )

    monkeypatch.setattr(table, "delete_item", refuse, raising=False)
    # When an execution is forgotten
    result = progress_wake.forget_execution(
        EXECUTION, {"waves": [{"jobId": JOB}]}, table
    )
    # Then nothing is deleted and nothing raised (TTL removes them)
    assert result == 0
