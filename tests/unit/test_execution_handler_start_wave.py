"""start_wave_recovery (execution-handler), tasks 1.9-1.13 of seeds/003."""

import boto3
import pytest

import wave_recovery
from tests.helpers import REGION, load_handler
from tests.unit.wave_engine_support import (
    HUB,
    SPOKE,
    base_state,
    wave_engine,
)
from tests.unit.wave_engine_support import TWO_WAVES as WAVES


@pytest.fixture
def engine(monkeypatch):
    with wave_engine(monkeypatch) as eng:
        eng.add_record("exec-1", total_waves=2)
        yield eng


def _template(account_ec2, template_id):
    return account_ec2.describe_launch_templates(
        LaunchTemplateIds=[template_id]
    )["LaunchTemplates"][0]


def test_start_wave_success_through_the_action(engine):
    # Given a group of the two database servers with a launch config
    ids = engine.ids("erp-db")
    engine.add_group(
        "pg-db",
        sourceServerIds=ids,
        launchConfig={"instanceType": "r5.2xlarge", "copyTags": False},
    )
    state = base_state(WAVES)
    # When the execution-handler receives the action
    handler = load_handler("execution-handler")
    result = handler.lambda_handler(
        {"action": "start_wave_recovery", "state": state, "wave_number": 0},
        None,
    )
    # Then a DRS drill job runs for both servers, tagged with the execution
    jobs = engine.sim.jobs(HUB, REGION)
    assert len(jobs) == 1 and jobs[0].is_drill
    assert sorted(jobs[0].servers) == sorted(ids)
    assert jobs[0].tags == {
        "DRSOrchExecutionId": "exec-1",
        "DRSOrchWave": "0",
        "DRSOrchPlanId": "plan-1",
        "DRSOrchJobChunk": "0",
    }
    # And the state says which job, region and servers
    assert result["job_id"] == jobs[0].job_id
    assert result["region"] == REGION
    # (the servers are on the record: the state holds no per-server list)
    assert result["server_ids"] == []
    assert result["status"] == "running" and not result["wave_completed"]
    assert result["current_wave_number"] == 0
    entry = result["wave_results"][0]
    assert entry["status"] == "STARTED" and entry["jobId"] == result["job_id"]
    # And the state carries counts, never a per-server list (bounded)
    assert entry["serverCount"] == 2 and entry["jobCount"] == 1
    assert "serverStatuses" not in entry
    # And the record's wave 0 is STARTED as one recorded job of 2 servers
    wave = engine.record("exec-1")["waves"][0]
    assert wave["status"] == "STARTED" and wave["jobId"] == result["job_id"]
    (job,) = wave["jobs"]
    assert job["status"] == "STARTED" and job["jobId"] == result["job_id"]
    assert (job["offset"], job["count"]) == (0, 2)
    assert {s["hostname"] for s in wave["servers"]} == {
        "erp-db-01",
        "erp-db-02",
    }
    # And the launch config was applied: DRS settings and a new default
    # launch template version with the instance type
    drs = boto3.client("drs", region_name=REGION)
    ec2 = boto3.client("ec2", region_name=REGION)
    for sid in ids:
        config = drs.get_launch_configuration(sourceServerID=sid)
        assert config["copyTags"] is False
        assert config["targetInstanceTypeRightSizingMethod"] == "NONE"
        template = _template(ec2, config["ec2LaunchTemplateID"])
        assert template["DefaultVersionNumber"] == 2
        data = ec2.describe_launch_template_versions(
            LaunchTemplateId=config["ec2LaunchTemplateID"], Versions=["2"]
        )["LaunchTemplateVersions"][0]["LaunchTemplateData"]
        assert data["InstanceType"] == "r5.2xlarge"


def test_group_not_found_fails_the_wave(engine):
    # Given a wave whose protection group does not exist
    state = base_state(WAVES)
    # When the wave starts
    result = wave_recovery.start_wave_recovery(state, 0)
    # Then the state and the record say failed with a specific code
    assert result["status"] == "failed" and result["wave_completed"]
    assert result["error_code"] == "PROTECTION_GROUP_NOT_FOUND"
    assert "pg-db" in result["error"]
    wave = engine.record("exec-1")["waves"][0]
    assert wave["status"] == "FAILED"
    assert wave["errorCode"] == "PROTECTION_GROUP_NOT_FOUND"
    assert engine.sim.jobs(HUB, REGION) == []


def test_tags_matching_nothing_fail_without_a_job(engine):
    # Given a tag-based group whose tags match no server
    engine.add_group("pg-db", serverSelectionTags={"Tier": "Mainframe"})
    state = base_state(WAVES)
    # When the wave starts
    result = wave_recovery.start_wave_recovery(state, 0)
    # Then the query-handler was asked, nothing resolved, no job started
    calls = engine.calls("query-handler")
    assert calls[0]["action"] == "query_servers_by_tags"
    assert calls[0]["tags"] == {"Tier": "Mainframe"}
    assert result["error_code"] == "NO_SERVERS_RESOLVED"
    assert result["status"] == "failed"
    assert engine.sim.jobs(HUB, REGION) == []


def test_drs_start_recovery_error_fails_the_wave(engine):
    # Given the servers are already in an active DRS job
    ids = engine.ids("erp-web")
    engine.add_group("pg-db", sourceServerIds=ids)
    drs = boto3.client("drs", region_name=REGION)
    drs.start_recovery(
        sourceServers=[{"sourceServerID": s} for s in ids], isDrill=True
    )
    # When the wave starts
    result = wave_recovery.start_wave_recovery(base_state(WAVES), 0)
    # Then DRS refused and the wave failed with a code and our words
    # naming the busy servers (the AWS text stays in the logs)
    assert result["error_code"] == "SERVER_CONFLICT"
    assert result["error"] == (
        f"Databases: server(s) {', '.join(ids)} are already in an active DRS "
        f"job in account {HUB}, region {REGION}"
    )
    assert "ConflictException" not in result["error"]
    assert result["job_id"] is None
    wave = engine.record("exec-1")["waves"][0]
    assert (wave["status"], wave["errorCode"]) == ("FAILED", "SERVER_CONFLICT")
    assert "An error occurred" not in wave["error"]
    assert len(engine.sim.jobs(HUB, REGION)) == 1


def test_launch_config_failure_starts_no_job_and_rolls_back(engine):
    # Given one of two servers is busy in another job (DRS refuses its
    # launch configuration update) and a group config for both
    busy, free = engine.ids("erp-app")[:2]
    engine.add_group(
        "pg-db",
        sourceServerIds=[free, busy],
        launchConfig={"copyTags": False, "instanceType": "m5.xlarge"},
    )
    drs = boto3.client("drs", region_name=REGION)
    ec2 = boto3.client("ec2", region_name=REGION)
    drs.start_recovery(sourceServers=[{"sourceServerID": busy}], isDrill=True)
    # When the wave starts
    result = wave_recovery.start_wave_recovery(base_state(WAVES), 0)
    # Then the wave failed on launch config, naming the busy server
    assert result["error_code"] == "LAUNCH_CONFIG_FAILED"
    assert busy in result["error"] and free not in result["error"]
    # And no new job was started
    assert len(engine.sim.jobs(HUB, REGION)) == 1
    # And the free server's settings were restored
    config = drs.get_launch_configuration(sourceServerID=free)
    assert config["copyTags"] is True
    template = _template(ec2, config["ec2LaunchTemplateID"])
    assert template["DefaultVersionNumber"] == 1


def test_cross_account_tag_group_runs_in_the_spoke(engine):
    # Given a registered spoke account and a tag-based group there
    engine.tables["TARGET_ACCOUNTS_TABLE"].put_item(
        Item={
            "accountId": SPOKE,
            "accountName": "portal-spoke",
            "roleArn": f"arn:aws:iam::{SPOKE}:role/"
            "DRSOrchestrationCrossAccountRole",
            "externalId": f"drs-orchestration-{SPOKE}",
            "isCurrentAccount": False,
        }
    )
    engine.add_group(
        "pg-db",
        accountId=SPOKE,
        serverSelectionTags={" application ": "PORTAL"},
    )
    # When the wave starts from a hub-context state
    result = wave_recovery.start_wave_recovery(base_state(WAVES), 0)
    # Then the tag query and the job ran in the spoke account
    call = engine.calls("query-handler")[0]
    assert call["account_context"]["accountId"] == SPOKE
    assert result["status"] == "running", result.get("error")
    spoke_jobs = engine.sim.jobs(SPOKE, REGION)
    assert len(spoke_jobs) == 1
    assert sorted(spoke_jobs[0].servers) == sorted(engine.ids("portal", SPOKE))
    assert engine.sim.jobs(HUB, REGION) == []
    assert result["job_account_context"]["accountId"] == SPOKE
