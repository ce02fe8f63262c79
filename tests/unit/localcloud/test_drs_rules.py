"""DRS's rules: conflicts, per-job and per-account quotas, health."""

import boto3
import pytest
from botocore.config import Config

from .conftest import HUB, REGION, region_scenario


def _servers(sim):
    return [s.server_id for s in sim.servers(HUB, REGION)]


def _start(drs, ids):
    return drs.start_recovery(
        sourceServers=[{"sourceServerID": i} for i in ids], isDrill=True
    )["job"]


@pytest.fixture
def drs():
    return boto3.client("drs", region_name=REGION)


def test_server_in_an_active_job_conflicts(drs_sim, drs):
    # Given a server in a PENDING job
    sid = _servers(drs_sim)[0]
    _start(drs, [sid])
    # When it is started again / Then DRS answers a conflict
    with pytest.raises(drs.exceptions.ConflictException) as err:
        _start(drs, [sid])
    assert err.value.response["resourceId"] == sid
    # And once the job completes it can be launched again
    drs_sim.clock.advance(3600)
    assert _start(drs, [sid])["status"] == "PENDING"


def test_more_than_100_servers_in_one_job_is_refused(drs_factory, drs):
    # Given 201 servers
    sim = drs_factory(region_scenario([{"hostname": "h{i}", "count": 201}]))
    ids = _servers(sim)
    # When 101 are requested / Then the per-job quota refuses
    with pytest.raises(drs.exceptions.ServiceQuotaExceededException) as err:
        _start(drs, ids[:101])
    assert "100" in err.value.response["Error"]["Message"]
    # And 201 break the model's list limit (200): ValidationException
    raw = boto3.client(
        "drs", region_name=REGION, config=Config(parameter_validation=False)
    )
    with pytest.raises(raw.exceptions.ValidationException) as invalid:
        _start(raw, ids)
    assert "sourceServers" in invalid.value.response["Error"]["Message"]
    # And exactly 100 is accepted
    assert len(_start(drs, ids[:100])["participatingServers"]) == 100
    assert sim.jobs(HUB, REGION)[0].status == "PENDING"


def test_at_most_20_active_jobs(drs_factory, drs):
    # Given 20 active jobs
    sim = drs_factory(region_scenario([{"hostname": "h{i}", "count": 21}]))
    ids = _servers(sim)
    for sid in ids[:20]:
        _start(drs, [sid])
    # When a 21st is started / Then the quota refuses it
    with pytest.raises(drs.exceptions.ServiceQuotaExceededException) as err:
        _start(drs, [ids[20]])
    assert err.value.response["quotaCode"] == "MaxConcurrentJobs"
    # And once they finish, it is accepted
    sim.clock.advance(3600)
    assert _start(drs, [ids[20]])["status"] == "PENDING"


def test_at_most_500_servers_in_active_jobs(drs_factory, drs):
    # Given 500 servers in 5 active jobs
    sim = drs_factory(region_scenario([{"hostname": "h{i}", "count": 501}]))
    ids = _servers(sim)
    for start in range(0, 500, 100):
        _start(drs, ids[start : start + 100])
    # When one more server is started / Then the quota refuses it
    with pytest.raises(drs.exceptions.ServiceQuotaExceededException) as err:
        _start(drs, [ids[500]])
    assert err.value.response["quotaCode"] == (
        "MaxSourceServersInAllActiveJobs"
    )
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 402


def test_unhealthy_replication_fails_the_launch(drs_factory, drs):
    # Given a healthy, a stalled and a not-ready server
    sim = drs_factory(
        region_scenario(
            [
                {"hostname": "ok"},
                {"hostname": "stalled", "replication_state": "STALLED"},
                {"hostname": "new", "ready": False},
            ]
        )
    )
    ids = _servers(sim)
    # When all three are launched and time passes
    job = _start(drs, ids)
    sim.clock.advance(3600)
    # Then only the healthy one launches; the others fail with a log event
    done = drs.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"][0]
    status = {
        p["sourceServerID"]: p["launchStatus"]
        for p in done["participatingServers"]
    }
    assert status == {ids[0]: "LAUNCHED", ids[1]: "FAILED", ids[2]: "FAILED"}
    log = drs.describe_job_log_items(jobID=job["jobID"])["items"]
    failed = [i for i in log if i["event"] == "LAUNCH_FAILED"]
    assert {i["eventData"]["sourceServerID"] for i in failed} == set(ids[1:])
    assert "STALLED" in failed[0]["eventData"]["rawError"]
    server = drs.describe_source_servers(
        filters={"sourceServerIDs": [ids[1]]}
    )["items"][0]
    assert server["lastLaunchResult"] == "FAILED"
    assert server["lifeCycle"]["lastLaunch"]["status"] == "FAILED"
