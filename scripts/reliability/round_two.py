"""Fault cases of the round-two features (issue 15: "cases for the
round-two features join as they land"): a wave cut into DRS jobs
("chunks", issue 16), waves as a dependency graph with approvals
(issue 17) and the event-driven progress wait (issue 18).

Each case sets the deployment settings it needs on the functions for
its run only (``FaultCase.env``: the template parameters
``DrsMaxServersPerJob``, ``DrsMaxConcurrentJobs``,
``WavePollIntervalSeconds``), and is checked as every case of the matrix
is (terminal status, record == DRS's truth, no drill instance left,
notifications once), plus its waves' statuses and the number of DRS
LAUNCH jobs (a duplicated or a queued-then-cancelled start shows there).
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List

from reliability import fault_actions
from reliability.fault_ops import CaseFailure, Ctx

# One server per DRS job: the 3-server Application tier is 3 chunks.
ONE_PER_JOB = {"DRS_MAX_SERVERS_PER_JOB": "1"}
# ... and one active DRS job per account: chunks 2 and 3 queue.
ONE_AT_A_TIME = {**ONE_PER_JOB, "DRS_MAX_CONCURRENT_JOBS": "1"}
# The progress wait's backstop (events mode, the local cloud's default):
# long enough that an event, a cancel or an approval ending a wait is
# told from its timeout.
EVENTS = {"WAVE_POLL_INTERVAL_SECONDS": "8"}
LONG_WAIT = {"WAVE_POLL_INTERVAL_SECONDS": "30"}
SLOW = {"start": (600, 600), "launch": (3000, 3000)}
ORCHESTRATION = "dr-orch-sf"


@contextmanager
def function_env(cloud: Any, env: Dict[str, str]) -> Iterator[None]:
    """Set ``env`` on every deployed function that reads the variable
    (what the template parameter sets); restored afterwards."""
    if not env:
        yield
        return
    lam = cloud.client("lambda")
    saved: Dict[str, dict] = {}
    seen: set = set()
    try:
        for name in cloud.function_names:
            config = lam.get_function_configuration(FunctionName=name)
            variables = dict(
                (config.get("Environment") or {}).get("Variables") or {}
            )
            changed = {k: v for k, v in env.items() if k in variables}
            if not changed:
                continue
            saved[name] = variables
            seen |= set(changed)
            lam.update_function_configuration(
                FunctionName=name,
                Environment={"Variables": {**variables, **changed}},
            )
        if set(env) - seen:
            raise CaseFailure(f"no function reads {sorted(set(env) - seen)}")
        yield
    finally:
        for name, variables in saved.items():
            lam.update_function_configuration(
                FunctionName=name, Environment={"Variables": variables}
            )


# -- helpers ---------------------------------------------------------------
def launch_jobs(ctx: Ctx) -> List[Any]:
    """DRS's LAUNCH jobs of the case, oldest first."""
    return sorted(
        (j for j in ctx.drs_jobs() if j.type == "LAUNCH"),
        key=lambda j: j.created,
    )


def _wave_jobs(ctx: Ctx, number: int) -> List[Any]:
    """DRS's LAUNCH jobs of wave ``number`` (the engine's wave tag is the
    zero-based index)."""
    return [
        j
        for j in launch_jobs(ctx)
        if str(j.tags.get("DRSOrchWave")) == str(number - 1)
    ]


def _statuses(record: dict) -> List[str]:
    return [str(w.get("status")) for w in record.get("waves") or []]


def _progress_waits(ctx: Ctx, arn: str) -> List[str]:
    """How each WaitForProgress of the state machine ended: woken /
    timeout (Step Functions' history, never a clock)."""
    sfn = ctx.cloud.client("stepfunctions")
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)[
        "events"
    ]
    ends, inside = [], False
    for event in events:
        kind = event["type"]
        if kind == "TaskStateEntered":
            inside = (
                event["stateEnteredEventDetails"]["name"] == "WaitForProgress"
            )
        elif inside and kind in ("TaskSucceeded", "TaskTimedOut"):
            ends.append("woken" if kind == "TaskSucceeded" else "timeout")
            inside = False
    return ends


def _in_progress_wait(ctx: Ctx, arn: str) -> bool:
    """The state machine's newest state is WaitForProgress, not ended
    (nothing but the task's own scheduling since it was entered)."""
    sfn = ctx.cloud.client("stepfunctions")
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)[
        "events"
    ]
    # Newest first (moto's history ignores reverseOrder).
    events.sort(key=lambda e: e["id"], reverse=True)
    ended = ("TaskSucceeded", "TaskTimedOut", "TaskFailed", "StateExited")
    for event in events:
        if event["type"] == "TaskStateEntered":
            details = event["stateEnteredEventDetails"]
            return details["name"] == "WaitForProgress"
        if event["type"].endswith(ended):
            return False
    return False


# -- actions ---------------------------------------------------------------
def cancel_while_chunks_queued(ctx: Ctx) -> None:
    """Cancel while the wave's first chunk runs and the others are
    QUEUED (one active DRS job allowed): none of them may start."""
    record = ctx.wait(
        lambda r: any(
            j.get("status") == "QUEUED"
            for w in r.get("waves") or []
            for j in w.get("jobs") or []
        )
        and any(j.status == "STARTED" for j in launch_jobs(ctx)),
        "a chunk running and another QUEUED",
        interval=0.1,
    )
    chunks = [
        (j.get("chunk"), j.get("status"))
        for j in record["waves"][0].get("jobs") or []
    ]
    ctx.notes.append(f"cancelled with chunks {chunks}")
    fault_actions._expect_ok(ctx.control("cancel_execution"), "cancel")


def approve_while_branch_runs(ctx: Ctx) -> None:
    """Wave 2 (after wave 1) waits for approval while the independent
    chain of waves 3-5 runs: approving it (resume with its waveNumber on
    the RUNNING execution) starts it at once, beside that branch."""
    record = ctx.wait(
        lambda r: _statuses(r)[1:2] == ["WAITING_APPROVAL"],
        "wave 2 waiting for approval",
        interval=0.1,
    )
    if record.get("status") != "RUNNING" or "STARTED" not in _statuses(record):
        ctx.problems.append(
            f"wave 2 waits, but the execution is {record.get('status')} "
            f"with waves {_statuses(record)} (no other branch running)"
        )
    answer = ctx.control("resume_execution", {"waveNumber": 2})
    if answer.get("status") != "RUNNING" or answer.get("approvedWaves") != [2]:
        raise CaseFailure(f"approval of wave 2 answered {answer}")
    deadline = time.monotonic() + 60.0
    while not _wave_jobs(ctx, 2):
        if time.monotonic() > deadline:
            raise CaseFailure("the approved wave 2 never started a job")
        time.sleep(0.1)
    others = [j for n in (3, 4, 5) for j in _wave_jobs(ctx, n)]
    if len(others) == 3 and not any(j.active for j in others):
        ctx.problems.append("wave 2 started only after the other branch ended")
    ctx.notes.append(
        f"approved while waves {_statuses(record)}; wave 2 started"
    )


def late_event_mid_run(ctx: Ctx) -> None:
    """Once wave 1 completed, its launch results arrive again (late) on
    the event bus while wave 2 runs: nothing starts twice."""
    record = ctx.wait(
        lambda r: _statuses(r)[:1] == ["COMPLETED"],
        "wave 1 COMPLETED",
        interval=0.1,
    )
    sent = _send_late_events(ctx, record["waves"][0])
    ctx.notes.append(f"{sent} late event(s) of wave 1 sent while wave 2 ran")


def late_event_after_end(ctx: Ctx, record: dict) -> dict:
    """After the end, a late launch result of wave 2 changes nothing."""
    _send_late_events(ctx, record["waves"][-1])
    time.sleep(1.5)
    after = ctx.details()
    for key in ("status", "endTime", "statusReason", "currentWave"):
        if after.get(key) != record.get(key):
            ctx.problems.append(
                f"a late event after the end changed {key}: "
                f"{record.get(key)} -> {after.get(key)}"
            )
    ctx.notes.append("late event of wave 2 sent after the end")
    return after


def _send_late_events(ctx: Ctx, wave: dict) -> int:
    """Publish the wave's DRS launch results again, as DRS would (the
    default bus of the account, the local EventBridge rule)."""
    from localcloud.drs import aws_bridge

    sim = ctx.cloud.simulator
    sent = 0
    for job in launch_jobs(ctx):
        if job.job_id not in (wave.get("jobIds") or [wave.get("jobId")]):
            continue
        for sid in job.servers:
            event = next(
                (
                    e
                    for e in sim.events
                    if e["detail"].get("job-id") == job.job_id
                    and e["detail"].get("source-server-id") == sid
                ),
                None,
            )
            if event:
                aws_bridge.put_event(event["account"], event["region"], event)
                sent += 1
    if not sent:
        raise CaseFailure(f"no launch event of wave {wave.get('waveNumber')}")
    return sent


def cancel_in_progress_wait(ctx: Ctx) -> None:
    """Every DRS event dropped, a 30 s progress wait: cancel while the
    state machine waits; the cancel must end that wait (the state
    machine stops within seconds, no wait timed out)."""
    record = ctx.wait(lambda r: bool(r.get("stateMachineExecutionArn")), "arn")
    arn = record["stateMachineExecutionArn"]
    deadline = time.monotonic() + 60.0
    while not _in_progress_wait(ctx, arn):
        if time.monotonic() > deadline:
            raise CaseFailure("the state machine never waited for progress")
        time.sleep(0.1)
    cancelled = time.monotonic()
    fault_actions._expect_ok(ctx.control("cancel_execution"), "cancel")
    sfn = ctx.cloud.client("stepfunctions")
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        if time.monotonic() - cancelled > 15.0:
            ctx.problems.append(
                "the state machine still waits 15 s after the cancel"
            )
            break
        time.sleep(0.1)
    ctx.notes.append(
        f"state machine ended {time.monotonic() - cancelled:.1f} s after "
        "the cancel"
    )
    ends = _progress_waits(ctx, arn)
    if "timeout" in ends:
        ctx.problems.append(f"a progress wait timed out: {ends}")


def cases() -> List[Any]:
    """The round-two rows of the matrix."""
    from reliability.fault_cases import FaultCase, burst

    beyond = fault_actions.CLIENT_ATTEMPTS + 1
    app = [("Application", False)]
    return [
        FaultCase(
            "chunks-queued-cancel",
            "a 3-server wave in 3 DRS jobs, one active job allowed: cancel "
            "while chunk 1 runs and chunks 2-3 are QUEUED",
            ("CANCELLED",),
            waves=app,
            action=cancel_while_chunks_queued,
            durations=SLOW,
            env=ONE_AT_A_TIME,
            launch_jobs=1,
        ),
        FaultCase(
            "chunk-start-throttled",
            "a 3-server wave in 3 DRS jobs; a chunk's StartRecovery "
            f"throttled {beyond} times (past one call's retries): deferred",
            ("COMPLETED",),
            burst("throttle", "StartRecovery", beyond, first=2),
            waves=app,
            env=ONE_PER_JOB,
            fired="StartRecovery",
            launch_jobs=3,
            wave_statuses=("COMPLETED",),
        ),
        FaultCase(
            "multi-job-wave-server-fails",
            "a 3-server wave in 3 DRS jobs; the launch of erp-app-02 fails",
            ("FAILED",),
            [{"type": "launch_failure", "server": "erp-app-02"}],
            waves=app,
            env=ONE_PER_JOB,
            error_code="SERVER_LAUNCH_FAILED",
            launch_jobs=3,
            wave_statuses=("FAILED",),
        ),
        FaultCase(
            "graph-branch-failure",
            "graph: db -> app, web independent; the launch of erp-db-02 "
            "fails",
            ("FAILED",),
            [{"type": "launch_failure", "server": "erp-db-02"}],
            waves=[
                ("Database", False, []),
                ("Application", False, [1]),
                ("Web", False, []),
            ],
            error_code="SERVER_LAUNCH_FAILED",
            launch_jobs=2,
            wave_statuses=("FAILED", "SKIPPED", "COMPLETED"),
        ),
        FaultCase(
            "graph-approval-while-branch-runs",
            "graph: db -> app (approval), web-1 -> web-2 -> web-3 "
            "independent; app approved while the web chain runs",
            ("COMPLETED",),
            waves=[
                ("Database", False, []),
                ("Application", True, [1]),
                ("Web#1", False, []),
                ("Web#2", False, [3]),
                ("Web#3", False, [4]),
            ],
            action=approve_while_branch_runs,
            durations=SLOW,
            launch_jobs=5,
            wave_statuses=("COMPLETED",) * 5,
            never={"EXECUTION_PAUSED"},
        ),
        FaultCase(
            "events-mode-dropped",
            "events mode (8 s backstop): every DRS event dropped",
            ("COMPLETED",),
            [{"type": "drop_events"}],
            env=EVENTS,
            launch_jobs=2,
        ),
        FaultCase(
            "events-mode-duplicated",
            "events mode (8 s backstop): every DRS event published twice",
            ("COMPLETED",),
            [{"type": "duplicate_events"}],
            env=EVENTS,
            launch_jobs=2,
        ),
        FaultCase(
            "events-mode-late",
            "events mode (8 s backstop): wave 1's launch results arrive "
            "again while wave 2 runs, wave 2's after the end",
            ("COMPLETED",),
            action=late_event_mid_run,
            after=late_event_after_end,
            env=EVENTS,
            launch_jobs=2,
        ),
        FaultCase(
            "events-mode-cancel-wakes-wait",
            "events mode (30 s backstop), every DRS event dropped: cancel "
            "while the state machine waits for progress",
            ("CANCELLED",),
            [{"type": "drop_events"}],
            action=cancel_in_progress_wait,
            env=LONG_WAIT,
        ),
    ]
