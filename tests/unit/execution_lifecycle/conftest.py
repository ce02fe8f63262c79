"""Fixtures of the execution lifecycle tests.

``lc``: moto (Lambda without docker) + the DRS simulator (small hub-only
scenario, manual clock, in-process interception) + the five tables, a
state machine, the execution-handler function, the notifications topic
with an SQS subscriber. Asynchronous Lambda invocations are recorded as
they reach moto so a test can deliver them to the handler, as Lambda's
async queue would.
"""

import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import boto3
import pytest
from moto import mock_aws

from localcloud.drs.testing import simulated_drs
from localcloud.scenario import scenario_from_dict
from tests.helpers import HUB_ACCOUNT, REGION, api_event, create_tables
from tests.helpers import load_handler

FUNCTION = "hrp-drs-tech-adapter-execution-handler-dev"
STATE_MACHINE = "hrp-drs-tech-adapter-orchestration-dev"
TOPIC = "drs-execution-notifications"
DURATIONS = {
    "start": 1,
    "snapshot": 10,
    "conversion": 10,
    "launch": 10,
    "terminate": 5,
}


def scenario(servers: int = 8) -> Dict[str, Any]:
    """A hub-only scenario with ``servers`` servers named app-NN."""
    return {
        "seed": 5,
        "durations": DURATIONS,
        "accounts": [
            {
                "id": HUB_ACCOUNT,
                "name": "hub",
                "regions": {
                    REGION: {
                        "source_servers": [
                            {"hostname": "app-{i:02d}", "count": servers}
                        ]
                    }
                },
            }
        ],
        "faults": [],
    }


@dataclass
class Lifecycle:
    """The execution-handler under test and the world around it."""

    sim: Any
    tables: Dict[str, Any]
    topic_arn: str
    queue_url: str
    state_machine_arn: str
    async_calls: List[Dict[str, Any]] = field(default_factory=list)

    @property
    def handler(self):
        return load_handler("execution-handler").lambda_handler

    def direct(self, operation: str, body=None, query=None) -> Dict:
        """Direct invocation: the body dict (or an error body)."""
        event: Dict[str, Any] = {"operation": operation}
        if body is not None:
            event["body"] = body
        if query is not None:
            event["queryParams"] = query
        return self.handler(event, None)

    def rest(
        self, method: str, path: str, body=None, query=None, groups=None
    ) -> Tuple[int, Dict[str, Any]]:
        """REST via API Gateway: (statusCode, decoded body)."""
        response = self.handler(
            api_event(
                method,
                path,
                body=body,
                query=query,
                groups=groups or ("DRSOrchestrationAdmin",),
            ),
            None,
        )
        return response["statusCode"], json.loads(response["body"])

    def deliver_async(self, action: Optional[str] = None) -> List[Any]:
        """Run the queued async invocations (optionally of one action)."""
        results = []
        pending = [
            c
            for c in self.async_calls
            if action is None or c.get("action") == action
        ]
        for call in pending:
            self.async_calls.remove(call)
            results.append(self.handler(call, None))
        return results

    # data -------------------------------------------------------------
    def servers(self, count: int, offset: int = 0) -> List[str]:
        ids = sorted(
            s.server_id for s in self.sim.servers(HUB_ACCOUNT, REGION)
        )
        return ids[offset : offset + count]

    def group(self, group_id: str, server_ids: List[str]) -> str:
        self.tables["PROTECTION_GROUPS_TABLE"].put_item(
            Item={
                "groupId": group_id,
                "groupName": group_id,
                "region": REGION,
                "accountId": HUB_ACCOUNT,
                "sourceServerIds": server_ids,
                "version": 1,
            }
        )
        return group_id

    def plan(self, plan_id: str, *waves: Tuple[str, List[str]]) -> str:
        """A plan with one wave per (group id, servers); groups created."""
        items = []
        for number, (group_id, servers) in enumerate(waves, start=1):
            self.group(group_id, servers)
            items.append(
                {
                    "waveNumber": number,
                    "waveName": f"Wave {number}",
                    "protectionGroupId": group_id,
                    "pauseBeforeWave": False,
                }
            )
        self.tables["RECOVERY_PLANS_TABLE"].put_item(
            Item={
                "planId": plan_id,
                "planName": f"Plan {plan_id}",
                "waves": items,
                "version": 1,
            }
        )
        return plan_id

    def raw_record(self, execution_id: str) -> Dict[str, Any]:
        """The execution item as stored (per-wave summaries only)."""
        return self.tables["EXECUTION_HISTORY_TABLE"].get_item(
            Key={"executionId": execution_id}
        )["Item"]

    def record(self, execution_id: str) -> Dict[str, Any]:
        """The execution item with each wave's server records as its
        ``servers`` (``shared.server_records``)."""
        from shared.server_records import attach_servers

        return attach_servers(
            self.raw_record(execution_id),
            self.tables["EXECUTION_SERVERS_TABLE"],
        )

    def set_record(self, execution_id: str, **values: Any) -> None:
        """Write attributes as the wave engine would (no transition)."""
        names = {f"#k{i}": k for i, k in enumerate(values)}
        self.tables["EXECUTION_HISTORY_TABLE"].update_item(
            Key={"executionId": execution_id},
            UpdateExpression="SET "
            + ", ".join(f"#k{i} = :v{i}" for i in range(len(values))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={
                f":v{i}": v for i, v in enumerate(values.values())
            },
        )

    def start(self, plan_id: str, execution_type: str = "DRILL") -> str:
        """Start a plan and run its worker: the execution id."""
        body = self.direct(
            "execute_recovery_plan",
            {"planId": plan_id, "executionType": execution_type},
        )
        assert body.get("status") == "PENDING", body
        self.deliver_async("execute_recovery_plan_worker")
        return body["executionId"]

    def notifications(self) -> List[Dict[str, Any]]:
        """Messages the SQS subscriber received (drained)."""
        sqs = boto3.client("sqs", region_name=REGION)
        messages = []
        while True:
            got = sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not got:
                return messages
            for message in got:
                messages.append(json.loads(message["Body"]))
                sqs.delete_message(
                    QueueUrl=self.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                )

    def drs(self):
        return boto3.client("drs", region_name=REGION)


def _function(iam, lam) -> None:
    role = iam.create_role(
        RoleName="execution-handler-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"}),
    )["Role"]["Arn"]
    lam.create_function(
        FunctionName=FUNCTION,
        Runtime="python3.12",
        Role=role,
        Handler="index.lambda_handler",
        Code={"ZipFile": b"not run: the test delivers async calls"},
    )


def _record_async(calls: List[Dict[str, Any]]) -> None:
    from shared import aws_clients

    def record(params, **_kwargs):
        if params.get("InvocationType") == "Event":
            calls.append(json.loads(params["Payload"]))

    aws_clients._base_session().events.register(
        "provide-client-params.lambda.Invoke", record
    )


@pytest.fixture
def lc_factory(monkeypatch):
    """Build the lifecycle world for a scenario (default 8 servers)."""
    import contextlib

    with contextlib.ExitStack() as stack:

        def make(servers: int = 8) -> Lifecycle:
            stack.enter_context(
                mock_aws(config={"lambda": {"use_docker": False}})
            )
            sim = stack.enter_context(
                simulated_drs(
                    scenario_from_dict(scenario(servers)), start_mock=False
                )
            )
            tables = create_tables(
                boto3.resource("dynamodb", region_name=REGION)
            )
            iam = boto3.client("iam", region_name=REGION)
            _function(iam, boto3.client("lambda", region_name=REGION))
            sfn = boto3.client("stepfunctions", region_name=REGION)
            machine = sfn.create_state_machine(
                name=STATE_MACHINE,
                definition=json.dumps(
                    {
                        "StartAt": "Wait",
                        "States": {"Wait": {"Type": "Pass", "End": True}},
                    }
                ),
                roleArn=f"arn:aws:iam::{HUB_ACCOUNT}:role/sfn",
            )["stateMachineArn"]
            sns = boto3.client("sns", region_name=REGION)
            sqs = boto3.client("sqs", region_name=REGION)
            topic = sns.create_topic(Name=TOPIC)["TopicArn"]
            queue = sqs.create_queue(QueueName="notes")["QueueUrl"]
            queue_arn = sqs.get_queue_attributes(
                QueueUrl=queue, AttributeNames=["QueueArn"]
            )["Attributes"]["QueueArn"]
            sns.subscribe(
                TopicArn=topic,
                Protocol="sqs",
                Endpoint=queue_arn,
                Attributes={"RawMessageDelivery": "false"},
            )
            monkeypatch.setenv("STATE_MACHINE_ARN", machine)
            monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", FUNCTION)
            monkeypatch.setenv("EXECUTION_NOTIFICATIONS_TOPIC_ARN", topic)
            monkeypatch.setenv("WAVE_POLL_INTERVAL_SECONDS", "30")
            monkeypatch.setenv("WAVE_MAX_WAIT_SECONDS", "3600")
            from tests.helpers import reset_shared_caches

            reset_shared_caches()
            world = Lifecycle(sim, tables, topic, queue, machine)
            _record_async(world.async_calls)
            return world

        yield make


@pytest.fixture
def lc(lc_factory) -> Lifecycle:
    """The default lifecycle world (8 hub servers)."""
    return lc_factory()
