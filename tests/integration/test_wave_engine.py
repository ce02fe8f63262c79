"""The wave engine end to end on the local cloud: the real state machine
(ASL file), packaged functions, the DRS simulator (issue 6)."""

import copy
import json
import uuid

import boto3
import pytest
import yaml

from localcloud.scenario import (
    DEFAULT_SCENARIO,
    load_scenario,
    scenario_from_dict,
)
from localcloud.templates import CFN_DIR
from tests.helpers import with_server_rows
from tests.wave_parity import stable

REGION = "us-east-1"
SPOKE = "210987654321"
HISTORY = "hrp-drs-tech-adapter-execution-history-dev"
GROUPS = "hrp-drs-tech-adapter-protection-groups-dev"
ACCOUNTS = "hrp-drs-tech-adapter-target-accounts-dev"
LEGACY_FUNCTION = "hrp-drs-tech-adapter-orch-sf-dev"
RUN_TIMEOUT = 90.0


class Cloud:
    """Thin helpers over the local cloud for one test."""

    def __init__(self, cloud, wait_until):
        self.cloud = cloud
        self.wait_until = wait_until
        self.sfn = cloud.client("stepfunctions")
        creds = {
            "aws_access_key_id": cloud.credentials["AWS_ACCESS_KEY_ID"],
            "aws_secret_access_key": cloud.credentials[
                "AWS_SECRET_ACCESS_KEY"
            ],
        }
        self.ddb = boto3.resource(
            "dynamodb",
            region_name=REGION,
            endpoint_url=cloud.endpoint,
            **creds,
        )

    def ids(self, prefix, account=None):
        account = account or self.cloud.hub_account
        return [
            s.server_id
            for s in self.cloud.simulator.servers(account, REGION)
            if s.spec.hostname.startswith(prefix)
        ]

    def group(self, group_id, **attrs):
        item = {
            "groupId": group_id,
            "groupName": group_id,
            "region": REGION,
            "accountId": self.cloud.hub_account,
            "version": 1,
        }
        item.update(attrs)
        self.ddb.Table(GROUPS).put_item(Item=item)

    def start(self, waves, machine=None, execution_id=None):
        execution_id = execution_id or f"exec-{uuid.uuid4().hex[:8]}"
        hub = self.cloud.hub_account
        plan = {"planId": "plan-1", "planName": "Plan One", "waves": waves}
        arn = self.sfn.start_execution(
            stateMachineArn=machine or self.cloud.state_machine_arn,
            name=execution_id,
            input=json.dumps(
                {
                    "executionId": execution_id,
                    "plan": plan,
                    "isDrill": True,
                    "accountContext": {
                        "accountId": hub,
                        "isCurrentAccount": True,
                    },
                }
            ),
        )["executionArn"]
        return execution_id, arn

    def record(self, execution_id):
        """The execution item with its server records as ``servers``."""
        item = (
            self.ddb.Table(HISTORY)
            .get_item(Key={"executionId": execution_id}, ConsistentRead=True)
            .get("Item")
        )
        return with_server_rows(self.cloud.client("dynamodb"), item)

    def set_status(self, execution_id, status):
        self.ddb.Table(HISTORY).update_item(
            Key={"executionId": execution_id},
            UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": status},
        )

    def finished(self, arn, timeout=RUN_TIMEOUT):
        def done():
            status = self.sfn.describe_execution(executionArn=arn)["status"]
            return status if status != "RUNNING" else None

        return self.wait_until(done, timeout=timeout, message=f"{arn} ends")

    def record_status(self, execution_id, status, timeout=RUN_TIMEOUT):
        return self.wait_until(
            lambda: (self.record(execution_id) or {}).get("status") == status
            and self.record(execution_id),
            timeout=timeout,
            message=f"record {execution_id} becomes {status}",
        )


@pytest.fixture
def cloud(local_cloud, wait_until):
    return Cloud(local_cloud, wait_until)


def wave(number, group, **extra):
    return {
        "waveNumber": number,
        "waveName": f"Wave {number}",
        "protectionGroupId": group,
        **extra,
    }


def test_single_wave_completes(cloud):
    # Given a group of the two ERP database servers
    cloud.group("pg-db", sourceServerIds=cloud.ids("erp-db"))
    # When a one-wave plan runs through the state machine
    execution_id, arn = cloud.start([wave(1, "pg-db")])
    # Then the execution succeeds and the record is COMPLETED
    assert cloud.finished(arn) == "SUCCEEDED"
    record = cloud.record(execution_id)
    assert record["status"] == "COMPLETED" and record["endTime"]
    (only,) = record["waves"]
    assert only["status"] == "COMPLETED"
    assert {s["status"] for s in only["servers"]} == {"LAUNCHED"}
    assert all(s["instanceId"] for s in only["servers"])


def test_three_waves_run_in_order(cloud):
    # Given database, application and web groups
    cloud.group("pg-db", sourceServerIds=cloud.ids("erp-db"))
    cloud.group("pg-app", sourceServerIds=cloud.ids("erp-app"))
    cloud.group("pg-web", sourceServerIds=cloud.ids("erp-web"))
    waves = [wave(3, "pg-web"), wave(1, "pg-db"), wave(2, "pg-app")]
    # When the plan runs
    execution_id, arn = cloud.start(waves)
    # Then the waves ran one after the other, in waveNumber order
    assert cloud.finished(arn) == "SUCCEEDED"
    record = cloud.record(execution_id)
    assert record["status"] == "COMPLETED"
    assert [w["waveNumber"] for w in record["waves"]] == [1, 2, 3]
    assert [w["status"] for w in record["waves"]] == ["COMPLETED"] * 3
    for before, after in zip(record["waves"], record["waves"][1:]):
        assert before["endTime"] <= after["startTime"]
    hub = cloud.cloud.hub_account
    assert len(cloud.cloud.simulator.jobs(hub, REGION)) == 3


def test_pause_before_wave_two_then_resume(cloud):
    # Given a two-wave plan that pauses before wave 2
    cloud.group("pg-db", sourceServerIds=cloud.ids("erp-db"))
    cloud.group("pg-app", sourceServerIds=cloud.ids("erp-app"))
    waves = [wave(1, "pg-db"), wave(2, "pg-app", pauseBeforeWave=True)]
    execution_id, arn = cloud.start(waves)
    # When wave 1 completes / Then the record is PAUSED with a task token
    record = cloud.record_status(execution_id, "PAUSED")
    assert record["pausedBeforeWave"] == 1 and record["taskToken"]
    assert cloud.sfn.describe_execution(executionArn=arn)["status"] == (
        "RUNNING"
    )
    # When the token is sent back
    cloud.sfn.send_task_success(
        taskToken=record["taskToken"], output=json.dumps({"resumed": True})
    )
    # Then wave 2 runs and the execution completes
    assert cloud.finished(arn) == "SUCCEEDED"
    final = cloud.record(execution_id)
    assert final["status"] == "COMPLETED"
    assert [w["status"] for w in final["waves"]] == ["COMPLETED"] * 2


def test_cancelling_during_a_wave_ends_cancelled_and_fails(cloud):
    # Given a running two-wave plan
    cloud.group("pg-db", sourceServerIds=cloud.ids("erp-db"))
    cloud.group("pg-app", sourceServerIds=cloud.ids("erp-app"))
    execution_id, arn = cloud.start([wave(1, "pg-db"), wave(2, "pg-app")])
    cloud.record_status(execution_id, "RUNNING")
    # (wave 1's DRS job is recorded: a cancel before that starts no job)
    cloud.wait_until(
        lambda: cloud.record(execution_id)["waves"][0].get("jobId"),
        timeout=RUN_TIMEOUT,
        message="wave 1 records its DRS job",
    )
    # When the record is set to CANCELLING during wave 1
    cloud.set_status(execution_id, "CANCELLING")
    # Then the execution ends in Fail (never Succeed), the record CANCELLED
    assert cloud.finished(arn) == "FAILED"
    record = cloud.record_status(execution_id, "CANCELLED")
    assert record["waves"][0]["status"] == "CANCELLED"
    assert record["waves"][1]["status"] == "PENDING"
    hub = cloud.cloud.hub_account
    jobs = cloud.cloud.simulator.jobs(hub, REGION)
    assert [j.type for j in jobs if j.type == "LAUNCH"] == ["LAUNCH"]
    # And the poll's ending cleaned up the drill (the backup cancel path)
    (termination,) = record["terminations"]
    assert termination["terminatedBy"] == "drill cleanup after cancel"
    cloud.wait_until(
        lambda: _running_recovery_instances(cloud) == [],
        timeout=RUN_TIMEOUT,
        message="no recovery instance of the drill left running",
    )


@pytest.fixture
def faulty_cloud(cloud):
    """The sample scenario where erp-db-02 fails to launch; the default
    scenario is restored afterwards (``reset(scenario)`` keeps it)."""
    data = yaml.safe_load(DEFAULT_SCENARIO.read_text())
    data["faults"] = [{"type": "launch_failure", "server": "erp-db-02"}]
    cloud.cloud.reset(scenario_from_dict(data))
    yield cloud
    cloud.cloud.reset(load_scenario())


def test_server_launch_failure_fails_naming_wave_and_server(faulty_cloud):
    # Given erp-db-02 fails to launch
    cloud = faulty_cloud
    cloud.group("pg-db", sourceServerIds=cloud.ids("erp-db"))
    # When the plan runs
    execution_id, arn = cloud.start([wave(1, "pg-db")])
    # Then the execution fails and the record names the wave and server
    assert cloud.finished(arn) == "FAILED"
    record = cloud.record_status(execution_id, "FAILED")
    assert record["errorCode"] == "SERVER_LAUNCH_FAILED"
    assert "Wave 1" in record["error"] and "erp-db-02" in record["error"]
    assert record["waves"][0]["status"] == "FAILED"


FAILING_SCENARIO = (
    DEFAULT_SCENARIO.parent / "three-tier-failing.yaml"
)  # erp-app-02 fails to launch


def _running_recovery_instances(cloud):
    """EC2 ids of the LAUNCH jobs' recovery instances still running, from
    the simulator's jobs and the local cloud's EC2."""
    hub = cloud.cloud.hub_account
    ids = [
        server.recovery_instance_id
        for job in cloud.cloud.simulator.jobs(hub, REGION)
        if job.type == "LAUNCH"
        for server in job.servers.values()
        if server.recovery_instance_id
    ]
    reservations = cloud.cloud.client("ec2").describe_instances(
        InstanceIds=ids
    )["Reservations"]
    return [
        instance["InstanceId"]
        for reservation in reservations
        for instance in reservation["Instances"]
        if instance["State"]["Name"] not in ("terminated", "shutting-down")
    ]


def test_a_failed_drill_leaves_no_recovery_instance_running(cloud):
    # Given the failing three-tier scenario (erp-app-02 fails to launch)
    cloud.cloud.reset(load_scenario(FAILING_SCENARIO))
    try:
        cloud.group("pg-db", sourceServerIds=cloud.ids("erp-db"))
        cloud.group("pg-app", sourceServerIds=cloud.ids("erp-app"))
        # When a two-wave drill runs through the state machine
        execution_id, arn = cloud.start([wave(1, "pg-db"), wave(2, "pg-app")])
        # Then it fails on wave 2 naming the server
        assert cloud.finished(arn) == "FAILED"
        record = cloud.record_status(execution_id, "FAILED")
        assert "erp-app-02" in record["error"]
        # And the engine itself terminated every instance both waves
        # launched (one TERMINATE job, recorded on the execution)
        (termination,) = record["terminations"]
        assert termination["terminatedBy"] == "drill cleanup after failure"
        assert len(termination["recoveryInstanceIds"]) == 4
        cloud.wait_until(
            lambda: _running_recovery_instances(cloud) == [],
            timeout=RUN_TIMEOUT,
            message="no recovery instance of the drill left running",
        )
    finally:
        cloud.cloud.reset(load_scenario())


def test_tag_based_group_in_a_spoke_account(cloud):
    # Given the spoke account registered and a tag-based group there
    spoke = next(a for a in cloud.cloud.scenario.spokes)
    cloud.ddb.Table(ACCOUNTS).put_item(
        Item={
            "accountId": spoke.account_id,
            "accountName": spoke.name,
            "roleArn": f"arn:aws:iam::{spoke.account_id}:role/"
            f"{spoke.cross_account_role}",
            "externalId": spoke.external_id,
            "isCurrentAccount": False,
        }
    )
    cloud.group(
        "pg-portal",
        accountId=spoke.account_id,
        serverSelectionTags={"application": "portal"},
    )
    # When the plan runs from the hub
    execution_id, arn = cloud.start([wave(1, "pg-portal")])
    # Then the spoke's portal servers were recovered there
    assert cloud.finished(arn) == "SUCCEEDED"
    record = cloud.record(execution_id)
    servers = record["waves"][0]["servers"]
    assert sorted(s["sourceServerId"] for s in servers) == sorted(
        cloud.ids("portal", spoke.account_id)
    )
    assert len(cloud.cloud.simulator.jobs(spoke.account_id, REGION)) == 1
    assert cloud.cloud.simulator.jobs(cloud.cloud.hub_account, REGION) == []


# Differ between two executions besides times: their ids and jobs.
RUN_IDS = (
    "executionId",
    "stateMachineExecutionArn",
    "jobId",
    "jobIds",
    "execution_id",
    "execution_arn",
    "job_id",
    # How many polls a wave took depends on wall-clock timing here.
    "waitedSeconds",
    "current_wave_total_wait_time",
    # So does the DRS job status a poll last saw on a chunk: the wave
    # completes once its servers launched, and the job may end a moment
    # later (STARTED or COMPLETED).
    "jobStatus",
)


def _legacy_machine(cloud):
    """The same ASL file, its Lambda tasks on the legacy function."""
    sfn = cloud.sfn
    current = sfn.describe_state_machine(
        stateMachineArn=cloud.cloud.state_machine_arn
    )
    asl = (CFN_DIR / "statemachine" / "orchestration.asl.json").read_text()
    legacy_arn = cloud.cloud.client("lambda").get_function(
        FunctionName=LEGACY_FUNCTION
    )["Configuration"]["FunctionArn"]
    definition = asl.replace("${OrchestrationLambdaArn}", legacy_arn)
    return sfn.create_state_machine(
        name=f"legacy-{uuid.uuid4().hex[:6]}",
        definition=definition,
        roleArn=current["roleArn"],
    )["stateMachineArn"]


def test_generic_and_legacy_parity(cloud):
    # Given the same plan (ids, tags, a pause) for both functions
    def run(machine):
        cloud.cloud.reset()
        cloud.group("pg-db", sourceServerIds=cloud.ids("erp-db"))
        cloud.group("pg-app", serverSelectionTags={"Tier": "Application"})
        waves = [wave(1, "pg-db"), wave(2, "pg-app")]
        execution_id, arn = cloud.start(waves, machine=machine)
        status = cloud.finished(arn)
        assert status == "SUCCEEDED", cloud.record(execution_id)
        output = json.loads(
            cloud.sfn.describe_execution(executionArn=arn)["output"]
        )
        return copy.deepcopy(cloud.record(execution_id)), output

    # When run through the generic state machine, then the legacy one
    generic_record, generic_output = run(None)
    legacy_record, legacy_output = run(_legacy_machine(cloud))
    # Then records and final states match, ids and timestamps aside
    assert generic_record["status"] == "COMPLETED"
    assert stable(generic_record, RUN_IDS) == stable(legacy_record, RUN_IDS)
    assert stable(generic_output["application"], RUN_IDS) == stable(
        legacy_output["application"], RUN_IDS
    )
