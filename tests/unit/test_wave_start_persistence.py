"""A started DRS job is never lost: the wave's plan is recorded before
any job starts (the client's adaptive retries, nothing on top), so a
plan that cannot be recorded starts nothing; a job whose own recording
is lost is found again by its tags (test_wave_chunks); an unreadable
protection group fails the wave with a code (issue 6, item 3)."""

import pytest
from botocore.exceptions import ClientError

import wave_recovery
from tests.helpers import REGION
from tests.unit.wave_engine_support import HUB, base_state, wave_engine

WAVES = [
    {"waveNumber": 1, "waveName": "Databases", "protectionGroupId": "pg-db"},
]


def _throttled(operation):
    return ClientError(
        {"Error": {"Code": "ProvisionedThroughputExceededException"}},
        operation,
    )


class FlakyTable:
    """A table whose update_item fails ``failures`` times after the
    first (the claim) succeeded; everything else is the real table."""

    def __init__(self, table, failures):
        self._table = table
        self.failures = failures
        self.updates = 0

    def update_item(self, **kwargs):
        self.updates += 1
        if self.updates > 1 and self.failures > 0:
            self.failures -= 1
            raise _throttled("UpdateItem")
        return self._table.update_item(**kwargs)

    def __getattr__(self, name):
        return getattr(self._table, name)


class UnreadableTable:
    """A protection groups table DynamoDB refuses to read."""

    def get_item(self, **_):
        raise _throttled("GetItem")


@pytest.fixture
def engine(monkeypatch):
    with wave_engine(monkeypatch) as eng:
        eng.add_record("exec-1", total_waves=1)
        eng.add_group("pg-db", sourceServerIds=eng.ids("erp-db"))
        yield eng


def test_a_wave_whose_plan_cannot_be_recorded_starts_no_job(engine):
    # Given the wave's plan write fails once the client's own (adaptive)
    # retries are spent
    table = FlakyTable(engine.history, failures=1)
    # When the wave starts
    result = wave_recovery.start_wave_recovery(
        base_state(WAVES), 0, history_table=table
    )
    # Then the write was not retried on top of the client's retries
    assert table.updates == 2
    # And the state failed, saying no job was started
    assert result["status"] == "failed"
    assert result["error_code"] == "WAVE_RECORD_FAILED"
    assert "before any DRS job started" in result["error"]
    # And DRS has no job: nothing runs that the record does not know
    assert engine.sim.jobs(HUB, REGION) == []


def test_an_unreadable_protection_group_fails_the_wave(engine):
    # Given DynamoDB refuses to read the protection group
    # When the wave starts
    result = wave_recovery.start_wave_recovery(
        base_state(WAVES), 0, groups_table=UnreadableTable()
    )
    # Then the wave failed with a code, on the state and the record
    assert result["status"] == "failed" and result["wave_completed"]
    assert result["error_code"] == "PROTECTION_GROUP_READ_FAILED"
    wave = engine.record("exec-1")["waves"][0]
    assert wave["status"] == "FAILED"
    assert wave["errorCode"] == "PROTECTION_GROUP_READ_FAILED"
    # And no DRS job was started
    assert engine.sim.jobs(HUB, REGION) == []
