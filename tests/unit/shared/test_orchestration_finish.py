"""orchestration_core.finish_execution against a CANCELLING record."""

import pytest

from shared import orchestration_core, statuses
from shared.engine_state import EngineState
from shared.execution_lock import get_plan_lock, lock_key
from shared.wave_state import mark_failed


def _record(history, status):
    history.put_item(
        Item={
            "executionId": "ex-1",
            "planId": "plan-1",
            "status": status,
            "startTime": 1000,
            "version": 1,
            "waves": [],
        }
    )
    history.put_item(
        Item={
            "executionId": lock_key("plan-1"),
            "lockedPlanId": "plan-1",
            "ownerExecutionId": "ex-1",
        }
    )


def _state(status, reason):
    state = EngineState(execution_id="ex-1", plan_id="plan-1", waves=[])
    return mark_failed(state, "WAVE_OPERATION_FAILED", reason, status)


@pytest.mark.parametrize("ending", ["failed", "timeout"])
def test_a_failure_while_cancelling_ends_cancelled(ddb_tables, ending):
    # Given an execution the user is cancelling
    history = ddb_tables["EXECUTION_HISTORY_TABLE"]
    _record(history, statuses.CANCELLING)
    # When the state machine's state ends failed / timeout
    state = _state(ending, "DRS job failed")
    orchestration_core.finish_execution(state, history)
    # Then the record is CANCELLED with the failure as its reason
    record = history.get_item(Key={"executionId": "ex-1"})["Item"]
    assert record["status"] == statuses.CANCELLED
    assert "DRS job failed" in record["statusReason"]
    # And the plan lock is released
    assert get_plan_lock("plan-1", history) is None


def test_a_failure_of_a_running_execution_still_ends_failed(ddb_tables):
    # Given a RUNNING execution
    history = ddb_tables["EXECUTION_HISTORY_TABLE"]
    _record(history, statuses.RUNNING)
    # When its state ends failed
    orchestration_core.finish_execution(_state("failed", "boom"), history)
    # Then the record is FAILED
    record = history.get_item(Key={"executionId": "ex-1"})["Item"]
    assert (record["status"], record["statusReason"]) == ("FAILED", "boom")


class _CancelledMeanwhile:
    """The table, with a cancel landing between the read and the write."""

    def __init__(self, table):
        self.table = table
        self.raced = False

    def __getattr__(self, name):
        return getattr(self.table, name)

    def update_item(self, **kwargs):
        if not self.raced:
            self.raced = True
            self.table.update_item(
                Key={"executionId": "ex-1"},
                UpdateExpression="SET #s = :s",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":s": statuses.CANCELLING},
            )
        return self.table.update_item(**kwargs)


def test_a_cancel_racing_the_failure_still_ends_cancelled(ddb_tables):
    # Given a RUNNING execution cancelled just before the failure lands
    history = ddb_tables["EXECUTION_HISTORY_TABLE"]
    _record(history, statuses.RUNNING)
    # When its state ends failed
    state = _state("failed", "boom")
    orchestration_core.finish_execution(state, _CancelledMeanwhile(history))
    # Then the record is CANCELLED, naming the failure
    record = history.get_item(Key={"executionId": "ex-1"})["Item"]
    assert record["status"] == statuses.CANCELLED
    assert record["statusReason"].endswith("failed: boom")


def test_a_cancelling_record_never_transitions_to_failed_or_timeout():
    # Given CONTRACTS §4, Then CANCELLING ends CANCELLED only
    for target in (statuses.FAILED, statuses.TIMEOUT, statuses.COMPLETED):
        assert statuses.CANCELLING not in (statuses.LEGAL_PREDECESSORS[target])
    assert statuses.LEGAL_PREDECESSORS[statuses.CANCELLED] == {
        statuses.CANCELLING
    }
