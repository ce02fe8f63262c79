"""Job progression over simulated time: states, log, EC2, events."""

import json
import time

import boto3
from localcloud.drs.clock import ManualClock, SimClock
from localcloud.drs.testing import simulated_drs
from localcloud.scenario import scenario_from_dict

from .conftest import HUB, REGION, region_scenario, start_all

NETWORKED = region_scenario(
    [
        {
            "hostname": "db-1",
            "tags": {"Tier": "Database"},
            "instance_type": "r5.large",
            "subnet": "data",
            "private_ip": "10.20.1.10",
        },
        {"hostname": "web-1", "tags": {"Tier": "Web"}, "subnet": "web"},
    ],
    network={
        "vpc_cidr": "10.20.0.0/16",
        "subnets": [
            {"name": "data", "cidr": "10.20.1.0/24"},
            {"name": "web", "cidr": "10.20.2.0/24"},
        ],
    },
)


def _job(drs, job_id):
    return drs.describe_jobs(filters={"jobIDs": [job_id]})["items"][0]


def test_job_and_servers_progress_with_the_clock(drs_factory):
    # Given two servers with copyPrivateIp on the database
    sim = drs_factory(NETWORKED)
    drs = boto3.client("drs", region_name=REGION)
    db, web = [s.server_id for s in sim.servers(HUB, REGION)]
    drs.update_launch_configuration(sourceServerID=db, copyPrivateIp=True)
    # When a drill starts
    job = drs.start_recovery(
        sourceServers=[{"sourceServerID": db}, {"sourceServerID": web}],
        isDrill=True,
        tags={"ExecutionId": "exec-1"},
    )["job"]
    seen_job, seen_server = [job["status"]], ["PENDING"]
    for _ in range(45):  # FAST phases: all done within 70 s
        sim.clock.advance(2)
        current = _job(drs, job["jobID"])
        status = current["participatingServers"][0]["launchStatus"]
        if current["status"] != seen_job[-1]:
            seen_job.append(current["status"])
        if status != seen_server[-1]:
            seen_server.append(status)
    # Then job and server move through DRS's states in order
    assert seen_job == ["PENDING", "STARTED", "COMPLETED"]
    assert seen_server == ["PENDING", "IN_PROGRESS", "LAUNCHED"]
    log = drs.describe_job_log_items(jobID=job["jobID"])["items"]
    per_db = [
        i["event"]
        for i in log
        if i.get("eventData", {}).get("sourceServerID") == db
    ]
    assert per_db == [
        "SNAPSHOT_START",
        "SNAPSHOT_END",
        "CONVERSION_START",
        "CONVERSION_END",
        "LAUNCH_START",
    ]
    assert [log[0]["event"], log[-1]["event"]] == ["JOB_START", "JOB_END"]
    # And a running EC2 instance exists, shaped by the launch template
    launch = next(
        i
        for i in log
        if i["event"] == "LAUNCH_START"
        and i["eventData"]["sourceServerID"] == db
    )
    instance_id = launch["eventData"]["targetInstanceID"]
    ec2 = boto3.client("ec2", region_name=REGION)
    instance = ec2.describe_instances(InstanceIds=[instance_id])[
        "Reservations"
    ][0]["Instances"][0]
    tags = {t["Key"]: t["Value"] for t in instance["Tags"]}
    subnet = ec2.describe_subnets(SubnetIds=[instance["SubnetId"]])["Subnets"][
        0
    ]
    assert instance["State"]["Name"] == "running"
    assert instance["InstanceType"] == "r5.large"
    assert instance["PrivateIpAddress"] == "10.20.1.10"
    assert subnet["CidrBlock"] == "10.20.1.0/24"
    assert tags["ExecutionId"] == "exec-1" and tags["Tier"] == "Database"
    # And the recovery instance id is the EC2 instance id
    recovery = drs.describe_recovery_instances(
        filters={"sourceServerIDs": [db]}
    )["items"][0]
    assert recovery["recoveryInstanceID"] == instance_id
    assert recovery["isDrill"] is True
    server = drs.describe_source_servers(filters={"sourceServerIDs": [db]})
    assert server["items"][0]["recoveryInstanceId"] == instance_id
    assert server["items"][0]["lastLaunchResult"] == "SUCCEEDED"


def test_phase_durations_are_realistic_minutes_by_default(drs_sim):
    # Given the sample scenario (default durations) and one drill
    drs = boto3.client("drs", region_name=REGION)
    sid = drs_sim.servers(HUB, REGION)[0].server_id
    job = drs.start_recovery(sourceServers=[{"sourceServerID": sid}])["job"]
    # When 5 simulated minutes pass / Then it is still running
    drs_sim.clock.advance(300)
    assert _job(drs, job["jobID"])["status"] == "STARTED"
    # When an hour passes / Then it is done
    drs_sim.clock.advance(3300)
    assert _job(drs, job["jobID"])["status"] == "COMPLETED"


def test_launch_results_reach_eventbridge(drs_factory):
    # Given an EventBridge rule on the default bus feeding a queue
    sim = drs_factory(NETWORKED)
    sqs = boto3.client("sqs", region_name=REGION)
    events = boto3.client("events", region_name=REGION)
    queue = sqs.create_queue(QueueName="drs-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(
        QueueUrl=queue, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    events.put_rule(
        Name="drs",
        EventPattern=json.dumps(
            {
                "source": ["aws.drs"],
                "detail-type": ["DRS Source Server Launch Result"],
            }
        ),
    )
    events.put_targets(Rule="drs", Targets=[{"Id": "q", "Arn": queue_arn}])
    ids = [s.server_id for s in sim.servers(HUB, REGION)]
    sim.regions[(HUB, REGION)].servers[ids[1]].spec.ready = False
    # When a recovery completes with nobody polling (tick only)
    job = start_all(sim)
    sim.clock.advance(3600)
    sim.tick()
    # Then one event per server arrives on the bus
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
    bodies = [json.loads(m["Body"]) for m in messages["Messages"]]
    states = {b["resources"][0]: b["detail"]["state"] for b in bodies}
    servers = sim.regions[(HUB, REGION)].servers
    assert states == {
        servers[ids[0]].arn: "RECOVERY_LAUNCH_SUCCEEDED",
        servers[ids[1]].arn: "RECOVERY_LAUNCH_FAILED",
    }
    assert all(b["source"] == "aws.drs" for b in bodies)
    assert {b["detail"]["job-id"] for b in bodies} == {job["jobID"]}
    assert all(b["detail"]["is-drill"] is False for b in bodies)
    assert len(sim.events) == 2


def test_ticker_emits_events_without_requests():
    # Given a fast simulated clock and the ticker
    scenario = scenario_from_dict(region_scenario([{"hostname": "a"}]))
    with simulated_drs(scenario, clock=SimClock(speed=600)) as sim:
        sid = sim.servers(HUB, REGION)[0].server_id
        sim.handle(
            "StartRecovery",
            {"sourceServers": [{"sourceServerID": sid}]},
            HUB,
            REGION,
        )
        sim.start_ticker(0.02)
        # When nobody polls (60 simulated seconds = 0.1 s wall at most)
        deadline = time.monotonic() + 5
        while not sim.events and time.monotonic() < deadline:
            time.sleep(0.02)
        sim.stop_ticker()
    # Then the launch result was still published
    assert [e["detail"]["state"] for e in sim.events] == [
        "RECOVERY_LAUNCH_SUCCEEDED"
    ]


def _timeline(seed):
    data = region_scenario([{"hostname": "x"}, {"hostname": "y"}])
    data["seed"] = seed
    with simulated_drs(scenario_from_dict(data), clock=ManualClock()) as sim:
        ids = [s.server_id for s in sim.servers(HUB, REGION)]
        job = start_all(sim)
        sim.clock.advance(3600)
        log = sim.handle(
            "DescribeJobLogItems", {"jobID": job["jobID"]}, HUB, REGION
        )["items"]
    return ids, job["jobID"], [(i["event"], i["logDateTime"]) for i in log]


def test_same_seed_same_ids_and_timeline():
    # Given / When the same scenario runs twice, and once with another seed
    first, second, other = _timeline(1), _timeline(1), _timeline(2)
    # Then ids and log times repeat exactly, and differ with the seed
    assert first == second
    assert other[0] != first[0] and other[2] != first[2]


def test_reset_and_reload_reuse_moto_resources(drs_factory):
    # Given a loaded networked scenario
    sim = drs_factory(NETWORKED)
    before = {
        s.server_id: s.launch_template_id for s in sim.servers(HUB, REGION)
    }
    sim.handle("DescribeJobs", {}, HUB, REGION)
    # When the simulator is reset and the scenario loaded again
    sim.reset()
    assert sim.regions == {} and sim.call_count() == 0
    sim.load(scenario_from_dict(NETWORKED))
    # Then ids and launch templates are the same, subnets not duplicated
    after = {
        s.server_id: s.launch_template_id for s in sim.servers(HUB, REGION)
    }
    assert after == before
    ec2 = boto3.client("ec2", region_name=REGION)
    cidrs = [s["CidrBlock"] for s in ec2.describe_subnets()["Subnets"]]
    assert cidrs.count("10.20.1.0/24") == 1
