"""Job timelines: schedule phases at job creation, apply them as time passes.

A job's timeline is computed once (seeded jitter) and applied lazily on
every request and by ``DrsSimulator.tick()``, so progress depends only on
the clock, never on who polls.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from . import aws_bridge
from .model import Job, RecoveryInstance, RegionState, arn

if TYPE_CHECKING:  # pragma: no cover
    from .simulator import DrsSimulator

LAUNCH_RESULT = "DRS Source Server Launch Result"
LOG_EVENTS = {
    "snapshot_start": "SNAPSHOT_START",
    "snapshot_end": "SNAPSHOT_END",
    "conversion_start": "CONVERSION_START",
    "conversion_end": "CONVERSION_END",
    "cleanup_start": "CLEANUP_START",
}


def _after(moment: datetime, seconds: float) -> datetime:
    return moment + timedelta(seconds=seconds)


def schedule_launch(
    job: Job,
    state: RegionState,
    rng: random.Random,
    durations: dict[str, tuple[float, float]],
    failing: dict[str, str],
) -> None:
    """Plan a LAUNCH job; ``failing`` maps server id -> (phase, error)."""
    steps: list[tuple[datetime, str, str | None, str]] = []
    start = _after(job.created, rng.uniform(*durations["start"]))
    steps.append((start, "job_start", None, ""))
    end = start
    for sid in job.servers:
        server = state.servers[sid]
        if not server.healthy:
            reason = (
                "Source server replication state is "
                f"{server.spec.replication_state}; it is not ready for "
                "recovery"
            )
            at = _after(start, 1)
            steps.append((at, "fail", sid, reason))
            end = max(end, at)
            continue
        t = _after(start, rng.uniform(0, 2))
        phases = [
            ("snapshot", "snapshot_start", "snapshot_end"),
            ("conversion", "conversion_start", "conversion_end"),
        ]
        for phase, first, last in phases:
            steps.append((t, first, sid, ""))
            t = _after(t, rng.uniform(*durations[phase]))
            if phase == "conversion" and failing.get(sid) == "job":
                steps.append((t, "fail", sid, "Conversion failed"))
                break
            steps.append((t, last, sid, ""))
        else:
            doomed = "fail" if sid in failing else ""
            steps.append((t, "launch_start", sid, doomed))
            t = _after(t, rng.uniform(*durations["launch"]))
            if doomed:
                steps.append((t, "fail", sid, failing[sid]))
            else:
                steps.append((t, "launched", sid, ""))
        end = max(end, t)
    steps.append((_after(end, 1), "job_end", None, ""))
    _set_timeline(job, steps)


def schedule_terminate(
    job: Job, rng: random.Random, durations: dict[str, tuple[float, float]]
) -> None:
    """Plan a TERMINATE job: clean up each recovery instance."""
    start = _after(job.created, rng.uniform(*durations["start"]))
    steps = [(start, "job_start", None, "")]
    end = start
    for sid in job.servers:
        t = _after(start, rng.uniform(0, 2))
        steps.append((t, "cleanup_start", sid, ""))
        t = _after(t, rng.uniform(*durations["terminate"]))
        steps.append((t, "terminated", sid, ""))
        end = max(end, t)
    steps.append((_after(end, 1), "job_end", None, ""))
    _set_timeline(job, steps)


def _set_timeline(job: Job, steps: list) -> None:
    job.timeline = sorted(
        (when, seq, action, sid, detail)
        for seq, (when, action, sid, detail) in enumerate(steps)
    )


def advance(sim: "DrsSimulator", state: RegionState, now: datetime) -> None:
    """Apply every timeline step of the region that is due at ``now``."""
    due = []
    for job in state.jobs.values():
        while job.timeline and job.timeline[0][0] <= now:
            due.append((job.timeline.pop(0), job))
    due.sort(key=lambda item: (item[0][0], item[0][1]))
    for (when, _seq, action, sid, detail), job in due:
        _apply(sim, state, job, when, action, sid, detail)


def _apply(
    sim: "DrsSimulator",
    state: RegionState,
    job: Job,
    when: datetime,
    action: str,
    sid: str | None,
    detail: str,
) -> None:
    if action == "job_start":
        job.status = "STARTED"
        job.add_log(when, "JOB_START")
    elif action == "job_end":
        job.status = "COMPLETED"
        job.ended = when
        job.add_log(when, "JOB_END")
    elif action in LOG_EVENTS:
        if action in ("snapshot_start", "cleanup_start"):
            job.servers[sid].launch_status = "IN_PROGRESS"
            _set_last_launch(state, sid, job, "IN_PROGRESS")
        job.add_log(when, LOG_EVENTS[action], sourceServerID=sid)
    elif action == "launch_start":
        instance_id = None
        if not detail:
            try:
                instance_id, ip = _start_instance(state, job, sid)
                job.servers[sid].private_ip = ip
            except aws_bridge.LaunchError as error:
                job.servers[sid].launch_error = str(error)
        job.servers[sid].recovery_instance_id = instance_id
        job.add_log(
            when,
            "LAUNCH_START",
            sourceServerID=sid,
            targetInstanceID=instance_id,
        )
    elif action == "launched":
        error = job.servers[sid].launch_error
        if error:
            _failed(sim, state, job, when, sid, error)
        else:
            _launched(sim, state, job, when, sid)
    elif action == "fail":
        _failed(sim, state, job, when, sid, detail)
    elif action == "terminated":
        _terminated(state, job, when, sid)


def _set_last_launch(
    state: RegionState, sid: str, job: Job, status: str
) -> None:
    server = state.servers.get(sid)
    if job.type == "LAUNCH" and server and server.last_launch:
        server.last_launch["status"] = status
        if status in ("LAUNCHED", "FAILED"):
            server.last_launch_result = (
                "SUCCEEDED" if status == "LAUNCHED" else "FAILED"
            )


def _start_instance(
    state: RegionState, job: Job, sid: str
) -> tuple[str, str | None]:
    server = state.servers[sid]
    config = server.launch_config
    tags = dict(server.tags) if config.get("copyTags") else {}
    tags.update(job.tags)
    tags.update(
        {
            "Name": server.spec.hostname,
            "AWSElasticDisasterRecoveryManaged": "drs.amazonaws.com",
            "AWSElasticDisasterRecoverySourceServerID": sid,
        }
    )
    # copyPrivateIp on: the SOURCE machine's IP; off: the template's own
    # (a static IP the orchestrator set, or one EC2 picks).
    source_ip = server.private_ip if config.get("copyPrivateIp") else None
    return aws_bridge.run_instance(
        state.account,
        state.region,
        server.launch_template_id,
        source_ip or None,
        tags,
    )


def _launched(
    sim: "DrsSimulator",
    state: RegionState,
    job: Job,
    when: datetime,
    sid: str,
) -> None:
    server = state.servers[sid]
    participant = job.servers[sid]
    instance_id = participant.recovery_instance_id
    state.recovery_instances[instance_id] = RecoveryInstance(
        instance_id=instance_id,
        arn=arn(state.account, state.region, "recovery-instance", instance_id),
        server_id=sid,
        job_id=job.job_id,
        is_drill=job.is_drill,
        launched=when,
        tags=dict(job.tags),
        private_ip=participant.private_ip,
    )
    server.recovery_instance_id = instance_id
    participant.launch_status = "LAUNCHED"
    _set_last_launch(state, sid, job, "LAUNCHED")
    sim.publish_launch_result(
        state, job, sid, "RECOVERY_LAUNCH_SUCCEEDED", when
    )


def _failed(
    sim: "DrsSimulator",
    state: RegionState,
    job: Job,
    when: datetime,
    sid: str,
    error: str,
) -> None:
    if error == "Conversion failed":
        job.add_log(when, "CONVERSION_FAIL", sourceServerID=sid)
    job.add_log(when, "LAUNCH_FAILED", sourceServerID=sid, rawError=error)
    job.servers[sid].launch_status = "FAILED"
    _set_last_launch(state, sid, job, "FAILED")
    sim.publish_launch_result(state, job, sid, "RECOVERY_LAUNCH_FAILED", when)


def _terminated(
    state: RegionState, job: Job, when: datetime, sid: str
) -> None:
    participant = job.servers[sid]
    instance_id = participant.recovery_instance_id
    aws_bridge.terminate_instance(state.account, state.region, instance_id)
    state.recovery_instances.pop(instance_id, None)
    server = state.servers.get(sid)
    if server and server.recovery_instance_id == instance_id:
        server.recovery_instance_id = None
    participant.launch_status = "TERMINATED"
    job.add_log(
        when,
        "CLEANUP_END",
        sourceServerID=sid,
        targetInstanceID=instance_id,
    )


def launch_event(
    state: RegionState, job: Job, sid: str, result: str, when: datetime
) -> dict[str, Any]:
    """The EventBridge event DRS publishes for one server's launch."""
    return {
        "account": state.account,
        "region": state.region,
        "time": when.isoformat(),
        "source": "aws.drs",
        "detail-type": LAUNCH_RESULT,
        "resources": [state.servers[sid].arn],
        "detail": {
            "state": result,
            "job-id": job.job_id,
            "is-drill": job.is_drill,
            "source-server-id": sid,
        },
    }
