"""shared.launch_config_status and LaunchConfigResult.failure."""

import pytest
from botocore.exceptions import ClientError

from shared.launch_config import LaunchConfigResult
from shared.launch_config_status import (
    SERVERS_PER_UPDATE,
    record_launch_config_status,
    recovery_source,
)
from tests.unit.wave_engine_support import wave_engine


@pytest.fixture
def engine(monkeypatch):
    with wave_engine(monkeypatch) as eng:
        yield eng


def _ids(count):
    return [f"s-{n:017x}" for n in range(1, count + 1)]


def test_many_servers_recorded_without_touching_the_version(engine):
    # Given a group without any status and more servers than one update
    count = 2 * SERVERS_PER_UPDATE + 3
    group = engine.add_group(
        "pg-big",
        launchConfig={"copyTags": True},
        version=7,
        sourceServerIds=_ids(count),
    )
    outcomes = [
        {
            "sourceServerId": sid,
            "status": "APPLIED",
            "launchTemplateId": "lt-0123",
            "launchTemplateVersion": 3,
        }
        for sid in _ids(count)
    ]
    # When the outcomes are recorded for a recovery
    recorded = record_launch_config_status(
        group, outcomes, recovery_source("exec-9"), table=engine.groups
    )
    # Then every server has its entry and the group is otherwise intact
    assert recorded is True
    item = engine.groups.get_item(Key={"groupId": "pg-big"})["Item"]
    status = item["launchConfigStatus"]
    assert sorted(status) == _ids(count)
    entry = status[_ids(count)[-1]]
    assert entry["source"] == "recovery:exec-9"
    assert entry["templateVersion"] == 3 and entry["groupVersion"] == 7
    assert entry["config"] == {"copyTags": True}
    assert "appliedBy" not in entry and "error" not in entry
    assert (
        item["version"] == 7 and item["launchConfig"] == group["launchConfig"]
    )


def test_a_deleted_group_is_not_recreated(engine):
    # Given a group that no longer exists
    group = {"groupId": "pg-gone", "version": 1}
    outcome = {"sourceServerId": _ids(1)[0], "status": "APPLIED"}
    # When its status is recorded
    recorded = record_launch_config_status(
        group, [outcome], "apply-launch-configs", table=engine.groups
    )
    # Then nothing is written and the caller is told
    assert recorded is False
    assert "Item" not in engine.groups.get_item(Key={"groupId": "pg-gone"})


def _failed_result(code, operation="UpdateLaunchConfiguration"):
    error = ClientError({"Error": {"Code": code, "Message": "m"}}, operation)
    sid = _ids(1)[0]
    result = LaunchConfigResult(
        servers=[{"sourceServerId": sid, "status": "FAILED", "error": "m"}],
        rolled_back=True,
    )
    result.errors[sid] = error
    return result


@pytest.mark.parametrize(
    "code, expected, status",
    [
        ("ThrottlingException", "DRS_LIMIT_EXCEEDED", 429),
        ("AccessDeniedException", "FORBIDDEN", 403),
        ("ConflictException", "INVALID_STATE", 409),
        ("InvalidSubnetID.NotFound", "INVALID_STATE", 409),
        ("InvalidParameterValue", "INVALID_STATE", 409),
    ],
)
def test_failure_maps_the_aws_error_with_per_server_results(
    code, expected, status
):
    # Given an apply whose only server failed with an AWS error
    result = _failed_result(code)
    # When its domain error is built
    error = result.failure("123456789012", "us-east-1", groupId="pg-1")
    # Then the code fits the cause and the body has the per-server results
    body = error.to_body()
    assert (body["error"], error.status) == (expected, status)
    assert body["groupId"] == "pg-1" and body["failed"] == 1
    assert body["servers"][0]["status"] == "FAILED"
    assert "rolled back" in body["message"]
