"""The local cloud inside: Step Functions, packaged code, DRS, reset."""

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from localcloud.lambda_runtime import make_zip

HISTORY_TABLE = "hrp-drs-tech-adapter-execution-history-dev"
SPOKE = "210987654321"

# A real function: lists DRS servers of a tier, starts a drill, records the
# job in DynamoDB; with ``jobId`` it reports the job's status instead.
RECOVERY_SOURCE = """
import os

import boto3


def handler(event, context):
    drs = boto3.client("drs")
    if "jobId" in event:
        job = drs.describe_jobs(filters={"jobIDs": [event["jobId"]]})
        return {**event, "status": job["items"][0]["status"]}
    servers = drs.describe_source_servers(filters={})["items"]
    ids = [s["sourceServerID"] for s in servers
           if s["tags"].get("Tier") == event["tier"]]
    job = drs.start_recovery(
        sourceServers=[{"sourceServerID": i} for i in ids], isDrill=True
    )["job"]
    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    table.put_item(Item={"executionId": event["executionId"],
                         "jobId": job["jobID"], "servers": len(ids)})
    return {"jobId": job["jobID"], "servers": len(ids)}
"""

# Invokes itself ``depth`` times, nested: needs several warm workers.
NESTED_SOURCE = """
import json

import boto3


def handler(event, context):
    if event["depth"] == 0:
        return 0
    response = boto3.client("lambda").invoke(
        FunctionName=context.function_name,
        Payload=json.dumps({"depth": event["depth"] - 1}),
    )
    return 1 + json.loads(response["Payload"].read())
"""

RECORD_SOURCE = """
import os

import boto3


def handler(event, context):
    boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"]).put_item(
        Item={"executionId": event["executionId"], "status": "RECORDED"}
    )
"""


def create_function(cloud, source, timeout=30, env=None):
    """Register a throwaway packaged function; its unique name."""
    name = f"it-{uuid.uuid4().hex[:10]}"
    role = cloud.client("iam").create_role(
        RoleName=name, AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    cloud.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": make_zip({"index.py": source})},
        Timeout=timeout,
        Environment={"Variables": env or {"TABLE_NAME": HISTORY_TABLE}},
    )
    return name


def test_state_machine_runs_packaged_function_on_drs_and_dynamodb(
    local_cloud, wait_until
):
    # Given a packaged function and a state machine that starts a drill and
    # polls the job until it completes
    fn = create_function(local_cloud, RECOVERY_SOURCE)
    fn_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{fn}"
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": fn_arn, "Payload.$": "$"},
        "OutputPath": "$.Payload",
    }
    definition = {
        "StartAt": "Start",
        "States": {
            "Start": {**task, "Next": "Wait"},
            "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Poll"},
            "Poll": {**task, "Next": "Done?"},
            "Done?": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Variable": "$.status",
                        "StringEquals": "COMPLETED",
                        "Next": "Finished",
                    }
                ],
                "Default": "Wait",
            },
            "Finished": {"Type": "Succeed"},
        },
    }
    sfn = local_cloud.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=fn,
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )["stateMachineArn"]

    # When it runs twice (moto could not start a machine's second run)
    for tier, execution_id, count in (
        ("Database", "exec-1", 2),
        ("Web", "exec-2", 3),
    ):
        execution = sfn.start_execution(
            stateMachineArn=machine,
            input=json.dumps({"tier": tier, "executionId": execution_id}),
        )["executionArn"]

        # Then each succeeds with its job completed
        def finished():
            status = sfn.describe_execution(executionArn=execution)
            return status if status["status"] != "RUNNING" else None

        result = wait_until(finished, timeout=60, interval=0.5, message="sfn")
        assert result["status"] == "SUCCEEDED", result
        output = json.loads(result["output"])
        assert output["status"] == "COMPLETED"
        assert output["servers"] == count
        # and the function wrote its record with the DRS job id
        item = local_cloud.client("dynamodb").get_item(
            TableName=HISTORY_TABLE,
            Key={"executionId": {"S": execution_id}},
        )["Item"]
        assert item["jobId"]["S"] == output["jobId"]


def test_nested_invocations_of_one_function_do_not_deadlock(local_cloud):
    # Given a function that invokes itself, nested 3 deep
    fn = create_function(local_cloud, NESTED_SOURCE)

    # When invoked (twice at once: 8 invocations in flight at most)
    def run(_):
        response = local_cloud.client("lambda").invoke(
            FunctionName=fn, Payload=json.dumps({"depth": 3})
        )
        return response.get("FunctionError"), json.load(response["Payload"])

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(run, range(2)))

    # Then every chain returns its depth (throttled ones retry in boto3)
    assert results == [(None, 3), (None, 3)]


def test_event_invocation_runs_asynchronously(local_cloud, wait_until):
    # Given a function that records an item
    fn = create_function(local_cloud, RECORD_SOURCE)

    # When invoked with InvocationType Event
    response = local_cloud.client("lambda").invoke(
        FunctionName=fn,
        InvocationType="Event",
        Payload=json.dumps({"executionId": "async-1"}),
    )

    # Then Lambda accepts it and the item appears
    assert response["StatusCode"] == 202
    ddb = local_cloud.client("dynamodb")
    wait_until(
        lambda: ddb.get_item(
            TableName=HISTORY_TABLE, Key={"executionId": {"S": "async-1"}}
        ).get("Item"),
        timeout=20,
        message="async item",
    )


def test_packaged_function_with_template_environment_answers(local_cloud):
    # Given the data-management-handler deployed from lambda-stack.yaml
    name = "hrp-drs-tech-adapter-data-management-handler-dev"
    assert name in local_cloud.function_names

    # When listing protection groups by direct invocation
    response = local_cloud.client("lambda").invoke(
        FunctionName=name,
        Payload=json.dumps({"operation": "list_protection_groups"}),
    )

    # Then its packaged code answers from its (empty) table
    assert "FunctionError" not in response
    assert json.load(response["Payload"])["groups"] == []


def test_drs_launch_results_reach_the_alerts_topic(local_cloud, wait_until):
    # Given the DRS alerts topic fed by the eventbridge-stack rule
    from moto.sns.models import sns_backends

    topic = next(
        t
        for t in sns_backends["123456789012"]["us-east-1"].topics.values()
        if t.name == "hrp-drs-tech-adapter-drs-alerts-dev"
    )
    drs = local_cloud.client("drs")
    sid = drs.describe_source_servers(filters={})["items"][0]["sourceServerID"]

    # When a drill launches one server
    drs.start_recovery(sourceServers=[{"sourceServerID": sid}], isDrill=True)

    # Then the launch-result event is published to the topic
    def published():
        for _, message, *_ in topic.sent_notifications:
            event = json.loads(message)
            if event["detail-type"] == "DRS Source Server Launch Result":
                return event
        return None

    event = wait_until(published, timeout=30, message="alert")
    assert event["detail"]["state"] == "RECOVERY_LAUNCH_SUCCEEDED"


def test_spoke_servers_only_visible_through_the_spoke_role(local_cloud):
    # Given the spoke account of the scenario
    spoke = next(a for a in local_cloud.scenario.spokes)
    hub_drs = local_cloud.client("drs")
    hub_hosts = {
        s["sourceProperties"]["identificationHints"]["hostname"]
        for s in hub_drs.describe_source_servers(filters={})["items"]
    }

    # When the hub assumes the spoke role with its ExternalId
    creds = local_cloud.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{SPOKE}:role/{spoke.cross_account_role}",
        RoleSessionName="it",
        ExternalId=spoke.external_id,
    )["Credentials"]
    spoke_drs = boto3.client(
        "drs",
        region_name="us-east-1",
        endpoint_url=local_cloud.drs_url,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    spoke_hosts = {
        s["sourceProperties"]["identificationHints"]["hostname"]
        for s in spoke_drs.describe_source_servers(filters={})["items"]
    }

    # Then each account sees only its own servers
    assert spoke_hosts == {"portal-web-01", "portal-web-02"}
    assert not hub_hosts & spoke_hosts


def test_reset_clears_tables_and_drs_jobs(local_cloud):
    # Given a record and a DRS job
    ddb = local_cloud.client("dynamodb")
    ddb.put_item(
        TableName=HISTORY_TABLE, Item={"executionId": {"S": "before-reset"}}
    )
    drs = local_cloud.client("drs")
    sid = drs.describe_source_servers(filters={})["items"][0]["sourceServerID"]
    drs.start_recovery(sourceServers=[{"sourceServerID": sid}], isDrill=True)

    # When the cloud is reset
    local_cloud.reset()

    # Then both are gone and the scenario's servers are back
    assert ddb.scan(TableName=HISTORY_TABLE)["Items"] == []
    assert drs.describe_jobs(filters={})["items"] == []
    assert len(drs.describe_source_servers(filters={})["items"]) == 8


@pytest.mark.parametrize("bad", ["missing-module"])
def test_function_errors_surface_as_function_error(local_cloud, bad):
    # Given a function whose zip lacks a module it imports
    fn = create_function(
        local_cloud, "import shared_missing\n\ndef handler(e, c):\n    pass\n"
    )

    # When invoked
    response = local_cloud.client("lambda").invoke(FunctionName=fn)

    # Then the caller sees the AWS runtime's import error
    assert response["FunctionError"] == "Unhandled"
    error = json.load(response["Payload"])
    assert error["errorType"] == "Runtime.ImportModuleError"


def test_plan_runs_through_the_template_state_machine(local_cloud, wait_until):
    # Given two protection groups (database, application) and a 2-wave plan
    lam = local_cloud.client("lambda")

    def call(function, operation, body=None, path=None):
        response = lam.invoke(
            FunctionName=f"hrp-drs-tech-adapter-{function}-dev",
            Payload=json.dumps(
                {
                    "operation": operation,
                    "body": body or {},
                    "pathParameters": path,
                }
            ),
        )
        assert "FunctionError" not in response, response
        return json.load(response["Payload"])

    groups = [
        call(
            "data-management-handler",
            "create_protection_group",
            {
                "groupName": tier,
                "region": "us-east-1",
                "serverSelectionTags": {"Tier": tier},
            },
        )["groupId"]
        for tier in ("Database", "Application")
    ]
    plan = call(
        "data-management-handler",
        "create_recovery_plan",
        {
            "planName": "erp",
            "waves": [
                {
                    "waveNumber": n + 1,
                    "waveName": f"w{n}",
                    "protectionGroupId": g,
                }
                for n, g in enumerate(groups)
            ],
        },
    )

    # When the plan is executed (execution-handler -> state machine from
    # step-functions-stack.yaml -> generic orchestration -> handlers -> DRS)
    started = call(
        "execution-handler",
        "execute_recovery_plan",
        {"planId": plan["planId"], "executionType": "DRILL"},
    )

    # Then the execution completes with both waves completed
    def finished():
        details = call(
            "execution-handler",
            "get_execution_details",
            path={"id": started["executionId"]},
        )
        done = details["status"] in ("COMPLETED", "FAILED", "TIMEOUT")
        return details if done else None

    details = wait_until(finished, timeout=90, interval=1, message="plan")
    assert details["status"] == "COMPLETED", details
    assert [w["status"] for w in details["waves"]] == ["COMPLETED"] * 2
    # and the state machine execution of the template succeeded (it ends
    # just after its last function wrote COMPLETED: wait for it)
    sfn = local_cloud.client("stepfunctions")

    def machine_statuses():
        executions = sfn.list_executions(
            stateMachineArn=local_cloud.state_machine_arn
        )["executions"]
        statuses = [e["status"] for e in executions]
        return statuses if "RUNNING" not in statuses else None

    statuses = wait_until(machine_statuses, timeout=30, message="machine")
    assert statuses == ["SUCCEEDED"]


def test_reset_with_a_scenario_lasts_until_the_next_reset(local_cloud):
    from localcloud.scenario import scenario_from_dict

    # Given a scenario with one hub server and a new spoke account
    scenario = scenario_from_dict(
        {
            "accounts": [
                {
                    "id": "123456789012",
                    "name": "hub",
                    "role": "hub",
                    "regions": {
                        "us-east-1": {"source_servers": [{"hostname": "solo"}]}
                    },
                },
                {
                    "id": "333344445555",
                    "name": "other-spoke",
                    "role": "spoke",
                    "cross_account_role": "DRSOrchestrationCrossAccountRole",
                    "external_id": "other-external-id",
                    "regions": {"us-east-1": {"source_servers": []}},
                },
            ]
        }
    )
    drs = local_cloud.client("drs")

    # When it is loaded, Then DRS serves it and the new spoke has its role
    local_cloud.reset(scenario)
    assert len(drs.describe_source_servers(filters={})["items"]) == 1
    local_cloud.client("sts").assume_role(
        RoleArn="arn:aws:iam::333344445555:role/"
        "DRSOrchestrationCrossAccountRole",
        RoleSessionName="it",
        ExternalId="other-external-id",
    )
    # and a plain reset brings the start scenario back
    local_cloud.reset()
    assert len(drs.describe_source_servers(filters={})["items"]) == 8
