"""The fault matrix's table: one ``FaultCase`` per row (``fault_matrix``
runs them and checks each against DRS's truth).

A case names its injected faults (the DRS simulator's ``FaultSpec``
dictionaries), its plan's waves, the action taken while it runs (cancel,
pause, resume, break the spoke role), the ``after`` step taken once it
ended (the documented operator action) and the terminal status a DR
engineer expects. A case expecting what the engine does not do yet says
which defect it shows in ``defect`` (reported when it fails; never
counted as passed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Set, Tuple

from reliability import fault_actions
from reliability.fault_ops import Ctx

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
    # The defect this case shows while the engine fails it (reported
    # with the failure; the case still counts as failed).
    defect: Optional[str] = None
    # Deployment settings of the functions for this case only (round_two).
    env: Dict[str, str] = field(default_factory=dict)
    # The waves' terminal statuses, in plan order.
    wave_statuses: Optional[Tuple[str, ...]] = None
    # DRS LAUNCH jobs the case must end with (no duplicate start, no
    # queued chunk started after a cancel).
    launch_jobs: Optional[int] = None
    # Events that must never be sent.
    never: Set[str] = field(default_factory=set)


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


def burst(kind: str, operation: str, count: int, first: int = 1) -> List[dict]:
    """``kind`` on ``count`` consecutive calls of ``operation`` (every
    attempt counts), from its ``first`` call on."""
    return [
        {"type": kind, "operation": operation, "nth": first + n}
        for n in range(count)
    ]


def _burst_cases() -> List[FaultCase]:
    """Bursts longer than one call's retries, at a wave's start and while
    polling: DRS throttling or failing for a few seconds must not fail a
    drill (the wave engine v2 defers a throttled start and retries)."""
    # A longer burst than one call's attempts reaches the engine.
    beyond = fault_actions.CLIENT_ATTEMPTS + 1
    return [
        FaultCase(
            "StartRecovery-throttled-burst",
            f"throttle on the first {beyond} StartRecovery attempts "
            "(wave 1 start; one call's retries exhausted)",
            ("COMPLETED",),
            burst("throttle", "StartRecovery", beyond),
            fired="StartRecovery",
        ),
        FaultCase(
            "StartRecovery-5xx-burst",
            f"5xx on the first {beyond} StartRecovery attempts",
            ("COMPLETED",),
            burst("internal_error", "StartRecovery", beyond),
            fired="StartRecovery",
        ),
        FaultCase(
            "StartRecovery-throttled-burst-wave-2",
            f"throttle on {beyond} StartRecovery attempts at wave 2's "
            "start (from the poll)",
            ("COMPLETED",),
            burst("throttle", "StartRecovery", beyond, first=2),
            fired="StartRecovery",
        ),
        FaultCase(
            "DescribeJobs-throttled-burst",
            "throttle on 18 consecutive DescribeJobs attempts while wave "
            "1's job runs (several polls' retries exhausted)",
            ("COMPLETED",),
            action=fault_actions.throttle_describe_jobs_mid_wave,
            durations=SLOW,
            fired="DescribeJobs",
        ),
        FaultCase(
            "failed-drill-cleanup-throttled",
            "the launch of erp-app-02 fails; the drill cleanup's "
            f"TerminateRecoveryInstances throttled {beyond} times",
            ("FAILED",),
            [{"type": "launch_failure", "server": "erp-app-02"}]
            + burst("throttle", "TerminateRecoveryInstances", beyond),
            error_code="SERVER_LAUNCH_FAILED",
            fired="TerminateRecoveryInstances",
        ),
        FaultCase(
            "cancel-polling-cleanup-throttled",
            "cancel while instances launch; the cleanup's "
            f"TerminateRecoveryInstances throttled {beyond} times",
            ("CANCELLED",),
            burst("throttle", "TerminateRecoveryInstances", beyond),
            action=fault_actions.cancel_polling,
            durations=SLOW,
            fired="TerminateRecoveryInstances",
        ),
        FaultCase(
            "cancel-during-slow-start",
            "cancel while StartRecovery is in flight (4 s latency)",
            ("CANCELLED",),
            [{"type": "latency", "operation": "StartRecovery", "seconds": 4}],
            action=fault_actions.cancel_in_flight_start,
            durations=SLOW,
        ),
    ]


def cases() -> List[FaultCase]:
    """Every case of the matrix."""
    from reliability import round_two

    resumed = {"EXECUTION_STARTED", "EXECUTION_PAUSED", "EXECUTION_RESUMED"}
    paused = {"EXECUTION_STARTED", "EXECUTION_PAUSED"}
    return (
        _drs_fault_cases()
        + _lambda_fault_cases()
        + _burst_cases()
        + [
            FaultCase(
                "StartRecovery-throttled-always",
                "throttle on every StartRecovery: the start is deferred "
                "and retried (the record says why it waits), then "
                "cancelled while its chunk is queued",
                ("CANCELLED",),
                [{"type": "throttle", "operation": "StartRecovery"}],
                action=fault_actions.cancel_while_start_deferred,
                fired="StartRecovery",
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
            FaultCase(
                "spoke-role-broken-while-paused",
                "spoke role broken while paused before wave 2 (wave 1's "
                "instances run), then resumed; restored after the failure",
                ("FAILED",),
                waves=[("Web#1", False), ("Web#2", True)],
                action=fault_actions.break_spoke_role_while_paused,
                spoke=True,
                once=paused | {"EXECUTION_RESUMED"},
                error_code="ACCOUNT_ACCESS_DENIED",
                after=fault_actions.clean_up_after_role_restored,
            ),
        ]
        + round_two.cases()
    )
