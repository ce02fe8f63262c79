"""``DrsSimulator``: per account/region DRS state behind one lock."""

from __future__ import annotations

import copy
import ipaddress
import random
import threading
import time
import uuid
from collections import Counter
from datetime import datetime
from typing import Any

from ..scenario import SERVER_ID, Scenario, ScenarioError
from . import aws_bridge, progress
from .clock import ManualClock, SimClock
from .errors import uninitialized, validation_error
from .faults import FaultInjector
from .model import Job, JobServer, RegionState, SourceServer, arn, hex_id
from .operations import OPERATIONS
from .protocol import service_model, validate

DEFAULT_LAUNCH_CONFIG = {
    "launchDisposition": "STARTED",
    "targetInstanceTypeRightSizingMethod": "NONE",
    "copyPrivateIp": False,
    "copyTags": True,
    "licensing": {"osByol": True},
    "postLaunchEnabled": False,
}


def source_ips(
    account: str, region: str, specs: list, subnets: list[str | None]
) -> list[str]:
    """Each source server's private IP: the scenario's, else derived.

    Derived IPs are the free host addresses of the server's subnet from
    ``.10`` on, in load order (deterministic).
    """
    used = {s.private_ip for s in specs if s.private_ip}
    pools: dict[str, Any] = {}
    result = []
    for spec, subnet in zip(specs, subnets):
        if spec.private_ip or not subnet:
            result.append(spec.private_ip or "")
            continue
        if subnet not in pools:
            cidr = aws_bridge.subnet_cidr(account, region, subnet)
            hosts = ipaddress.ip_network(cidr).hosts()
            pools[subnet] = (str(h) for i, h in enumerate(hosts) if i >= 9)
        ip = next((h for h in pools[subnet] if h not in used), None)
        if ip is None:
            raise _subnet_full(account, region, specs, subnets, spec, subnet)
        used.add(ip)
        result.append(ip)
    return result


def _subnet_full(
    account: str,
    region: str,
    specs: list,
    subnets: list[str | None],
    spec: Any,
    subnet: str,
) -> ScenarioError:
    """The error of a subnet with fewer free addresses than servers."""
    needing = sum(
        1
        for s, sub in zip(specs, subnets)
        if sub == subnet and not s.private_ip
    )
    cidr = aws_bridge.subnet_cidr(account, region, subnet)
    return ScenarioError(
        f"accounts[{account}].regions.{region}: subnet "
        f"{spec.subnet or 'default'!r} ({subnet}, {cidr}) has too few free "
        f"host addresses (from .10 on) for its {needing} source servers "
        f"without private_ip; use a larger subnet or several subnets"
    )


def _source_instance(
    account: str, region: str, spec: Any, subnet: str | None, ip: str
) -> str:
    """The source EC2 instance of a server (``ec2_instance``)."""
    if not subnet:
        raise ValueError(f"{spec.hostname}: ec2_instance needs a subnet")
    cidr = aws_bridge.subnet_cidr(account, region, subnet)
    if ipaddress.ip_address(ip) not in ipaddress.ip_network(cidr):
        raise ValueError(
            f"{spec.hostname}: ec2_instance private_ip {ip} is not in its "
            f"subnet {cidr}"
        )
    return aws_bridge.ensure_source_instance(
        account,
        region,
        aws_bridge.source_subnet(account, region, subnet),
        ip,
        spec.instance_type,
        spec.tags,
    )


def _job_rng(job: Job) -> random.Random:
    """The job's own jitter: seeded from its id, itself derived from
    (seed, account, region, job ordinal in that account/region), so a
    job's timeline does not depend on other accounts' calls."""
    return random.Random(job.job_id)  # nosec B311


class DrsSimulator:
    """A stateful DRS: load a scenario, then ``handle`` operations.

    Thread-safe (one lock). Progress follows ``clock``; it is applied on
    every request, by ``tick()``, and by the optional ticker thread.
    """

    def __init__(
        self, clock: SimClock | ManualClock | None = None, seed: int = 0
    ):
        self.clock = clock or SimClock(60.0)
        self.seed = seed
        self._lock = threading.RLock()
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()
        self.reset()

    # -- state -----------------------------------------------------------
    def reset(self) -> None:
        """Forget everything (scenario, jobs, events, counters)."""
        with self._lock:
            self.scenario: Scenario | None = None
            self.regions: dict[tuple[str, str], RegionState] = {}
            self.durations = dict(Scenario(accounts=[]).durations)
            self.faults = FaultInjector([], self.seed)
            self.events: list[dict[str, Any]] = []
            self._outbox: list[dict[str, Any]] = []
            self.calls: Counter = Counter()
            # jobs created per (account, region): a job's ordinal
            self._job_counts: Counter = Counter()

    def load(self, scenario: Scenario) -> None:
        """Create the scenario's servers, subnets and launch templates."""
        with self._lock:
            self.scenario = scenario
            self.seed = scenario.seed
            self.durations = dict(scenario.durations)
            self.faults = FaultInjector(scenario.faults, scenario.seed)
            now = self.clock.now()
            for account in scenario.accounts:
                for region in account.regions:
                    self._load_region(account.account_id, region, now)
            self._check_fault_servers(scenario)

    def _check_fault_servers(self, scenario: Scenario) -> None:
        """A fault's ``server`` given as an id must be a loaded server
        (the loader checked hostnames; ids exist only once loaded)."""
        for index, fault in enumerate(scenario.faults):
            if not fault.server or not SERVER_ID.fullmatch(fault.server):
                continue
            found = any(
                fault.server in state.servers
                or any(
                    s.spec.hostname == fault.server
                    for s in state.servers.values()
                )
                for (account, region), state in self.regions.items()
                if fault.account in (None, account)
                and fault.region in (None, region)
            )
            if not found:
                raise ScenarioError(
                    f"faults[{index}].server: no source server "
                    f"{fault.server!r}"
                )

    def _load_region(self, account: str, region: Any, now: Any) -> None:
        key = (account, region.name)
        state = self.regions.setdefault(key, RegionState(account, region.name))
        state.subnets.update(
            aws_bridge.ensure_network(account, region.name, region.network)
        )
        default_subnet = next(iter(state.subnets.values()), None)
        subnets = [
            state.subnets.get(spec.subnet or "", default_subnet)
            for spec in region.source_servers
        ]
        ips = source_ips(account, region.name, region.source_servers, subnets)
        for spec, subnet, ip in zip(region.source_servers, subnets, ips):
            sid = "s-" + hex_id(self.seed, account, region.name, spec.hostname)
            if sid in state.servers:
                raise ValueError(f"duplicate hostname {spec.hostname}")
            template = aws_bridge.create_launch_template(
                account, region.name, f"drs-{sid}", spec.instance_type, subnet
            )
            instance = None
            if spec.ec2_instance:
                instance = _source_instance(
                    account, region.name, spec, subnet, ip
                )
            state.servers[sid] = SourceServer(
                server_id=sid,
                arn=arn(account, region.name, "source-server", sid),
                spec=spec,
                added=now,
                tags=dict(spec.tags),
                launch_template_id=template,
                subnet_id=subnet,
                launch_config={"name": spec.hostname, **DEFAULT_LAUNCH_CONFIG},
                hardware_id=str(uuid.UUID(hex_id(sid, length=32))),
                private_ip=ip,
                ec2_instance_id=instance,
            )

    # -- accessors for tests and benchmarks --------------------------------
    def servers(self, account: str, region: str) -> list[SourceServer]:
        """Source servers of an account/region (load order)."""
        with self._lock:
            return list(self._region(account, region).servers.values())

    def jobs(self, account: str, region: str) -> list[Job]:
        """Jobs of an account/region, progress applied up to now."""
        with self._lock:
            state = self._region(account, region)
            progress.advance(self, state, self.clock.now())
            jobs = list(state.jobs.values())
        self._flush_events()
        return jobs

    def server_id(self, account: str, region: str, hostname: str) -> str:
        """The source server id of a hostname."""
        for server in self.servers(account, region):
            if server.spec.hostname == hostname:
                return server.server_id
        raise KeyError(hostname)

    def call_count(
        self,
        operation: str | None = None,
        account: str | None = None,
        region: str | None = None,
    ) -> int:
        """Number of DRS calls received (all attempts, incl. failed)."""
        with self._lock:
            return sum(
                n
                for (acct, reg, op), n in self.calls.items()
                if (operation is None or op == operation)
                and (account is None or acct == account)
                and (region is None or reg == region)
            )

    # -- time ---------------------------------------------------------------
    def tick(self) -> None:
        """Apply all progress due at the clock's ``now`` (all regions)."""
        with self._lock:
            now = self.clock.now()
            for state in self.regions.values():
                progress.advance(self, state, now)
        self._flush_events()

    def start_ticker(self, interval: float = 0.1) -> None:
        """Call ``tick()`` every ``interval`` wall seconds in a thread."""
        if self._ticker is not None:
            return
        self._stop.clear()

        def run() -> None:
            while not self._stop.wait(interval):
                self.tick()

        self._ticker = threading.Thread(
            target=run, name="drs-sim-ticker", daemon=True
        )
        self._ticker.start()

    def stop_ticker(self) -> None:
        """Stop the ticker thread (waits for it)."""
        if self._ticker is None:
            return
        self._stop.set()
        self._ticker.join(timeout=5)
        self._ticker = None

    # -- the core -----------------------------------------------------------
    def handle(
        self, operation: str, params: dict, account_id: str, region: str
    ) -> dict:
        """Run one DRS operation for a caller; raise ``DrsError``."""
        with self._lock:
            self.calls[(account_id, region, operation)] += 1
            latency = self.faults.before_call(operation, account_id, region)
        if latency:
            time.sleep(latency)
        model = service_model()
        if operation not in model.operation_names:
            raise validation_error(
                f"Unknown operation {operation}", reason="unknownOperation"
            )
        validate(model.operation_model(operation).input_shape, params)
        try:
            with self._lock:
                state = self._region(account_id, region)
                if operation not in OPERATIONS:
                    raise validation_error(
                        f"Operation {operation} is not supported by the "
                        "local DRS simulator",
                        reason="unknownOperation",
                    )
                progress.advance(self, state, self.clock.now())
                result = OPERATIONS[operation](
                    self, state, copy.deepcopy(params)
                )
                return copy.deepcopy(result)
        finally:
            self._flush_events()

    def _region(self, account: str, region: str) -> RegionState:
        state = self.regions.get((account, region))
        if state is None:
            raise uninitialized(account, region)
        return state

    # -- hooks used by operations and progress ---------------------------
    def new_job(
        self,
        state: RegionState,
        job_type: str,
        initiated_by: str,
        is_drill: bool,
        tags: dict[str, str],
        servers: dict[str, JobServer],
    ) -> Job:
        """Create and register a PENDING job."""
        key = (state.account, state.region)
        self._job_counts[key] += 1
        job_id = "drsjob-" + hex_id(
            self.seed, state.account, state.region, self._job_counts[key]
        )
        job = Job(
            job_id=job_id,
            arn=arn(state.account, state.region, "job", job_id),
            type=job_type,
            initiated_by=initiated_by,
            created=self.clock.now(),
            is_drill=is_drill,
            tags=dict(tags),
            servers=servers,
        )
        state.jobs[job_id] = job
        return job

    def schedule_launch(self, state: RegionState, job: Job) -> None:
        """Plan a LAUNCH job, deciding injected failures now."""
        failing = {}
        if self.faults.job_fails(state.account, state.region):
            failing = {sid: "job" for sid in job.servers}
        for sid in job.servers:
            hostname = state.servers[sid].spec.hostname
            if self.faults.launch_fails(
                state.account, state.region, sid, hostname
            ):
                failing.setdefault(
                    sid, "Launch failed (injected by scenario fault)"
                )
        progress.schedule_launch(
            job, state, _job_rng(job), self.durations, failing
        )

    def schedule_terminate(self, state: RegionState, job: Job) -> None:
        """Plan a TERMINATE job."""
        progress.schedule_terminate(job, _job_rng(job), self.durations)

    def publish_launch_result(
        self,
        state: RegionState,
        job: Job,
        sid: str,
        result: str,
        when: datetime,
    ) -> None:
        """Publish (or drop/duplicate) one launch-result event."""
        event = progress.launch_event(state, job, sid, result, when)
        copies = self.faults.event_copies(state.account, state.region)
        for _ in range(copies):
            self.events.append(copy.deepcopy(event))
            self._outbox.append(event)

    def _flush_events(self) -> None:
        """Send queued events to EventBridge outside the lock.

        A rule target may call back into DRS from another thread (e.g. a
        Lambda worker); holding the lock while publishing would deadlock.
        """
        with self._lock:
            outbox, self._outbox = self._outbox, []
        for event in outbox:
            aws_bridge.put_event(event["account"], event["region"], event)
