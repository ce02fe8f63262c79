"""The actions of fault cases: cancel in each phase, pause, resume, a
spoke role that stops trusting the hub (``fault_matrix``)."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Callable, Iterator, List, Optional

from reliability.fault_ops import TERMINAL, CaseFailure, Ctx

# The functions' DRS clients make this many attempts per call:
# shared.aws_clients.BOTO_CONFIG's retries ``max_attempts`` 5 is botocore's
# legacy key, the retries after the first attempt (``total_max_attempts``
# would be 6).
CLIENT_ATTEMPTS = 6


def _job_phase(ctx: Ctx, status: str, timeout: float = 60.0) -> None:
    """Wait until the first wave's DRS job has ``status``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = [j for j in ctx.drs_jobs() if j.type == "LAUNCH"]
        if jobs and jobs[0].status == status:
            return
        time.sleep(0.05)
    raise CaseFailure(f"the first job never reached {status}")


def cancel_pending(ctx: Ctx) -> None:
    """Cancel right after the start answered (PENDING)."""
    _expect_ok(ctx.control("cancel_execution"), "cancel")


def cancel_starting(ctx: Ctx) -> None:
    """Cancel while the first DRS job is PENDING (starting)."""
    _job_phase(ctx, "PENDING")
    _expect_ok(ctx.control("cancel_execution"), "cancel")


def cancel_polling(ctx: Ctx) -> None:
    """Cancel while the first job runs (launching, instances exist)."""
    _job_phase(ctx, "STARTED")
    _wait_instances(ctx)
    _expect_ok(ctx.control("cancel_execution"), "cancel")


def cancel_in_flight_start(ctx: Ctx, timeout: float = 60.0) -> None:
    """Cancel while wave 1's StartRecovery is in flight: DRS received it
    (the simulator counts it on arrival) and no job exists yet."""
    sim = ctx.cloud.simulator
    deadline = time.monotonic() + timeout
    while not sim.call_count("StartRecovery"):
        if time.monotonic() > deadline:
            raise CaseFailure("StartRecovery never called")
        time.sleep(0.02)
    if [j for j in ctx.drs_jobs() if j.type == "LAUNCH"]:
        raise CaseFailure("the job existed before the cancel")
    _expect_ok(ctx.control("cancel_execution"), "cancel")


def cancel_while_start_deferred(ctx: Ctx, timeout: float = 120.0) -> None:
    """DRS throttles every StartRecovery: once the engine retried a
    deferred start (more calls than one call's attempts), the record must
    still be RUNNING and say that DRS throttles; then cancel (the chunk
    is queued, no job exists)."""
    sim = ctx.cloud.simulator
    deadline = time.monotonic() + timeout
    while sim.call_count("StartRecovery") <= CLIENT_ATTEMPTS:
        if time.monotonic() > deadline:
            raise CaseFailure("the throttled start was never retried")
        time.sleep(0.2)
    record = ctx.details()
    wave = (record.get("waves") or [{}])[0]
    texts = [record.get("statusReason"), wave.get("error")] + [
        job.get("error") for job in wave.get("jobs") or []
    ]
    said = [t for t in texts if isinstance(t, str) and t]
    chunks = [
        (job.get("status"), job.get("jobId")) for job in wave.get("jobs") or []
    ]
    ctx.notes.append(
        f"while deferred: {record.get('status')}, wave "
        f"{wave.get('status')}, chunks {chunks}, said {said}"
    )
    _expect_ok(ctx.control("cancel_execution"), "cancel")
    if record.get("status") != "RUNNING":
        ctx.problems.append(f"ended {record.get('status')} while deferred")
    if not any("throttl" in t.lower() for t in said):
        ctx.problems.append(f"the record does not say why it waits: {said}")


def abandon(ctx: Ctx, timeout: float = 60.0) -> Optional[str]:
    """Cancel the case's execution if it is still active (a failed case
    must not go on starting jobs in the next case's DRS); its status."""
    if not ctx.execution_id:
        return None
    status = ctx.details().get("status")
    if status in TERMINAL:
        return status
    ctx.control("cancel_execution")
    ctx.notes.append(f"abandoned while {status}: cancelled")
    try:
        return ctx.wait_terminal(timeout)["status"]
    except CaseFailure as failure:
        ctx.notes.append(f"not ended after the cancel: {failure}")
        return None


def cancel_paused(ctx: Ctx) -> None:
    """Cancel an execution paused before its second wave."""
    ctx.wait(lambda r: r.get("status") == "PAUSED", "PAUSED")
    _expect_ok(ctx.control("cancel_execution"), "cancel")


def cancel_between_waves(ctx: Ctx) -> None:
    """Cancel the moment the first wave is recorded COMPLETED."""
    ctx.wait(
        lambda r: (r.get("waves") or [{}])[0].get("status") == "COMPLETED",
        "wave 1 COMPLETED",
        interval=0.05,
    )
    _expect_ok(ctx.control("cancel_execution"), "cancel")


def cancel_twice_concurrently(ctx: Ctx) -> None:
    """Ten concurrent cancels while the first job runs."""
    _job_phase(ctx, "STARTED")
    with ThreadPoolExecutor(10) as pool:
        answers = list(
            pool.map(lambda _: ctx.control("cancel_execution"), range(10))
        )
    if not any(
        a.get("status") in ("CANCELLING", "CANCELLED") for a in answers
    ):
        raise CaseFailure(f"no cancel accepted: {answers}")


def pause_then_resume(ctx: Ctx) -> None:
    """Pause through the API during wave 1, resume when PAUSED."""
    _job_phase(ctx, "STARTED")
    _expect_ok(ctx.control("pause_execution"), "pause")
    ctx.wait(lambda r: r.get("status") == "PAUSED", "PAUSED")
    _expect_ok(ctx.control("resume_execution"), "resume")


def resume(ctx: Ctx) -> None:
    ctx.wait(lambda r: r.get("status") == "PAUSED", "PAUSED")
    _expect_ok(ctx.control("resume_execution"), "resume")


def double_resume(ctx: Ctx) -> None:
    """Two concurrent resumes: one wins, the other is INVALID_STATE."""
    ctx.wait(lambda r: r.get("status") == "PAUSED", "PAUSED")
    with ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(lambda _: ctx.control("resume_execution"), range(2))
        )
    codes = sorted(str(a.get("error") or a.get("status")) for a in answers)
    if codes != ["INVALID_STATE", "RUNNING"]:
        raise CaseFailure(f"double resume answered {codes}")


def stale_token(ctx: Ctx) -> None:
    """Cancel a paused execution, then resume it (its task token is
    stale): INVALID_STATE, the execution stays cancelled."""
    cancel_paused(ctx)
    ctx.wait_terminal()
    answer = ctx.control("resume_execution")
    if answer.get("error") != "INVALID_STATE":
        raise CaseFailure(f"resume of a cancelled execution: {answer}")


def break_spoke_role(ctx: Ctx) -> None:
    """Once wave 1 runs, the spoke's role is broken."""
    _job_phase(ctx, "STARTED")
    _break_role(ctx, "during wave 1")


def break_spoke_role_while_paused(ctx: Ctx) -> None:
    """While paused before wave 2 (wave 1's instances run in the spoke),
    the spoke's role is broken; then the operator resumes."""
    ctx.wait(lambda r: r.get("status") == "PAUSED", "PAUSED")
    _break_role(ctx, "while paused")
    answer = ctx.control("resume_execution")
    ctx.notes.append(
        f"resume answered {answer.get('error') or answer.get('status')}"
    )


def _break_role(ctx: Ctx, when: str) -> None:
    """The spoke's role is broken: it no longer trusts the hub (a new
    AssumeRole is refused) and DRS in the spoke refuses the sessions
    assumed before (as when the role is deleted or its permissions
    removed: cached credentials must not hide the break)."""
    iam = spoke_iam(ctx)
    role = ctx.cloud.scenario.spokes[0].cross_account_role
    ctx.notes.append(f"spoke role trust removed {when}")
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.update_assume_role_policy(
        RoleName=role, PolicyDocument=json.dumps(deny)
    )
    _deny_drs(ctx.cloud.simulator, ctx.account or "", role)


def _deny_drs(sim: Any, account: str, role: str) -> None:
    """Every DRS call made in ``account`` answers AccessDeniedException
    (the simulator's own records stay readable by the case)."""
    from localcloud.drs.errors import DrsError

    def refuse(operation: str, caller: str) -> Optional[Exception]:
        if caller != account:
            return None
        return DrsError(
            "AccessDeniedException",
            f"User is not authorized to perform drs:{operation} "
            f"(role {role} broken by the fault matrix)",
        )

    _intercept(sim, refuse)


def _intercept(
    sim: Any, refuse: Callable[[str, str], Optional[Exception]]
) -> None:
    """Answer ``refuse(operation, caller account)``'s error instead of
    serving a DRS call, until :func:`release_drs`."""
    original = type(sim).handle

    def handle(operation: str, params: dict, caller: str, region: str):
        error = refuse(operation, caller)
        if error is not None:
            raise error
        return original(sim, operation, params, caller, region)

    sim.handle = handle


def release_drs(sim: Any) -> None:
    """Serve every DRS call again (undo ``_intercept``)."""
    sim.__dict__.pop("handle", None)


def throttle_describe_jobs_mid_wave(ctx: Ctx, count: int = 18) -> None:
    """Once wave 1's job runs, DRS throttles the next ``count``
    DescribeJobs attempts (several polls' worth of client retries)."""
    from localcloud.drs.errors import DrsError

    _job_phase(ctx, "STARTED")
    left = [count]

    def refuse(operation: str, _caller: str) -> Optional[Exception]:
        if operation != "DescribeJobs" or left[0] <= 0:
            return None
        left[0] -= 1
        return DrsError("ThrottlingException", "Rate exceeded")

    ctx.notes.append(f"next {count} DescribeJobs attempts throttled")
    _intercept(ctx.cloud.simulator, refuse)


def clean_up_after_role_restored(ctx: Ctx, record: dict) -> dict:
    """The documented way out of a role broken mid-drill.

    While access is denied: the record says the drill cleanup is pending,
    naming the account and the action; terminate-instances is refused
    (FORBIDDEN naming the account). Then the role is restored and the
    operator runs terminate-instances (repeated while DRS's job still
    launches: 409 naming it). Answers the record to check against DRS."""
    account = ctx.account or ""
    pending = ctx.wait(
        lambda r: bool(r.get("drillCleanupError")),
        "the pending drill cleanup on the record",
        timeout=60.0,
    )
    _names_account_and_action(pending["drillCleanupError"], account)
    ctx.notes.append(f"while denied: {pending['drillCleanupError'][:240]}")
    refused = ctx.control("terminate_recovery_instances")
    if refused.get("error") != "FORBIDDEN":
        raise CaseFailure(f"terminate-instances while denied: {refused}")
    _names_account_and_action(refused.get("message") or "", account)
    restore_spoke_role(ctx)
    ctx.notes.append("spoke role restored; terminate-instances run")
    deadline = time.monotonic() + 120.0
    refusals = 0
    while True:
        answer = ctx.control("terminate_recovery_instances")
        if not answer.get("error"):
            ctx.notes.append(
                f"terminate-instances: 409 (job launching) {refusals} "
                f"time(s), then {answer.get('count')} instance(s)"
            )
            break
        refusals += 1
        if answer.get("error") != "INVALID_STATE" or not answer.get(
            "activeJobs"
        ):
            raise CaseFailure(f"terminate-instances: {answer}")
        if time.monotonic() > deadline:
            raise CaseFailure(f"jobs never ended: {answer}")
        time.sleep(0.5)
    if not answer.get("terminateJobs"):
        raise CaseFailure(f"nothing terminated: {answer}")
    record = ctx.details()
    if record.get("drillCleanupError"):
        raise CaseFailure(
            f"cleanup still pending: {record['drillCleanupError']}"
        )
    return record


def _names_account_and_action(text: str, account: str) -> None:
    if account not in text or "terminate-instances" not in text:
        raise CaseFailure(
            f"does not name account {account} and terminate-instances: "
            f"{text[:300]}"
        )


def spoke_iam(ctx: Ctx) -> Any:
    from localcloud.stack import account_credentials

    return ctx.cloud._client("iam", account_credentials(ctx.account))


def _wait_instances(ctx: Ctx, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not ctx.drill_instances():
        if time.monotonic() > deadline:
            raise CaseFailure("no recovery instance appeared")
        time.sleep(0.05)


def _expect_ok(answer: dict, what: str) -> None:
    if answer.get("error"):
        raise CaseFailure(f"{what} refused: {answer}")


def register_spoke(ctx: Ctx) -> None:
    spoke = ctx.cloud.scenario.spokes[0]
    answer = ctx.call(
        "data-management-handler",
        "create_target_account",
        {
            "accountId": spoke.account_id,
            "accountName": spoke.name,
            "roleArn": f"arn:aws:iam::{spoke.account_id}:role/"
            f"{spoke.cross_account_role}",
            "externalId": spoke.external_id,
        },
    )
    if answer.get("error"):
        raise CaseFailure(f"create_target_account: {answer}")
    ctx.account = spoke.account_id


def restore_spoke_role(ctx: Ctx) -> None:
    """Put back the trust policy a case removed (the reset keeps roles)."""
    if not ctx.account or not any("spoke role" in n for n in ctx.notes):
        return
    release_drs(ctx.cloud.simulator)
    spoke = ctx.cloud.scenario.spokes[0]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {
                    "AWS": f"arn:aws:iam::{ctx.cloud.hub_account}:root"
                },
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"sts:ExternalId": spoke.external_id}
                },
            }
        ],
    }
    iam = spoke_iam(ctx)
    iam.update_assume_role_policy(
        RoleName=spoke.cross_account_role, PolicyDocument=json.dumps(policy)
    )


@contextmanager
def lambda_faults(cloud: Any, rules: List[dict]) -> Iterator[List[int]]:
    """Inject faults into Lambda invocations of the local runtime.

    A rule ``{"function", "action", "nth", "kind"}`` hits the nth
    synchronous invocation of a function (name contains ``function``)
    whose event has ``action``: ``kind`` "error" answers an unhandled
    function error (a crash), "throttle" Lambda's 429. Yields how often
    each rule fired."""
    from localcloud.lambda_runtime.pool import InvokeResult, Throttled

    runtime = cloud.runtime
    original = runtime.invoke
    seen = [0] * len(rules)
    fired = [0] * len(rules)

    def invoke(spec: Any, payload: bytes) -> Any:
        try:
            action = json.loads(payload or b"{}").get("action")
        except (ValueError, AttributeError):
            action = None
        for index, rule in enumerate(rules):
            if rule["function"] not in spec.name or rule["action"] != action:
                continue
            seen[index] += 1
            if seen[index] != rule.get("nth", 1):
                continue
            fired[index] += 1
            if rule["kind"] == "throttle":
                raise Throttled("injected by the fault matrix")
            crash = {
                "errorType": "InjectedCrash",
                "errorMessage": "injected by the fault matrix",
            }
            return InvokeResult(json.dumps(crash).encode(), True)
        return original(spec, payload)

    runtime.invoke = invoke
    try:
        yield fired
    finally:
        runtime.invoke = original
