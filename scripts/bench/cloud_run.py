"""Run one plan on a running ``LocalCloud`` and record what it cost.

``BenchCloud`` starts a :class:`localcloud.stack.LocalCloud` with the
counters of :mod:`bench.counting` installed; ``run_plan`` creates the
plan's groups and plan through the data-management-handler, starts a
DRILL through the execution-handler, follows it to its end (deadline),
and returns a :class:`PlanRun`: per wave the simulated time of its
``StartRecovery`` and of its last server reaching LAUNCHED, the end of
the Step Functions execution (simulated), Lambda invocations per function
and DRS calls per wave.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from botocore.config import Config
from localcloud.drill.invoker import Invoker
from localcloud.drill.plan_setup import setup_plans
from localcloud.scenario import scenario_from_dict
from localcloud.stack import LocalCloud

from .counting import (
    POLL_OPERATIONS,
    DrsCallLog,
    InvocationCounter,
    delta,
    split_waves,
)
from .scenarios import HUB, REGION

from boto3.dynamodb.types import TypeDeserializer

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED"}
HISTORY_TABLE = "hrp-drs-tech-adapter-execution-history-dev"
EXECUTION_HANDLER = "hrp-drs-tech-adapter-execution-handler-dev"
DESERIALIZE = TypeDeserializer()
# Longer than any function's timeout (cfn: 300 s at most), one attempt: a
# retried invocation would run the operation again and hide its outcome.
INVOKE_CONFIG = Config(read_timeout=330, retries={"max_attempts": 1})
# How long the execution may run on after its record is terminal.
STOP_WAIT_SECONDS = 60.0


@dataclass
class PlanRun:
    """What one execution of a plan produced (times in simulated s)."""

    status: str
    waves: List[Dict[str, Any]]
    end_sim: Optional[float]
    wall_seconds: float
    invocations: Dict[str, int]
    drs_calls_per_wave: List[Dict[str, int]]
    drs_calls_setup: Dict[str, int]
    execution_arn: Optional[str] = None
    execution_id: Optional[str] = None
    record: Dict[str, Any] = field(default_factory=dict)
    raw_record: Dict[str, Any] = field(default_factory=dict)


class BenchCloud:
    """A ``LocalCloud`` with invocation and DRS call counters."""

    def __init__(
        self,
        scenario: Dict[str, Any],
        speed: float,
        poll_interval: int,
        orchestration: str = "generic",
        work_dir: Path = Path("build/bench/scenarios"),
        progress_mode: Optional[str] = None,
    ) -> None:
        work_dir = work_dir.resolve()  # workers chdir: keep paths absolute
        work_dir.mkdir(parents=True, exist_ok=True)
        path = work_dir / f"scenario-{uuid.uuid4().hex[:8]}.json"
        path.write_text(json.dumps(scenario))
        self.cloud = LocalCloud(
            scenario_path=path,
            speed=speed,
            orchestration=orchestration,
            poll_interval=poll_interval,
            # WaveProgressMode (None: the local cloud's default, events)
            progress_mode=progress_mode,
            # own logs and zips: other local clouds share build/local-cloud
            build_dir=work_dir.parent / "local-cloud",
        )
        self.speed = speed
        self.poll_interval = poll_interval
        self.invocations = InvocationCounter()
        self.drs_calls = DrsCallLog()

    def __enter__(self) -> "BenchCloud":
        self.cloud.start()
        self.invocations.install(self.cloud.runtime)
        self.drs_calls.install(self.cloud.simulator)
        # simulated = anchor_sim + (wall - anchor_wall) * speed
        self._anchor_wall = datetime.now(timezone.utc)
        self._anchor_sim = self.cloud.simulator.clock.now()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.cloud.stop()

    def load(self, scenario: Dict[str, Any]) -> None:
        """Reset the cloud with another scenario."""
        self.cloud.reset(scenario_from_dict(scenario))

    def sim_of_wall(self, wall: datetime) -> float:
        """Simulated epoch seconds of a wall-clock datetime."""
        elapsed = (wall - self._anchor_wall).total_seconds() * self.speed
        return self._anchor_sim.timestamp() + elapsed

    def record(self, execution_id: str, *fields: str) -> Dict[str, Any]:
        """The execution record as stored (DynamoDB JSON), or {}; only
        ``fields`` when given."""
        request: Dict[str, Any] = {}
        if fields:
            names = {f"#f{n}": field for n, field in enumerate(fields)}
            request.update(
                ProjectionExpression=", ".join(names),
                ExpressionAttributeNames=names,
            )
        answer = self.cloud.client("dynamodb").get_item(
            TableName=HISTORY_TABLE,
            Key={"executionId": {"S": execution_id}},
            ConsistentRead=True,
            **request,
        )
        return answer.get("Item") or {}

    def status(self, execution_id: str) -> Optional[str]:
        """The execution record's status alone (None: no record)."""
        item = self.record(execution_id, "status")
        return item.get("status", {}).get("S")

    def api(self) -> Invoker:
        """Direct invocation of the deployed handlers (no retries)."""
        return Invoker(
            self.cloud.client("lambda", INVOKE_CONFIG), caller="bench"
        )


def _wave_times(cloud: LocalCloud, since: float) -> List[Dict[str, Any]]:
    """Per LAUNCH job created after ``since`` (sim epoch), in order."""
    sim = cloud.simulator
    jobs = [
        j
        for j in sim.jobs(HUB, REGION)
        if j.type == "LAUNCH" and j.created.timestamp() >= since
    ]
    jobs.sort(key=lambda j: j.created)
    state = sim.regions[(HUB, REGION)]
    launched: Dict[str, List[float]] = {}
    for instance in state.recovery_instances.values():
        launched.setdefault(instance.job_id, []).append(
            instance.launched.timestamp()
        )
    return [
        {
            "jobId": j.job_id,
            "servers": len(j.servers),
            "startRecovery": j.created.timestamp(),
            "lastLaunched": max(launched.get(j.job_id, []), default=None),
            "jobStatus": j.status,
        }
        for j in jobs
    ]


def wait_for_end(
    bench: BenchCloud, execution_id: str, deadline: float, poll: float
) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """The execution record (plain, and as stored) once its status is
    terminal, or as it is at ``deadline`` (``time.monotonic()``)."""
    # Followed in DynamoDB, not through the handlers: the bench's own
    # polling must not count as Lambda invocations. Only the status is
    # read while it runs: the local cloud serves DynamoDB one request at
    # a time, and reading a 90 KB record five times a second took up to
    # half of that time from the run being measured.
    while time.monotonic() < deadline:
        if str(bench.status(execution_id)) in TERMINAL:
            break
        time.sleep(poll)
    raw = bench.record(execution_id)
    details = {k: DESERIALIZE.deserialize(v) for k, v in raw.items()}
    return details, raw


def _stop_date(
    bench: BenchCloud, arn: str, deadline: float, poll: float
) -> Optional[datetime]:
    """When the Step Functions execution stopped, or None at
    ``deadline``: a function may record the terminal status while its
    task, and so the execution, is still running (seen with legacy)."""
    sfn = bench.cloud.client("stepfunctions")
    while True:
        stopped = sfn.describe_execution(executionArn=arn).get("stopDate")
        if stopped is not None or time.monotonic() >= deadline:
            return stopped
        time.sleep(poll)


def run_plan(
    bench: BenchCloud,
    definition: Dict[str, Any],
    timeout: float = 600.0,
    poll: float = 0.2,
) -> PlanRun:
    """Create the plan, run one DRILL to its end, measure it."""
    api = bench.api()
    suffix = "-" + uuid.uuid4().hex[:6]
    setup = setup_plans(api, definition, bench.cloud.scenario, suffix)[0]
    since = bench.cloud.simulator.clock.now().timestamp()
    before = bench.invocations.snapshot()
    mark = bench.drs_calls.mark()
    wall0 = time.monotonic()
    started = api.execution(
        "execute_recovery_plan",
        {
            "planId": setup.plan_id,
            "executionType": "DRILL",
        },
    )
    execution_id = started["executionId"]
    details, raw = wait_for_end(bench, execution_id, wall0 + timeout, poll)
    wall = time.monotonic() - wall0
    status = str(details.get("status") or "UNKNOWN")
    if status not in TERMINAL:
        status = "TIMEOUT"
    arn = details.get("stateMachineExecutionArn")
    end_sim = None
    if arn and status in TERMINAL:
        limit = min(wall0 + timeout, time.monotonic() + STOP_WAIT_SECONDS)
        stopped = _stop_date(bench, arn, limit, poll)
        if stopped is not None:
            end_sim = bench.sim_of_wall(stopped)
    segments = split_waves(bench.drs_calls.operations(mark), POLL_OPERATIONS)
    return PlanRun(
        status=status,
        waves=_wave_times(bench.cloud, since),
        end_sim=end_sim,
        wall_seconds=round(wall, 2),
        # minus the bench's own execute_recovery_plan call
        invocations=delta(
            bench.invocations.snapshot(), {**before, EXECUTION_HANDLER: 1}
        ),
        drs_calls_per_wave=segments[1:],
        drs_calls_setup=segments[0],
        execution_arn=arn,
        execution_id=execution_id,
        record=details,
        raw_record=raw,
    )
