"""Event-driven wave progress end to end (issue 18): the real state
machine (WaveProgressMode events), the packaged functions, the DRS
simulator's launch-result events through the local EventBridge rule.

The worker's local cloud with a poll interval of 8 s (the backstop; set
on the functions for these tests), so a wait an event ends differs from
one that timed out: Step Functions' history says which (``TaskSucceeded``
vs ``TaskTimedOut``), never a clock.
"""

import json

import pytest
import yaml

from localcloud.scenario import DEFAULT_SCENARIO, scenario_from_dict
from tests.integration.test_wave_engine import ACCOUNTS, REGION, Cloud, wave

POLL_INTERVAL = 8
RUN_TIMEOUT = 90.0
ORCHESTRATION = "hrp-drs-tech-adapter-dr-orch-sf-dev"
EXECUTION_HANDLER = "hrp-drs-tech-adapter-execution-handler-dev"


@pytest.fixture
def events_cloud(local_cloud, function_env, wait_until):
    function_env("WAVE_POLL_INTERVAL_SECONDS", POLL_INTERVAL)
    return Cloud(local_cloud, wait_until)


def _with_fault(cloud, fault):
    data = yaml.safe_load(DEFAULT_SCENARIO.read_text())
    data["faults"] = [{"type": fault}]
    cloud.cloud.reset(scenario_from_dict(data))


def _progress_waits(cloud, arn):
    """How each WaitForProgress ended: succeeded (woken) / timed out."""
    events = cloud.sfn.get_execution_history(
        executionArn=arn, maxResults=1000
    )["events"]
    ends, inside = [], False
    for event in events:
        kind = event["type"]
        if kind == "TaskStateEntered":
            name = event["stateEnteredEventDetails"]["name"]
            inside = name == "WaitForProgress"
        elif inside and kind in ("TaskSucceeded", "TaskTimedOut"):
            ends.append("woken" if kind == "TaskSucceeded" else "timeout")
            inside = False
    return ends


def _launch_jobs(cloud):
    hub = cloud.cloud.hub_account
    return [j for j in cloud.cloud.simulator.jobs(hub, REGION)]


def _two_waves(cloud):
    cloud.group("pg-db", sourceServerIds=cloud.ids("erp-db"))
    cloud.group("pg-app", sourceServerIds=cloud.ids("erp-app"))
    return [wave(1, "pg-db"), wave(2, "pg-app")]


def test_launch_events_wake_each_wait_and_duplicates_start_nothing_twice(
    events_cloud,
):
    # Given every DRS launch-result event delivered twice
    _with_fault(events_cloud, "duplicate_events")
    # When a two-wave plan runs
    execution_id, arn = events_cloud.start(_two_waves(events_cloud))
    # Then it succeeds, each wave's waits woken by its events (a
    # duplicate at most ends the next wait at once: one more poll)
    assert events_cloud.finished(arn, RUN_TIMEOUT) == "SUCCEEDED"
    ends = _progress_waits(events_cloud, arn)
    assert ends and "timeout" not in ends, ends
    # And each wave started exactly one DRS job
    assert len(_launch_jobs(events_cloud)) == 2
    record = events_cloud.record_status(execution_id, "COMPLETED")
    assert [w["status"] for w in record["waves"]] == ["COMPLETED"] * 2


def test_dropped_events_complete_by_the_poll_backstop(events_cloud):
    # Given every DRS event dropped
    _with_fault(events_cloud, "drop_events")
    events_cloud.group("pg-db", sourceServerIds=events_cloud.ids("erp-db"))
    # When a one-wave plan runs
    execution_id, arn = events_cloud.start([wave(1, "pg-db")])
    # Then its wait timed out into the poll, which completed the wave
    assert events_cloud.finished(arn, RUN_TIMEOUT) == "SUCCEEDED"
    assert _progress_waits(events_cloud, arn) == ["timeout"]
    events_cloud.record_status(execution_id, "COMPLETED")


def _invoke(cloud, function, payload):
    response = cloud.cloud.client("lambda").invoke(
        FunctionName=function, Payload=json.dumps(payload)
    )
    assert "FunctionError" not in response, response
    return json.load(response["Payload"])


def test_cancel_during_the_wait_ends_it_at_once_and_later_events_are_ignored(
    events_cloud,
):
    # Given a running wave whose events are all dropped (its wait would
    # last the whole poll interval)
    _with_fault(events_cloud, "drop_events")
    execution_id, arn = events_cloud.start(_two_waves(events_cloud))

    def waiting():
        history = events_cloud.sfn.get_execution_history(
            executionArn=arn, maxResults=1000, reverseOrder=True
        )["events"]
        return any(
            e["type"] == "TaskStateEntered"
            and e["stateEnteredEventDetails"]["name"] == "WaitForProgress"
            for e in history
        )

    events_cloud.wait_until(waiting, timeout=RUN_TIMEOUT, message="waits")
    # When the user cancels
    answer = _invoke(
        events_cloud,
        EXECUTION_HANDLER,
        {
            "operation": "cancel_execution",
            "body": {"executionId": execution_id},
        },
    )
    assert answer.get("status") in ("CANCELLING", "CANCELLED"), answer
    # Then the cancel's StopExecution ended that wait (no timeout)
    assert events_cloud.finished(arn, RUN_TIMEOUT) == "ABORTED"
    assert "timeout" not in _progress_waits(events_cloud, arn)
    record = events_cloud.record_status(execution_id, "CANCELLED")
    # And a late launch result of its job wakes nothing and changes nothing
    job_id = record["waves"][0]["jobId"]
    late = {
        "source": "aws.drs",
        "detail-type": "DRS Source Server Launch Result",
        "region": REGION,
        "detail": {"state": "RECOVERY_LAUNCH_SUCCEEDED", "job-id": job_id},
    }
    answer = _invoke(
        events_cloud, ORCHESTRATION, {"action": "drs_event", "event": late}
    )
    assert answer == {"woken": False, "reason": "execution CANCELLED"}
    # (the drill cleanup after the cancel may record its TERMINATE job
    # meanwhile: compare what an event could have changed)
    after = events_cloud.record(execution_id)
    for key in ("status", "endTime", "statusReason", "currentWave"):
        assert after.get(key) == record.get(key), key


def test_a_spoke_accounts_events_reach_the_hub_and_wake_its_wait(
    events_cloud,
):
    # Given the spoke registered (its forward stack deployed by the local
    # cloud, as cfn/spoke/drs-events-forward.yaml) and a group there
    spoke = next(a for a in events_cloud.cloud.scenario.spokes)
    events_cloud.ddb.Table(ACCOUNTS).put_item(
        Item={
            "accountId": spoke.account_id,
            "accountName": spoke.name,
            "roleArn": f"arn:aws:iam::{spoke.account_id}:role/"
            f"{spoke.cross_account_role}",
            "externalId": spoke.external_id,
            "isCurrentAccount": False,
        }
    )
    events_cloud.group(
        "pg-portal",
        accountId=spoke.account_id,
        sourceServerIds=events_cloud.ids("portal", spoke.account_id),
    )
    # When a plan of that group runs from the hub
    _execution_id, arn = events_cloud.start([wave(1, "pg-portal")])
    # Then the spoke job's launch results, forwarded to the hub's bus,
    # woke the wait (no timeout)
    assert events_cloud.finished(arn, RUN_TIMEOUT) == "SUCCEEDED"
    ends = _progress_waits(events_cloud, arn)
    assert ends and "timeout" not in ends, ends
