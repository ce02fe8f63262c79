"""GET /recovery-plans/{id}/readiness: a healthy plan is READY; each
breakage, one at a time, is named by its check and its servers."""

import boto3
import pytest

from tests.helpers import HUB_ACCOUNT, REGION
from tests.unit.query_handler.readiness_support import (
    check,
    create_profile,
    failing_hosts,
    healthy_launch_config,
    hub_network,
    put_group,
    put_plan,
    readiness,
    set_replication,
    start_outside_job,
)


def build_healthy(world):
    """Plan p1: wave 1 the app servers, wave 2 the web servers, both with
    a launchable configuration."""
    create_profile()
    network = hub_network()
    config = healthy_launch_config(network)
    put_group(world, "pg-app", {"Tier": "app"}, config)
    put_group(world, "pg-web", {"Tier": "Web"}, config)
    put_plan(world, "p1", ["pg-app", "pg-web"])
    world.network = network
    world.config = config
    return world


@pytest.fixture
def healthy(small_world):
    return build_healthy(small_world)


def test_healthy_plan_is_ready_with_one_listing(healthy):
    # When the readiness of the healthy plan is asked
    report = readiness(healthy, "p1")
    # Then every check is READY and no server is named
    assert report["planId"] == "p1"
    assert report["status"] == "READY", report
    assert [c["name"] for c in report["checks"]] == [
        "access",
        "membership",
        "replication",
        "launch_configuration",
        "capacity",
    ]
    assert all(c["status"] == "READY" for c in report["checks"])
    assert all(c["servers"] == [] for c in report["checks"])
    assert report["checkedAt"]
    # And DRS was listed once, asked per server only for its template
    sim = healthy.sim
    assert sim.call_count("DescribeSourceServers", HUB_ACCOUNT) == 1
    assert sim.call_count("DescribeJobs", HUB_ACCOUNT) == 1
    assert sim.call_count("GetLaunchConfiguration", HUB_ACCOUNT) == 18


def test_stalled_server_is_not_ready(healthy):
    # Given one web server whose replication stalled
    set_replication(healthy, "web-03", "STALLED")
    # When the readiness is asked
    report = readiness(healthy, "p1")
    # Then the plan is NOT_READY, naming the server under replication
    assert report["status"] == "NOT_READY"
    replication = check(report, "replication")
    assert replication["status"] == "NOT_READY"
    assert failing_hosts(report, "replication") == ["web-03"]
    assert replication["servers"][0]["waveNumber"] == 2
    assert "STALLED" in replication["message"]
    assert check(report, "launch_configuration")["status"] == "READY"


def test_lag_over_the_rpo_target_warns(healthy):
    # Given a plan with an RPO target of 0 seconds and a lagging server
    put_plan(healthy, "p1", ["pg-app"], rpoTargetSeconds=30)
    server = healthy.sim.servers(HUB_ACCOUNT, REGION)
    lagging = next(s for s in server if s.spec.hostname == "app-001")
    original = lagging.render

    def render(account):
        rendered = original(account)
        rendered["dataReplicationInfo"]["lagDuration"] = "PT2M"
        return rendered

    lagging.render = render
    # When the readiness is asked
    report = readiness(healthy, "p1")
    # Then the plan warns about that server's lag
    assert report["status"] == "WARNING"
    assert failing_hosts(report, "replication") == ["app-001"]
    assert "120s exceeds the RPO target 30s" in (
        check(report, "replication")["message"]
    )


def test_deleted_subnet_is_not_ready(healthy):
    # Given the web group launches into a subnet that no longer exists
    config = dict(healthy.config, subnetId="subnet-0000dead")
    put_group(healthy, "pg-web", {"Tier": "Web"}, config)
    # When the readiness is asked
    report = readiness(healthy, "p1")
    # Then every web server is named under launch_configuration
    launch = check(report, "launch_configuration")
    assert launch["status"] == "NOT_READY"
    assert failing_hosts(report, "launch_configuration") == [
        f"web-{i:02d}" for i in range(1, 11)
    ]
    assert "subnet subnet-0000dead does not exist" in launch["message"]


def test_security_group_of_another_vpc_is_not_ready(healthy):
    # Given an override of app-001 with a security group of another VPC
    ec2 = boto3.client("ec2", region_name=REGION)
    other = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    foreign = ec2.create_security_group(
        GroupName="foreign", Description="other vpc", VpcId=other
    )["GroupId"]
    app = healthy.sim.server_id(HUB_ACCOUNT, REGION, "app-001")
    put_group(
        healthy,
        "pg-app",
        {"Tier": "app"},
        healthy.config,
        servers=[
            {
                "sourceServerId": app,
                "launchTemplate": {"securityGroupIds": [foreign]},
            }
        ],
    )
    # When the readiness is asked
    report = readiness(healthy, "p1")
    # Then only app-001 is named, with the VPC mismatch
    assert failing_hosts(report, "launch_configuration") == ["app-001"]
    message = check(report, "launch_configuration")["servers"][0]["message"]
    assert f"security group {foreign} is in {other}" in message


def test_instance_type_not_offered_in_the_az_is_not_ready(healthy):
    # Given a web group asking for a type EC2 does not offer
    config = dict(healthy.config, instanceType="x9.nonexistent")
    put_group(healthy, "pg-web", {"Tier": "Web"}, config)
    # When the readiness is asked
    report = readiness(healthy, "p1")
    # Then the web servers are named with the type and the AZ
    assert len(check(report, "launch_configuration")["servers"]) == 10
    assert "x9.nonexistent is not offered in us-east-1a" in (
        check(report, "launch_configuration")["message"]
    )


def test_static_ip_outside_the_cidr_and_in_use_are_not_ready(healthy):
    # Given app-001 with an IP outside its subnet and app-002 with one an
    # interface already holds
    subnet = healthy.config["subnetId"]
    ec2 = boto3.client("ec2", region_name=REGION)
    ec2.create_network_interface(SubnetId=subnet, PrivateIpAddress="10.0.1.50")
    ids = {
        h: healthy.sim.server_id(HUB_ACCOUNT, REGION, h)
        for h in ("app-001", "app-002")
    }
    put_group(
        healthy,
        "pg-app",
        {"Tier": "app"},
        healthy.config,
        servers=[
            {"sourceServerId": ids["app-001"], "staticPrivateIp": "10.0.9.9"},
            {
                "sourceServerId": ids["app-002"],
                "staticPrivateIp": "10.0.1.50",
            },
        ],
    )
    # When the readiness is asked
    report = readiness(healthy, "p1")
    # Then both are named, each with its own reason
    found = {
        s["hostname"]: s["message"]
        for s in check(report, "launch_configuration")["servers"]
    }
    assert set(found) == {"app-001", "app-002"}
    assert "10.0.9.9 is outside subnet" in found["app-001"]
    assert "10.0.1.50 is already in use" in found["app-002"]


def test_missing_instance_profile_is_not_ready(healthy):
    # Given a group naming an instance profile that does not exist
    config = dict(healthy.config, instanceProfileName="gone")
    put_group(healthy, "pg-app", {"Tier": "app"}, config)
    # When the readiness is asked
    report = readiness(healthy, "p1")
    # Then the app servers are named
    assert len(check(report, "launch_configuration")["servers"]) == 8
    assert "instance profile gone does not exist" in (
        check(report, "launch_configuration")["message"]
    )


def test_tags_selecting_nothing_and_server_in_two_waves(healthy):
    # Given a wave whose tags select nothing and a server in two waves
    put_group(healthy, "pg-none", {"Tier": "nothing"})
    web = healthy.sim.server_id(HUB_ACCOUNT, REGION, "web-01")
    healthy.tables["PROTECTION_GROUPS_TABLE"].put_item(
        Item={
            "groupId": "pg-one",
            "groupName": "pg-one",
            "region": REGION,
            "sourceServerIds": [web],
        }
    )
    put_plan(healthy, "p1", ["pg-web", "pg-none", "pg-one"])
    # When the readiness is asked
    report = readiness(healthy, "p1")
    # Then membership names the empty wave and the repeated server
    membership = check(report, "membership")
    assert membership["status"] == "NOT_READY"
    assert "wave 2" in membership["message"]
    assert failing_hosts(report, "membership") == ["web-01", "web-01"]


def test_quota_exhausted_by_jobs_outside_the_plan(make_world):
    # Given a plan of the web servers and 20 one-server DRS jobs of
    # other servers started outside it (every job slot used)
    healthy = build_healthy(make_world(32))
    put_plan(healthy, "p1", ["pg-web"])
    for i in range(1, 21):
        start_outside_job(healthy, [f"app-{i:03d}"])
    # When the readiness is asked
    report = readiness(healthy, "p1")
    # Then capacity is NOT_READY: no wave could start
    capacity = check(report, "capacity")
    assert capacity["status"] == "NOT_READY"
    assert "quotas are exhausted by running jobs (20/20 jobs" in (
        capacity["message"]
    )


def test_server_in_an_active_job_is_not_ready(healthy):
    # Given a drill of web-02 started outside the plan
    job = start_outside_job(healthy, ["web-02"])
    # When the readiness is asked
    report = readiness(healthy, "p1")
    # Then web-02 is busy in that job
    assert failing_hosts(report, "capacity") == ["web-02"]
    assert job in check(report, "capacity")["servers"][0]["message"]


def test_unknown_plan_is_404(healthy):
    # When the readiness of an unknown plan is asked (direct invocation)
    answer = healthy.handler(
        {"operation": "get_plan_readiness", "body": {"planId": "nope"}},
        None,
    )
    # Then it is a 404
    assert answer["error"] == "NOT_FOUND"


def test_blocking_subset_for_the_execution_start(healthy):
    # Given a stalled server and the plan as the execution start sees it
    from shared.readiness import (
        BLOCKING_CHECKS,
        evaluate_plan,
        failing_servers,
    )

    set_replication(healthy, "web-03", "STALLED")
    plans = healthy.tables["RECOVERY_PLANS_TABLE"]
    groups = healthy.tables["PROTECTION_GROUPS_TABLE"]
    plan = plans.get_item(Key={"planId": "p1"})["Item"]
    by_id = {
        g: groups.get_item(Key={"groupId": g})["Item"]
        for g in ("pg-app", "pg-web")
    }
    # When only the blocking checks run
    report = evaluate_plan(plan, by_id, checks=BLOCKING_CHECKS)
    # Then the launch configuration is not read and the refusal can name
    # each failing check and server
    assert [c["name"] for c in report["checks"]] == [
        "access",
        "membership",
        "replication",
        "capacity",
    ]
    assert healthy.sim.call_count("GetLaunchConfiguration") == 0
    web = healthy.sim.server_id(HUB_ACCOUNT, REGION, "web-03")
    assert failing_servers(report) == {"replication": [web]}


def test_server_in_another_running_execution_is_not_ready(healthy):
    # Given another plan's running execution recovering app-002
    app = healthy.sim.server_id(HUB_ACCOUNT, REGION, "app-002")
    healthy.tables["EXECUTION_HISTORY_TABLE"].put_item(
        Item={
            "executionId": "ex-other",
            "planId": "p-other",
            "status": "RUNNING",
            "startTime": 1,
            "waves": [{"waveNumber": 1, "serverIds": [app]}],
        }
    )
    # When the readiness is asked
    report = readiness(healthy, "p1")
    # Then app-002 is busy in that execution
    assert failing_hosts(report, "capacity") == ["app-002"]
    assert "running execution ex-other" in check(report, "capacity")["message"]


def test_a_wave_of_two_groups_is_checked_over_both(healthy):
    # Given one wave of the app and the web groups; the web group's
    # servers launch into a subnet that no longer exists
    bad = dict(healthy.config, subnetId="subnet-0000dead")
    put_group(healthy, "pg-web", {"Tier": "Web"}, bad)
    healthy.tables["RECOVERY_PLANS_TABLE"].put_item(
        Item={
            "planId": "p2",
            "planName": "p2",
            "version": 1,
            "waves": [
                {
                    "waveNumber": 1,
                    "waveName": "everything",
                    "protectionGroupId": "pg-app",
                    "protectionGroupIds": ["pg-app", "pg-web"],
                }
            ],
        }
    )
    # When the readiness is asked
    report = readiness(healthy, "p2")
    # Then the web servers are named with their own group's settings;
    # the app servers (their group's settings are good) are not
    assert failing_hosts(report, "launch_configuration") == [
        f"web-{i:02d}" for i in range(1, 11)
    ]
    # And both groups' servers were resolved: the stalled one of either
    # group would be named (the membership check sees the union)
    assert check(report, "membership")["status"] == "READY"
