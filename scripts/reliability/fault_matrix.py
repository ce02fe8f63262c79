"""The fault matrix: executions on the local cloud under injected faults.

Each case loads the shipped 3-tier scenario with its faults (the DRS
simulator's ``FaultSpec``: throttling, 5xx, latency, launch and job
failure, dropped / duplicated events), creates a plan through the
functions, runs it (cancelling, pausing, resuming or breaking the spoke
role where the case says), and then checks, whatever the fault:

1. the terminal status is the expected one;
2. the execution record equals DRS's truth: its jobs, each server's
   launch status and recovery instance (``fault_ops``), once the
   execution is quiet (read again for up to 20 s: an ending is written
   just before its drill cleanup records the TERMINATE job it started);
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
from typing import Any, Callable, Dict, List, Optional

from localcloud.scenario import DEFAULT_SCENARIO, FaultSpec, load_scenario
from reliability import fault_actions, fault_ops, round_two
from reliability.fault_cases import DRS_CALLS, LAUNCH_CONFIG, FaultCase, cases
from reliability.fault_ops import CaseFailure, Ctx

__all__ = ["DRS_CALLS", "FaultCase", "cases", "run_all", "run_case"]


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
        with round_two.function_env(cloud, case.env):
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
            result["failures"] += ctx.problems
            _checks(ctx, case, record, result)
    except CaseFailure as failure:
        result["failures"].append(str(failure))
    except Exception as error:  # noqa: BLE001 - a case never stops the run
        result["failures"].append(f"{type(error).__name__}: {error}")
    finally:
        fault_actions.release_drs(cloud.simulator)
        try:
            fault_actions.restore_spoke_role(ctx)
            fault_actions.abandon(ctx)
        except Exception as error:  # noqa: BLE001
            result["failures"].append(f"cleaning up the case: {error}")
    if result["failures"] and case.defect:
        result["failures"].insert(0, f"defect: {case.defect}")
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
    if case.wave_statuses is not None:
        statuses = tuple(w.get("status") for w in record.get("waves") or [])
        if statuses != case.wave_statuses:
            failures.append(
                f"waves {list(statuses)} (expected "
                f"{list(case.wave_statuses)})"
            )
    attempt(lambda: fault_ops.check_our_words(record))
    attempt(lambda: fault_ops.check_record_settles_to_drs(ctx, record))
    result["notifications"] = attempt(
        lambda: fault_ops.check_notifications(ctx, record["status"], case.once)
    )
    if record.get("executionType", case.execution_type) == "DRILL":
        attempt(lambda: _clean_up_completed_drill(ctx, record))
        attempt(lambda: fault_ops.check_no_drill_instance(ctx))
    sent = set(result.get("notifications") or {}) & case.never
    if sent:
        failures.append(f"notifications never expected were sent: {sent}")
    if case.launch_jobs is not None:
        jobs = round_two.launch_jobs(ctx)
        if len(jobs) != case.launch_jobs:
            failures.append(
                f"{len(jobs)} DRS LAUNCH jobs (expected {case.launch_jobs}):"
                f" {[(j.job_id, sorted(j.servers)) for j in jobs]}"
            )
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
