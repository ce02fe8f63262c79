"""What a fault case does on the local cloud, and what it checks.

Everything goes through the deployed functions' direct invocation (as a
user's script does) and the cloud's own truth: the DRS simulator's jobs
and recovery instances, and the messages moto's SNS received.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Set

from localcloud.drill.invoker import function_name

DM = "data-management-handler"
EXEC = "execution-handler"
TERMINAL = ("COMPLETED", "FAILED", "TIMEOUT", "CANCELLED")
TERMINAL_EVENTS = {
    "COMPLETED": "EXECUTION_COMPLETED",
    "FAILED": "EXECUTION_FAILED",
    "CANCELLED": "EXECUTION_CANCELLED",
    "TIMEOUT": "EXECUTION_TIMEOUT",
}
AWS_TEXT = "An error occurred ("


class CaseFailure(AssertionError):
    """A check of a fault case did not hold."""


@dataclass
class Ctx:
    """One running case: the cloud, its plan and execution."""

    cloud: Any
    plan_id: str = ""
    execution_id: str = ""
    account: Optional[str] = None
    notes: List[str] = field(default_factory=list)
    # What an action saw that the case expects otherwise (the case fails
    # with them, after its checks ran).
    problems: List[str] = field(default_factory=list)

    # -- calls ----------------------------------------------------------
    def call(self, handler: str, operation: str, body: dict) -> dict:
        """A direct invocation; a function error is a failure."""
        answer = self.cloud.client("lambda").invoke(
            FunctionName=function_name(handler),
            Payload=json.dumps({"operation": operation, "body": body}),
        )
        payload = json.loads(answer["Payload"].read() or b"null")
        if answer.get("FunctionError"):
            raise CaseFailure(f"{operation}: function error {payload}")
        return payload

    def servers(self, tier: str, account: Optional[str] = None) -> List[str]:
        """Source server ids of a tier (hub unless ``account``)."""
        account = account or self.cloud.hub_account
        return sorted(
            s.server_id
            for s in self.cloud.simulator.servers(account, self.cloud.region)
            if s.tags.get("Tier") == tier
        )

    def make_plan(
        self,
        name: str,
        waves: List[tuple],
        launch_config: Optional[dict] = None,
    ) -> str:
        """Groups and a plan of ``(tier, pauseBeforeWave[,
        dependsOnWaves])`` waves; a tier ``"Web#2"`` is its 2nd server
        only (two waves in a small tier)."""
        items = []
        for number, (spec, pause, *depends) in enumerate(waves, start=1):
            tier, _, pick = spec.partition("#")
            servers = self.servers(tier, self.account)
            if pick:
                servers = servers[int(pick) - 1 : int(pick)]
            body = {
                "groupName": f"{name}-{tier}-{number}",
                "region": self.cloud.region,
                "sourceServerIds": servers,
            }
            if self.account:
                body["accountId"] = self.account
            if launch_config:
                body["launchConfig"] = launch_config
            group = self.call(DM, "create_protection_group", body)
            if "groupId" not in group:
                raise CaseFailure(f"create_protection_group: {group}")
            items.append(
                {
                    "waveNumber": number,
                    "waveName": f"wave {number}",
                    "protectionGroupId": group["groupId"],
                    "pauseBeforeWave": pause,
                    **({"dependsOnWaves": depends[0]} if depends else {}),
                }
            )
        plan = self.call(
            DM, "create_recovery_plan", {"planName": name, "waves": items}
        )
        if "planId" not in plan:
            raise CaseFailure(f"create_recovery_plan: {plan}")
        self.plan_id = plan["planId"]
        return self.plan_id

    def start(self, execution_type: str = "DRILL") -> dict:
        """Start the plan; keep the execution id."""
        answer = self.call(
            EXEC,
            "execute_recovery_plan",
            {"planId": self.plan_id, "executionType": execution_type},
        )
        if "executionId" not in answer:
            raise CaseFailure(f"execute_recovery_plan: {answer}")
        self.execution_id = answer["executionId"]
        return answer

    def control(self, operation: str, body: Optional[dict] = None) -> dict:
        """cancel/pause/resume/terminate on this execution."""
        return self.call(
            EXEC, operation, {"executionId": self.execution_id, **(body or {})}
        )

    def details(self) -> dict:
        return self.call(
            EXEC, "get_execution_details", {"executionId": self.execution_id}
        )

    def wait(
        self,
        predicate: Callable[[dict], bool],
        what: str,
        timeout: float = 120.0,
        interval: float = 0.2,
    ) -> dict:
        """Poll the record until ``predicate``; a failure at the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            record = self.details()
            if predicate(record):
                return record
            if time.monotonic() > deadline:
                raise CaseFailure(
                    f"timed out after {timeout:.0f}s waiting for {what} "
                    f"(status {record.get('status')}, reason "
                    f"{str(record.get('statusReason'))[:200]})"
                )
            time.sleep(interval)

    def wait_terminal(self, timeout: float = 180.0) -> dict:
        return self.wait(
            lambda r: r.get("status") in TERMINAL, "an end", timeout
        )

    # -- truth ----------------------------------------------------------
    def accounts(self) -> List[str]:
        return [self.account] if self.account else [self.cloud.hub_account]

    def drs_jobs(self) -> List[Any]:
        """Every DRS job of the case's account since the reset."""
        return [
            job
            for account in self.accounts()
            for job in self.cloud.simulator.jobs(account, self.cloud.region)
        ]

    def drill_instances(self) -> List[str]:
        """DRS recovery instances of drills still present."""
        sim = self.cloud.simulator
        found = []
        for account in self.accounts():
            sim.jobs(account, self.cloud.region)  # apply progress
            with sim._lock:
                state = sim._region(account, self.cloud.region)
                found += [
                    i.instance_id
                    for i in state.recovery_instances.values()
                    if i.is_drill
                ]
        return found

    def drill_ec2_running(self) -> List[str]:
        """EC2 instances a drill job of the case launched that are not
        terminated (EC2's own truth, account by account)."""
        from localcloud.stack import account_credentials

        running = []
        for account in self.accounts():
            ids = sorted(
                server.recovery_instance_id
                for job in self.cloud.simulator.jobs(
                    account, self.cloud.region
                )
                if job.type == "LAUNCH" and job.is_drill
                for server in job.servers.values()
                if server.recovery_instance_id
            )
            if not ids:
                continue
            ec2 = (
                self.cloud.client("ec2")
                if account == self.cloud.hub_account
                else self.cloud._client("ec2", account_credentials(account))
            )
            pages = ec2.get_paginator("describe_instances").paginate(
                InstanceIds=ids
            )
            running += [
                instance["InstanceId"]
                for page in pages
                for reservation in page["Reservations"]
                for instance in reservation["Instances"]
                if instance["State"]["Name"]
                not in ("terminated", "shutting-down")
            ]
        return running

    def notifications(self) -> Dict[str, int]:
        """Messages per event type published for this case's plan."""
        from moto.sns.models import sns_backends

        counts: Dict[str, int] = {}
        backend = sns_backends[self.cloud.hub_account][self.cloud.region]
        for topic in backend.topics.values():
            for sent in list(topic.sent_notifications):
                attributes = sent[3] or {}
                plan = (attributes.get("planId") or {}).get("Value")
                kind = (attributes.get("eventType") or {}).get("Value")
                if kind and plan == self.plan_id:
                    counts[kind] = counts.get(kind, 0) + 1
        return counts


def check_record_matches_drs(ctx: Ctx, record: dict) -> None:
    """The record's jobs, per-server launch status and recovery
    instances are DRS's (LAUNCH jobs: waves; TERMINATE: terminations)."""
    jobs = ctx.drs_jobs()
    launch = {j.job_id: j for j in jobs if j.type == "LAUNCH"}
    waves = record.get("waves") or []
    recorded = {job_id for w in waves for job_id in wave_job_ids(w)}
    if recorded != set(launch):
        raise CaseFailure(
            f"jobs: record {sorted(recorded)} != DRS {sorted(launch)}"
        )
    terminate = {j.job_id for j in jobs if j.type == "TERMINATE"}
    terminated = {
        t["jobId"] for t in record.get("terminations") or [] if t.get("jobId")
    }
    if terminated != terminate:
        raise CaseFailure(
            f"terminations: record {sorted(terminated)} != DRS "
            f"{sorted(terminate)}"
        )
    for wave in waves:
        mine = [launch[j] for j in wave_job_ids(wave) if j in launch]
        if not mine:
            if wave.get("servers") and any(
                s.get("recoveryInstanceId") for s in wave["servers"]
            ):
                raise CaseFailure(
                    f"wave {wave.get('waveNumber')}: instances without a job"
                )
            continue
        _check_wave_servers(wave, mine)


def wave_job_ids(wave: dict) -> List[str]:
    """The DRS jobs the API shows for a wave: ``jobIds`` (a wave run as
    several jobs) and the one-job ``jobId``."""
    ids = list(wave.get("jobIds") or [])
    if wave.get("jobId") and wave["jobId"] not in ids:
        ids.insert(0, wave["jobId"])
    return ids


def check_record_settles_to_drs(
    ctx: Ctx, record: dict, timeout: float = 20.0
) -> dict:
    """:func:`check_record_matches_drs` once the execution is quiet: an
    ending is written before its drill cleanup records the TERMINATE job
    it started in DRS (two writes, milliseconds apart), so the record is
    read again until it matches or ``timeout`` passed (the last
    difference is the failure). Answers the record that matched."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            check_record_matches_drs(ctx, record)
            return record
        except CaseFailure:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.5)
        record = ctx.details()


def _check_wave_servers(wave: dict, jobs: List[Any]) -> None:
    """Each server of the wave's jobs as DRS says; a server of the wave
    in none of them (a chunk queued or skipped: the view lists the
    wave's ``jobs`` plan) must not have launched."""
    mine = {s["sourceServerId"]: s for s in wave.get("servers") or []}
    truths = {sid: t for job in jobs for sid, t in job.servers.items()}
    unstarted = set(mine) - set(truths)
    if set(truths) - set(mine) or (unstarted and not wave.get("jobs")):
        raise CaseFailure(
            f"wave {wave.get('waveNumber')}: servers {sorted(mine)} != "
            f"DRS jobs' {sorted(truths)}"
        )
    for sid in sorted(unstarted):
        entry = mine[sid]
        if entry.get("recoveryInstanceId") or entry.get("status") not in (
            None,
            "PENDING",
        ):
            raise CaseFailure(
                f"{sid}: in no DRS job of its wave but recorded "
                f"{entry.get('status')} {entry.get('recoveryInstanceId')}"
            )
    for sid, truth in truths.items():
        entry = mine[sid]
        if entry.get("status") != truth.launch_status:
            raise CaseFailure(
                f"{sid}: record {entry.get('status')} != DRS "
                f"{truth.launch_status}"
            )
        if (entry.get("recoveryInstanceId") or None) != (
            truth.recovery_instance_id or None
        ):
            raise CaseFailure(
                f"{sid}: recovery instance {entry.get('recoveryInstanceId')}"
                f" != DRS {truth.recovery_instance_id}"
            )


def check_no_drill_instance(ctx: Ctx, timeout: float = 30.0) -> None:
    """No drill recovery instance is left in DRS and no drill instance
    runs in EC2 (terminations take DRS time)."""
    deadline = time.monotonic() + timeout
    while ctx.drill_instances() or ctx.drill_ec2_running():
        if time.monotonic() > deadline:
            raise CaseFailure(
                f"drill instances left: DRS {sorted(ctx.drill_instances())}"
                f", EC2 running {sorted(ctx.drill_ec2_running())}"
            )
        time.sleep(0.3)


def check_notifications(
    ctx: Ctx, status: str, expected_once: Set[str], timeout: float = 20.0
) -> Dict[str, int]:
    """The terminal event (and ``expected_once``) sent exactly once, no
    event sent twice."""
    wanted = set(expected_once)
    if status in TERMINAL_EVENTS:
        wanted.add(TERMINAL_EVENTS[status])
    deadline = time.monotonic() + timeout
    counts = ctx.notifications()
    while not wanted <= set(counts) and time.monotonic() < deadline:
        time.sleep(0.3)
        counts = ctx.notifications()
    time.sleep(0.5)  # a duplicate would follow closely
    counts = ctx.notifications()
    missing = sorted(wanted - set(counts))
    twice = sorted(k for k, n in counts.items() if n > 1)
    if missing or twice:
        raise CaseFailure(
            f"notifications {counts}: missing {missing}, more than once "
            f"{twice}"
        )
    return counts


def check_our_words(record: dict) -> None:
    """No AWS error text reaches the record."""
    texts = [record.get("statusReason"), record.get("error")]
    texts += [w.get("error") for w in record.get("waves") or []]
    for text in texts:
        if isinstance(text, str) and AWS_TEXT in text:
            raise CaseFailure(f"AWS error text recorded: {text[:200]}")
