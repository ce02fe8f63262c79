"""Faults declared in a scenario."""

import time

import boto3
import pytest
from botocore.config import Config

from .conftest import HUB, REGION, region_scenario

NO_RETRY = Config(retries={"mode": "standard", "total_max_attempts": 1})
TWO = [{"hostname": "a"}, {"hostname": "b"}]


def _client():
    return boto3.client("drs", region_name=REGION, config=NO_RETRY)


def _run_job(sim, drs):
    ids = [s.server_id for s in sim.servers(HUB, REGION)]
    job = drs.start_recovery(
        sourceServers=[{"sourceServerID": i} for i in ids]
    )["job"]
    sim.clock.advance(3600)
    done = drs.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"][0]
    log = drs.describe_job_log_items(jobID=job["jobID"])["items"]
    status = {
        p["sourceServerID"]: p["launchStatus"]
        for p in done["participatingServers"]
    }
    return ids, status, log


def test_throttle_on_the_nth_call(drs_factory):
    # Given DescribeJobs throttled on its 2nd call
    fault = {
        "type": "throttle",
        "operation": "DescribeJobs",
        "nth": 2,
        "retry_after_seconds": 5,
    }
    sim = drs_factory(region_scenario(TWO, faults=[fault]))
    drs = _client()
    # When it is called three times
    drs.describe_jobs()
    with pytest.raises(drs.exceptions.ThrottlingException) as err:
        drs.describe_jobs()
    drs.describe_jobs()
    # Then only the 2nd is throttled, with retryAfterSeconds
    assert err.value.response["retryAfterSeconds"] == "5"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert sim.call_count("DescribeJobs") == 3
    assert sim.call_count("DescribeSourceServers") == 0


def test_throttle_at_a_rate_is_seeded(drs_factory):
    # Given half of all calls throttled
    sim = drs_factory(
        region_scenario(TWO, faults=[{"type": "throttle", "rate": 0.5}])
    )
    drs = _client()
    # When calling 40 times
    outcomes = []
    for _ in range(40):
        try:
            drs.describe_source_servers()
            outcomes.append("ok")
        except drs.exceptions.ThrottlingException:
            outcomes.append("throttled")
    # Then some, not all, are throttled
    assert 5 < outcomes.count("throttled") < 35
    assert sim.call_count(account=HUB, region=REGION) == 40


def test_internal_error_is_a_500(drs_factory):
    # Given StartRecovery failing with a 5xx on its first call
    fault = {"type": "internal_error", "operation": "StartRecovery", "nth": 1}
    sim = drs_factory(region_scenario(TWO, faults=[fault]))
    drs = _client()
    sid = sim.servers(HUB, REGION)[0].server_id
    # When / Then the first call fails, the retry succeeds
    with pytest.raises(drs.exceptions.InternalServerException) as err:
        drs.start_recovery(sourceServers=[{"sourceServerID": sid}])
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert sim.jobs(HUB, REGION) == []
    drs.start_recovery(sourceServers=[{"sourceServerID": sid}])
    assert len(sim.jobs(HUB, REGION)) == 1


def test_added_latency(drs_factory):
    # Given 0.2 s latency on DescribeSourceServers
    fault = {
        "type": "latency",
        "operation": "DescribeSourceServers",
        "seconds": 0.2,
    }
    drs_factory(region_scenario(TWO, faults=[fault]))
    drs = _client()
    # When it is called
    began = time.monotonic()
    drs.describe_source_servers()
    # Then the answer took at least the latency
    assert time.monotonic() - began >= 0.2


def test_a_declared_server_launch_failure(drs_factory):
    # Given server "b" declared to fail its launch
    fault = {"type": "launch_failure", "server": "b"}
    sim = drs_factory(region_scenario(TWO, faults=[fault]))
    # When both launch
    ids, status, log = _run_job(sim, _client())
    # Then a launches, b fails with a LAUNCH_FAILED event and an event
    assert status == {ids[0]: "LAUNCHED", ids[1]: "FAILED"}
    failed = [i for i in log if i["event"] == "LAUNCH_FAILED"]
    assert [i["eventData"]["sourceServerID"] for i in failed] == [ids[1]]
    assert "injected" in failed[0]["eventData"]["rawError"]
    results = {
        e["resources"][0][-19:]: e["detail"]["state"] for e in sim.events
    }
    assert results[ids[1]] == "RECOVERY_LAUNCH_FAILED"


def test_a_whole_job_failure(drs_factory):
    # Given the first recovery job declared to fail
    sim = drs_factory(
        region_scenario(TWO, faults=[{"type": "job_failure", "nth": 1}])
    )
    drs = _client()
    # When two jobs run one after the other
    ids, first, log = _run_job(sim, drs)
    _, second, _ = _run_job(sim, drs)
    # Then every server of the first fails in conversion; the second works
    assert set(first.values()) == {"FAILED"}
    assert [i["event"] for i in log].count("CONVERSION_FAIL") == 2
    assert set(second.values()) == {"LAUNCHED"}


@pytest.mark.parametrize(
    "fault, expected",
    [("drop_events", 1), ("duplicate_events", 3)],
)
def test_events_dropped_or_duplicated(drs_factory, fault, expected):
    # Given the first launch-result event dropped or duplicated
    sim = drs_factory(region_scenario(TWO, faults=[{"type": fault, "nth": 1}]))
    # When two servers launch
    _run_job(sim, _client())
    # Then one event is missing or doubled
    assert len(sim.events) == expected
