"""Shared set-up for the wave engine tests (issue 6).

``wave_engine(monkeypatch, faults=...)`` yields an :class:`Engine`: moto
(Lambda without Docker), the five tables, the DRS simulator on the sample
three-tier scenario (manual clock) and moto's Lambda invoke routed to the
real handlers in-process, recording every invocation (asynchronous ones
are queued until ``deliver_async``).
"""

import contextlib
import copy
import json
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional
from unittest import mock

import boto3
import yaml

from tests.helpers import REGION, create_tables, load_handler

HUB = "123456789012"
SPOKE = "210987654321"
PREFIX = f"arn:aws:lambda:{REGION}:{HUB}:function:hrp-drs-tech-adapter"
FUNCTIONS = {
    "execution-handler": f"{PREFIX}-execution-handler-dev",
    "query-handler": f"{PREFIX}-query-handler-dev",
    "dr-orchestration-stepfunction": f"{PREFIX}-dr-orch-sf-dev",
    "orchestration-stepfunctions": f"{PREFIX}-orch-sf-dev",
}
# Generous enough for the sample scenario's slowest server.
LAUNCH_SECONDS = 1200
# A two-wave plan on the scenario's database and application groups.
TWO_WAVES = [
    {"waveNumber": 1, "waveName": "Databases", "protectionGroupId": "pg-db"},
    {"waveNumber": 2, "waveName": "Apps", "protectionGroupId": "pg-app"},
]


@dataclass
class Engine:
    """Everything a wave engine test touches."""

    sim: Any
    tables: Dict[str, Any]
    invocations: List[Dict[str, Any]] = field(default_factory=list)
    fail_functions: Dict[str, str] = field(default_factory=dict)
    # Asynchronous (Event) invocations, queued as Lambda would.
    async_calls: List[Dict[str, Any]] = field(default_factory=list)

    @property
    def groups(self) -> Any:
        return self.tables["PROTECTION_GROUPS_TABLE"]

    @property
    def history(self) -> Any:
        return self.tables["EXECUTION_HISTORY_TABLE"]

    def ids(self, hostname_prefix: str, account: str = HUB) -> List[str]:
        """Source server ids whose hostname starts with the prefix."""
        return [
            s.server_id
            for s in self.sim.servers(account, REGION)
            if s.spec.hostname.startswith(hostname_prefix)
        ]

    def advance(self, seconds: float = LAUNCH_SECONDS) -> None:
        """Move simulated DRS time forward."""
        self.sim.clock.advance(seconds)
        self.sim.tick()

    def add_group(self, group_id: str, **attrs: Any) -> Dict[str, Any]:
        item = {
            "groupId": group_id,
            "groupName": group_id,
            "region": REGION,
            "accountId": HUB,
            "version": 1,
        }
        item.update(attrs)
        self.groups.put_item(Item=item)
        return item

    def add_record(self, execution_id: str, total_waves: int, **attrs):
        item = {
            "executionId": execution_id,
            "planId": "plan-1",
            "planName": "Plan One",
            "executionType": "DRILL",
            "isDrill": True,
            "status": "RUNNING",
            "startTime": "2026-01-01T00:00:00+00:00",
            "version": 1,
            "waves": [
                {"waveNumber": i, "status": "PENDING", "servers": []}
                for i in range(total_waves)
            ],
        }
        item.update(attrs)
        self.history.put_item(Item=item)
        return item

    def raw_record(self, execution_id: str) -> Dict[str, Any]:
        """The execution item as stored (per-wave summaries only)."""
        return self.history.get_item(
            Key={"executionId": execution_id}, ConsistentRead=True
        )["Item"]

    def record(self, execution_id: str) -> Dict[str, Any]:
        """The execution item with each wave's server records as its
        ``servers`` (``shared.server_records``)."""
        from shared.server_records import attach_servers

        return attach_servers(self.raw_record(execution_id))

    def running_recovery_instances(self) -> List[str]:
        """EC2 ids of the recovery instances the LAUNCH jobs launched
        that are neither terminated nor shutting down (EC2's own view)."""
        ids = [
            server.recovery_instance_id
            for job in self.sim.jobs(HUB, REGION)
            if job.type == "LAUNCH"
            for server in job.servers.values()
            if server.recovery_instance_id
        ]
        if not ids:
            return []
        ec2 = boto3.client("ec2", region_name=REGION)
        found = ec2.describe_instances(InstanceIds=ids)["Reservations"]
        return [
            instance["InstanceId"]
            for reservation in found
            for instance in reservation["Instances"]
            if instance["State"]["Name"] not in ("terminated", "shutting-down")
        ]

    def deliver_async(self) -> List[Any]:
        """Run the queued asynchronous invocations (their answers)."""
        queued, self.async_calls[:] = list(self.async_calls), []
        return [
            load_handler(call["fn"]).lambda_handler(call["payload"], None)
            for call in queued
        ]

    def calls(self, folder: str) -> List[Dict[str, Any]]:
        """Payloads of the invocations of one function."""
        return [c["payload"] for c in self.invocations if c["fn"] == folder]


def base_state(waves: List[Dict[str, Any]], **overrides: Any) -> dict:
    """A state as ``begin`` builds it (CONTRACTS §3), with overrides."""
    from shared.orchestration_core import build_state

    state = build_state(plan_event(waves))
    state.update(overrides)
    return state


def _folder_of(function_name: str) -> Optional[str]:
    for folder, arn in FUNCTIONS.items():
        if function_name in (arn, arn.rsplit(":", 1)[-1]):
            return folder
    return None


@contextlib.contextmanager
def _route_lambda(engine: Engine) -> Iterator[None]:
    """Run moto Lambda invokes through the real handlers in-process."""

    def invoke(self, function_name, qualifier, body, headers, resp_headers):
        folder = _folder_of(function_name)
        payload = json.loads(body or "{}")
        if (headers or {}).get("X-Amz-Invocation-Type") == "Event":
            engine.async_calls.append({"fn": folder, "payload": payload})
            return b"{}"
        engine.invocations.append(
            {"fn": folder, "payload": copy.deepcopy(payload)}
        )
        if folder in engine.fail_functions:
            resp_headers["x-amz-function-error"] = "Unhandled"
            error = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": engine.fail_functions[folder],
            }
            return json.dumps(error).encode()
        try:
            result = load_handler(folder).lambda_handler(payload, None)
        except Exception as error:  # noqa: BLE001 - like Lambda does
            resp_headers["x-amz-function-error"] = "Unhandled"
            body = {
                "errorType": type(error).__name__,
                "errorMessage": str(error),
            }
            return json.dumps(body).encode()
        return json.dumps(result).encode()

    target = "moto.awslambda_simple.models.LambdaSimpleBackend.invoke"
    with mock.patch(target, invoke):
        yield


def scenario_dict(faults: Optional[List[dict]] = None) -> dict:
    """The sample three-tier scenario with extra faults."""
    from localcloud.scenario import DEFAULT_SCENARIO

    data = yaml.safe_load(DEFAULT_SCENARIO.read_text())
    data = copy.deepcopy(data)
    data["faults"] = list(faults or [])
    return data


@contextlib.contextmanager
def wave_engine(
    monkeypatch: Any, faults: Optional[List[dict]] = None
) -> Iterator[Engine]:
    """moto + tables + DRS simulator + routed Lambda invokes."""
    from moto import mock_aws

    from localcloud.drs.testing import simulated_drs
    from localcloud.scenario import scenario_from_dict
    from tests.helpers import reset_shared_caches

    monkeypatch.setenv("EXECUTION_HANDLER_ARN", FUNCTIONS["execution-handler"])
    monkeypatch.setenv("QUERY_HANDLER_ARN", FUNCTIONS["query-handler"])
    # Only execution-handler code reads its own name (its async workers).
    monkeypatch.setenv(
        "AWS_LAMBDA_FUNCTION_NAME", FUNCTIONS["execution-handler"]
    )
    monkeypatch.setenv("WAVE_POLL_INTERVAL_SECONDS", "30")
    monkeypatch.setenv("WAVE_MAX_WAIT_SECONDS", "3600")
    reset_shared_caches()
    config = {"lambda": {"use_docker": False}}
    with mock_aws(config=config):
        tables = create_tables(boto3.resource("dynamodb", region_name=REGION))
        scenario = scenario_from_dict(scenario_dict(faults))
        with simulated_drs(scenario, start_mock=False) as sim:
            engine = Engine(sim=sim, tables=tables)
            with _route_lambda(engine):
                yield engine


def plan_event(waves: List[Dict[str, Any]], execution_id: str = "exec-1"):
    """The state machine input of CONTRACTS §2 plus ``$$.Execution.Id``."""
    return {
        "action": "begin",
        "executionId": execution_id,
        "execution": "arn:aws:states:us-east-1:123456789012:execution:"
        f"hrp-drs-tech-adapter-orchestration-dev:{execution_id}",
        "plan": {"planId": "plan-1", "planName": "Plan One", "waves": waves},
        "isDrill": True,
        "accountContext": {"accountId": HUB, "isCurrentAccount": True},
    }


def drive(engine: Engine, folder: str, event: dict, max_steps: int = 20):
    """Run a plan through an orchestration function as the state machine
    would: begin, then poll (advancing DRS time), pausing via
    store_task_token + resume_wave, until a terminal status.

    Returns every state the function returned, in order.
    """
    handler = load_handler(folder).lambda_handler
    states = [handler(event, None)]
    for _ in range(max_steps):
        state = states[-1]
        if state["status"] == "paused":
            handler(
                {
                    "action": "store_task_token",
                    "application": state,
                    "taskToken": "token-1",
                },
                None,
            )
            action = "resume_wave"
        elif state["status"] == "running":
            engine.advance()
            action = "poll_wave_status"
        else:
            return states
        try:
            result = handler({"action": action, "application": state}, None)
        except Exception as error:  # noqa: BLE001 - as the state machine
            if action != "poll_wave_status":
                raise
            # The poll's retries exhausted: the catch records the failure
            result = handler(
                {
                    "action": "record_failure",
                    "application": state,
                    "error": type(error).__name__,
                    "cause": str(error),
                },
                None,
            )
        states.append(result)
    raise AssertionError(f"no terminal status after {max_steps} steps")
