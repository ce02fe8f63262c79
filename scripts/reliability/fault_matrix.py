"""The fault matrix: executions on the local cloud under injected faults.

Each case loads the shipped 3-tier scenario with its faults (the DRS
simulator's ``FaultSpec``: throttling, 5xx, latency, launch and job
failure, dropped / duplicated events), creates a plan through the
functions, runs it (cancelling, pausing, resuming or breaking the spoke
role where the case says), and then checks, whatever the fault:

1. the terminal status is the expected one;
2. the execution record equals DRS's truth: its jobs, each server's
   launch status and recovery instance (``fault_ops``);
3. no drill recovery instance is left in DRS, and no drill instance
   runs in EC2 (a completed drill's are terminated through
   ``terminate_recovery_instances`` first: that is the documented
   clean-up; a cancelled or failed one must clean up by itself, or, when
   it could not, through the documented operator action the case takes
   in its ``after`` step);
4. each notification was sent once (the terminal one exactly once);
5. no AWS error text in the record.

A case whose checks do not hold is recorded as failing with the reason;
assertions are never relaxed to make a case pass.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from localcloud.scenario import DEFAULT_SCENARIO, FaultSpec, load_scenario
from reliability import fault_actions, fault_ops
from reliability.fault_ops import CaseFailure, Ctx

# Operations the engine calls on DRS during a drill and its clean-up.
DRS_CALLS = (
    "DescribeSourceServers",
    "GetLaunchConfiguration",
    "UpdateLaunchConfiguration",
    "StartRecovery",
    "DescribeJobs",
    "DescribeJobLogItems",
    "DescribeRecoveryInstances",
    "TerminateRecoveryInstances",
)
# A launch configuration makes each wave call Get/UpdateLaunchConfiguration.
LAUNCH_CONFIG = {"copyTags": True, "launchDisposition": "STARTED"}
TWO_WAVES = [("Database", False), ("Application", False)]
PAUSING = [("Database", False), ("Application", True)]
# Slow phases (simulated seconds) so a cancel lands in the phase named.
SLOW = {"start": (600, 600), "launch": (3000, 3000)}

Action = Callable[[Ctx], None]
# After the terminal record: the documented operator action of a case
# (e.g. restore a broken role, then terminate-instances); answers the
# record the checks compare with DRS.
After = Callable[[Ctx, dict], dict]


@dataclass
class FaultCase:
    """One row of the matrix."""

    name: str
    fault: str
    expected: Tuple[str, ...]
    faults: List[dict] = field(default_factory=list)
    waves: List[tuple] = field(default_factory=lambda: list(TWO_WAVES))
    action: Optional[Action] = None
    execution_type: str = "DRILL"
    durations: Dict[str, tuple] = field(default_factory=dict)
    launch_config: bool = False
    spoke: bool = False
    # Events that must be sent exactly once besides the terminal one.
    once: Set[str] = field(default_factory=lambda: {"EXECUTION_STARTED"})
    error_code: Optional[str] = None
    # Faults of Lambda invocations (fault_actions.lambda_faults).
    lambda_faults: List[dict] = field(default_factory=list)
    # The faulted DRS operation must have been called (else it proved
    # nothing).
    fired: Optional[str] = None
    after: Optional[After] = None


# -- the matrix ------------------------------------------------------------
def _drs_fault_cases() -> List[FaultCase]:
    cases = []
    for operation in DRS_CALLS:
        for kind, label in (
            ("throttle", "throttled"),
            ("internal_error", "5xx"),
        ):
            cases.append(
                FaultCase(
                    name=f"{operation}-{label}-once",
                    fault=f"{kind} on the 1st {operation}",
                    expected=("COMPLETED",),
                    faults=[{"type": kind, "operation": operation, "nth": 1}],
                    launch_config=True,
                    fired=operation,
                )
            )
    return cases


def _lambda_fault_cases() -> List[FaultCase]:
    """Crashes and throttling of the functions' invocations: Step
    Functions -> the orchestration function, and that function -> the
    execution and query handlers."""
    rows = (
        (
            "orchestration-crash-mid-poll",
            "dr-orch-sf",
            "poll_wave_status",
            "error",
            2,
        ),
        (
            "orchestration-throttled-mid-poll",
            "dr-orch-sf",
            "poll_wave_status",
            "throttle",
            2,
        ),
        (
            "query-handler-invoke-error",
            "query-handler",
            "poll_wave_status",
            "error",
            2,
        ),
        (
            "query-handler-invoke-throttled",
            "query-handler",
            "poll_wave_status",
            "throttle",
            2,
        ),
        (
            "execution-handler-invoke-error",
            "execution-handler",
            "start_wave_recovery",
            "error",
            2,
        ),
    )
    return [
        FaultCase(
            name=name,
            fault=f"{kind} on the {nth}nd {action} invocation of {function}",
            expected=("COMPLETED",),
            lambda_faults=[
                {
                    "function": function,
                    "action": action,
                    "nth": nth,
                    "kind": kind,
                }
            ],
        )
        for name, function, action, kind, nth in rows
    ]


def cases() -> List[FaultCase]:
    """Every case of the matrix."""
    resumed = {"EXECUTION_STARTED", "EXECUTION_PAUSED", "EXECUTION_RESUMED"}
    paused = {"EXECUTION_STARTED", "EXECUTION_PAUSED"}
    return (
        _drs_fault_cases()
        + _lambda_fault_cases()
        + [
            FaultCase(
                "StartRecovery-throttled-always",
                "throttle on every StartRecovery",
                ("FAILED",),
                [{"type": "throttle", "operation": "StartRecovery"}],
                error_code="DRS_LIMIT_EXCEEDED",
            ),
            FaultCase(
                "DescribeJobs-latency",
                "2 s latency on every DescribeJobs",
                ("COMPLETED",),
                [
                    {
                        "type": "latency",
                        "operation": "DescribeJobs",
                        "seconds": 2,
                    }
                ],
            ),
            FaultCase(
                "DescribeJobs-5xx-30pct",
                "5xx on 30 % of DescribeJobs",
                ("COMPLETED",),
                [
                    {
                        "type": "internal_error",
                        "operation": "DescribeJobs",
                        "rate": 0.3,
                    }
                ],
            ),
            FaultCase(
                "launch-failure",
                "the launch of erp-app-02 fails",
                ("FAILED",),
                [{"type": "launch_failure", "server": "erp-app-02"}],
                error_code="SERVER_LAUNCH_FAILED",
            ),
            FaultCase(
                "job-failure",
                "the first recovery job fails as a whole",
                ("FAILED",),
                [{"type": "job_failure", "nth": 1}],
            ),
            FaultCase(
                "events-dropped",
                "every DRS event dropped",
                ("COMPLETED",),
                [{"type": "drop_events"}],
            ),
            FaultCase(
                "events-duplicated",
                "every DRS event published twice",
                ("COMPLETED",),
                [{"type": "duplicate_events"}],
            ),
            FaultCase(
                "events-late",
                "1 s latency on half of all DRS calls (late answers)",
                ("COMPLETED",),
                [{"type": "latency", "seconds": 1, "rate": 0.5}],
            ),
            FaultCase(
                "recovery-completes",
                "none (RECOVERY)",
                ("COMPLETED",),
                execution_type="RECOVERY",
            ),
            FaultCase(
                "cancel-pending",
                "cancel at once (PENDING)",
                ("CANCELLED",),
                action=fault_actions.cancel_pending,
                durations=SLOW,
                once=set(),
            ),
            FaultCase(
                "cancel-starting",
                "cancel while the job is PENDING",
                ("CANCELLED",),
                action=fault_actions.cancel_starting,
                durations=SLOW,
            ),
            FaultCase(
                "cancel-polling",
                "cancel while instances launch",
                ("CANCELLED",),
                action=fault_actions.cancel_polling,
                durations=SLOW,
            ),
            FaultCase(
                "cancel-paused",
                "cancel while PAUSED",
                ("CANCELLED",),
                waves=PAUSING,
                action=fault_actions.cancel_paused,
                once=paused,
            ),
            FaultCase(
                "cancel-between-waves",
                "cancel as wave 1 completes",
                ("CANCELLED",),
                action=fault_actions.cancel_between_waves,
            ),
            FaultCase(
                "cancel-10-concurrent",
                "10 concurrent cancels",
                ("CANCELLED",),
                action=fault_actions.cancel_twice_concurrently,
                durations=SLOW,
            ),
            FaultCase(
                "pause-resume",
                "pause through the API, then resume",
                ("COMPLETED",),
                action=fault_actions.pause_then_resume,
                once=resumed,
            ),
            FaultCase(
                "resume-once",
                "pauseBeforeWave, one resume",
                ("COMPLETED",),
                waves=PAUSING,
                action=fault_actions.resume,
                once=resumed,
            ),
            FaultCase(
                "double-resume",
                "two concurrent resumes",
                ("COMPLETED",),
                waves=PAUSING,
                action=fault_actions.double_resume,
                once=resumed,
            ),
            FaultCase(
                "stale-task-token",
                "resume after cancel while paused",
                ("CANCELLED",),
                waves=PAUSING,
                action=fault_actions.stale_token,
                once=paused,
            ),
            FaultCase(
                "spoke-role-broken",
                "spoke role broken mid-wave (no AssumeRole, DRS denies "
                "the sessions assumed before), restored after the failure",
                ("FAILED",),
                waves=[("Web", False)],
                action=fault_actions.break_spoke_role,
                spoke=True,
                durations=SLOW,
                error_code="ACCOUNT_ACCESS_DENIED",
                after=fault_actions.clean_up_after_role_restored,
            ),
        ]
    )


# -- running ---------------------------------------------------------------
def _scenario(case: FaultCase) -> Any:
    base = load_scenario(DEFAULT_SCENARIO)
    durations = dict(base.durations)
    durations.update(
        {k: (float(v[0]), float(v[1])) for k, v in case.durations.items()}
    )
    faults = [FaultSpec(**spec) for spec in case.faults]
    return dataclasses.replace(base, faults=faults, durations=durations)


def _clean_up_completed_drill(ctx: Ctx, record: dict) -> None:
    """A completed drill's instances are removed by terminate-instances,
    the documented clean-up."""
    if record.get("executionType", "DRILL") != "DRILL":
        return
    if record["status"] != "COMPLETED":
        return
    answer = ctx.control("terminate_recovery_instances")
    if answer.get("error") and answer["error"] != "NOT_FOUND":
        raise CaseFailure(f"terminate_recovery_instances: {answer}")


def run_case(cloud: Any, case: FaultCase) -> Dict[str, Any]:
    """Run one case; its result (passed, failures, figures)."""
    began = time.monotonic()
    result: Dict[str, Any] = {
        "name": case.name,
        "fault": case.fault,
        "expected": "|".join(case.expected),
        "status": None,
        "failures": [],
    }
    ctx = Ctx(cloud)
    try:
        cloud.reset(_scenario(case))
        if case.spoke:
            fault_actions.register_spoke(ctx)
        ctx.make_plan(
            f"fm-{case.name}"[:60],
            case.waves,
            LAUNCH_CONFIG if case.launch_config else None,
        )
        with fault_actions.lambda_faults(cloud, case.lambda_faults) as hit:
            ctx.start(case.execution_type)
            if case.action:
                case.action(ctx)
            record = ctx.wait_terminal()
            result["status"] = record["status"]
            if case.after:
                record = case.after(ctx, record)
        if case.lambda_faults and not all(hit):
            ctx.notes.append(f"Lambda faults fired {hit}")
            result["failures"].append("a Lambda fault never fired")
        result["status"] = record["status"]
        _checks(ctx, case, record, result)
    except CaseFailure as failure:
        result["failures"].append(str(failure))
    except Exception as error:  # noqa: BLE001 - a case never stops the run
        result["failures"].append(f"{type(error).__name__}: {error}")
    finally:
        try:
            fault_actions.restore_spoke_role(ctx)
        except Exception as error:  # noqa: BLE001
            result["failures"].append(f"restoring the spoke role: {error}")
    result["notes"] = ctx.notes
    result["executionId"] = ctx.execution_id
    result["passed"] = not result["failures"]
    result["seconds"] = round(time.monotonic() - began, 1)
    return result


def _checks(
    ctx: Ctx, case: FaultCase, record: dict, result: Dict[str, Any]
) -> None:
    failures = result["failures"]

    def attempt(check: Callable[[], Any]) -> Any:
        try:
            return check()
        except CaseFailure as failure:
            failures.append(str(failure))
            return None

    if record["status"] not in case.expected:
        failures.append(
            f"status {record['status']} (expected {'|'.join(case.expected)};"
            f" reason: {record.get('statusReason')})"
        )
    if case.error_code and record["status"] == "FAILED":
        codes = {record.get("errorCode")} | {
            w.get("errorCode") for w in record.get("waves") or []
        }
        if case.error_code not in codes:
            failures.append(f"error code {case.error_code} not in {codes}")
    attempt(lambda: fault_ops.check_our_words(record))
    attempt(lambda: fault_ops.check_record_matches_drs(ctx, record))
    result["notifications"] = attempt(
        lambda: fault_ops.check_notifications(ctx, record["status"], case.once)
    )
    if record.get("executionType", case.execution_type) == "DRILL":
        attempt(lambda: _clean_up_completed_drill(ctx, record))
        attempt(lambda: fault_ops.check_no_drill_instance(ctx))
    # Last: the clean-up is the call a TerminateRecoveryInstances fault hits.
    if case.fired and not ctx.cloud.simulator.call_count(case.fired):
        failures.append(f"{case.fired} was never called: it proved nothing")


def run_all(cloud: Any, names: Optional[List[str]] = None) -> List[dict]:
    """Run the matrix (or the named cases), printing one line each."""
    selected = [c for c in cases() if not names or c.name in names]
    results = []
    for case in selected:
        result = run_case(cloud, case)
        mark = "pass" if result["passed"] else "FAIL"
        print(
            f"  {mark} {case.name} ({result['status']}, "
            f"{result['seconds']} s)"
            + (
                ""
                if result["passed"]
                else ": " + "; ".join(result["failures"])
            ),
            flush=True,
        )
        results.append(result)
    return results
