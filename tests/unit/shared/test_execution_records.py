"""transition_status with expected attribute values."""

import pytest

from shared.errors import InvalidStateError
from shared.execution_records import transition_status


def _paused(history):
    history.put_item(
        Item={"executionId": "ex-1", "status": "PAUSED", "taskToken": "t-2"}
    )


def test_a_transition_refuses_a_changed_expected_value(ddb_tables):
    # Given a PAUSED execution whose token changed since it was read
    history = ddb_tables["EXECUTION_HISTORY_TABLE"]
    _paused(history)
    # When it is resumed expecting the old token
    with pytest.raises(InvalidStateError):
        transition_status(
            "ex-1", "RUNNING", table=history, expected={"taskToken": "t-1"}
        )
    # Then nothing was written
    assert history.get_item(Key={"executionId": "ex-1"})["Item"] == {
        "executionId": "ex-1",
        "status": "PAUSED",
        "taskToken": "t-2",
    }


def test_a_transition_with_the_expected_value_is_written(ddb_tables):
    # Given a PAUSED execution holding the token read
    history = ddb_tables["EXECUTION_HISTORY_TABLE"]
    _paused(history)
    # When it is resumed expecting that token, clearing it
    record = transition_status(
        "ex-1",
        "RUNNING",
        {"taskToken": None},
        table=history,
        expected={"taskToken": "t-2"},
    )
    # Then it is RUNNING without a token
    assert (record["status"], record["taskToken"]) == ("RUNNING", None)
