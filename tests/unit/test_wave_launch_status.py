"""A wave start records on the group what its launch config apply did."""

import boto3
import pytest
from botocore.exceptions import ClientError

import wave_recovery
from shared import clock
from tests.helpers import REGION
from tests.unit.wave_engine_support import HUB, base_state, wave_engine

WAVES = [
    {"waveNumber": 1, "waveName": "Databases", "protectionGroupId": "pg-db"}
]


@pytest.fixture
def engine(monkeypatch):
    with wave_engine(monkeypatch) as eng:
        eng.add_record("exec-1", total_waves=1)
        yield eng


def _group(engine):
    return engine.groups.get_item(Key={"groupId": "pg-db"})["Item"]


def test_wave_start_records_status_per_server(engine):
    # Given a group with a launch config and an earlier status entry of a
    # server no longer in it
    ids = engine.ids("erp-db")
    earlier = {"status": "APPLIED", "appliedAt": 1, "source": "old"}
    engine.add_group(
        "pg-db",
        sourceServerIds=ids,
        launchConfig={"instanceType": "r5.2xlarge"},
        launchConfigStatus={"s-00000000000000001": earlier},
    )
    # When the wave starts
    started = clock.epoch()
    result = wave_recovery.start_wave_recovery(base_state(WAVES), 0)
    # Then every server's status names the recovery and the new version
    assert result["status"] == "running", result.get("error")
    group = _group(engine)
    status = group["launchConfigStatus"]
    for sid in ids:
        assert status[sid]["status"] == "APPLIED"
        assert status[sid]["source"] == "recovery:exec-1"
        assert status[sid]["templateVersion"] == 2
        assert status[sid]["config"]["instanceType"] == "r5.2xlarge"
        applied_at = status[sid]["appliedAt"]
        assert applied_at == int(applied_at) and applied_at >= started
        assert "error" not in status[sid]
    # And the other entry is kept, the group's version is not bumped
    assert status["s-00000000000000001"] == earlier
    assert group["version"] == 1


def test_failed_apply_records_failed_and_rolled_back(engine):
    # Given one of two servers busy in another DRS job
    busy, free = engine.ids("erp-app")[:2]
    engine.add_group(
        "pg-db",
        sourceServerIds=[free, busy],
        launchConfig={"copyTags": False},
    )
    boto3.client("drs", region_name=REGION).start_recovery(
        sourceServers=[{"sourceServerID": busy}], isDrill=True
    )
    # When the wave starts
    result = wave_recovery.start_wave_recovery(base_state(WAVES), 0)
    # Then the wave failed and the status says what happened per server
    assert result["error_code"] == "LAUNCH_CONFIG_FAILED"
    status = _group(engine)["launchConfigStatus"]
    assert status[busy]["status"] == "FAILED"
    assert "ConflictException" in status[busy]["error"]
    assert status[free]["status"] == "ROLLED_BACK"
    assert {s["source"] for s in status.values()} == {"recovery:exec-1"}


class _StatusWritesRefused:
    """The groups table, refusing every update (e.g. a missing grant)."""

    def __init__(self, table):
        self.table = table

    def get_item(self, **kwargs):
        return self.table.get_item(**kwargs)

    def update_item(self, **kwargs):
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "no"}},
            "UpdateItem",
        )


def test_status_not_recorded_never_fails_the_recovery(engine):
    # Given a group whose status cannot be written
    ids = engine.ids("erp-db")
    engine.add_group("pg-db", sourceServerIds=ids, launchConfig={})
    table = _StatusWritesRefused(engine.groups)
    # When the wave starts
    result = wave_recovery.start_wave_recovery(
        base_state(WAVES), 0, groups_table=table
    )
    # Then the recovery job started anyway and nothing was recorded
    assert result["status"] == "running", result.get("error")
    assert len(engine.sim.jobs(HUB, REGION)) == 1
    assert "launchConfigStatus" not in _group(engine)


class _StatusWritesObserved:
    """The groups table, noting how many DRS jobs existed at each status
    write."""

    def __init__(self, table, engine):
        self.table, self.engine, self.jobs_at_writes = table, engine, []

    def get_item(self, **kwargs):
        return self.table.get_item(**kwargs)

    def update_item(self, **kwargs):
        self.jobs_at_writes.append(len(self.engine.sim.jobs(HUB, REGION)))
        return self.table.update_item(**kwargs)


def test_the_status_is_written_once_the_jobs_are_started(engine):
    # Given a group with a launch config
    ids = engine.ids("erp-db")
    engine.add_group(
        "pg-db", sourceServerIds=ids, launchConfig={"copyTags": False}
    )
    table = _StatusWritesObserved(engine.groups, engine)
    # When the wave starts
    result = wave_recovery.start_wave_recovery(
        base_state(WAVES), 0, groups_table=table
    )
    # Then the bookkeeping came after the recovery job: not on its way
    assert result["status"] == "running", result.get("error")
    assert table.jobs_at_writes and min(table.jobs_at_writes) == 1
    status = _group(engine)["launchConfigStatus"]
    assert {status[sid]["source"] for sid in ids} == {"recovery:exec-1"}
