"""Poll the current wave (action ``poll_wave_status``).

Moved from the orchestration Lambda's ``update_wave_status``
(``seeds/000_*`` §2). One poll:

1. reads the execution record; CANCELLING wins over everything: no
   queued chunk or wave starts, the state keeps polling
   (``status_reason`` says so) until none of the running waves' DRS jobs
   is PENDING/STARTED, then ends ``cancelled`` with both completion flags
   set (the core records CANCELLED);
2. per running wave, one ``describe_jobs`` for all its started jobs (a
   wave runs as several jobs: ``shared.wave_jobs``) and, per job not
   recorded as ended, every server's ``launchStatus``, its phase from
   the job log and, once launched, its recovery instance (``job_progress``) —
   persisted to ``waves[i].servers``; each chunk's job status on its own
   attribute;
3. decides each running wave (``wave_poll``; several run at once when
   the plan's graph allows): completes it when all its servers are
   LAUNCHED; with a FAILED server or a refused chunk fails it only once
   none of its jobs is active (queued chunks are skipped); otherwise asks
   the execution-handler to start the queued chunks the quotas allow now
   (``start_wave``); times it out at ``current_wave_max_wait_time``;
4. then the plan's graph (``shared.wave_graph.advance_plan``) starts the
   waves that became ready (``start_wave``: by default an invocation of
   the execution-handler; its error propagates to the state machine's
   retry of the poll), marks waiting (``pauseBeforeWave``, the record's
   ``pauseRequested``) and skipped waves, and says whether the execution
   runs, pauses, completed or failed.

The execution record's status is finished by the orchestration core, not
here (one place for terminal transitions; it also cleans up a drill that
ended failed, timed out or cancelled).
"""

from typing import Any, Callable, Dict, Optional

from query_routes import router
from shared import clock, statuses
from shared.config import get_settings
from shared.engine_state import EngineState
from shared.errors import NotFoundError
from shared.execution_records import get_execution
from shared.lambda_invoke import invoke_function
from shared.logging_setup import get_logger
from shared.responses import to_jsonable
from shared.wave_graph import active_waves, advance_plan, ready_waves
from shared.wave_state import (
    end_for_record,
    is_terminal,
    mark_cancelled,
    save_wave,
    wave_name,
)
from wave_outcome import (
    PollContext,
    finish_deferred,
    skip_queued,
    summary_attributes,
)
from wave_poll import poll_wave, wave_record

logger = get_logger("query-handler")

# start(JSON state, wave number) -> the JSON state (a function boundary:
# the execution-handler's start_wave_recovery, invoked or in-process).
WaveStarter = Callable[[Dict[str, Any], int], Dict[str, Any]]


def start_next_wave_via_lambda(
    state: Dict[str, Any], wave_number: int
) -> Dict[str, Any]:
    """Start a wave through the execution-handler (``seeds/000_*``)."""
    return invoke_function(
        get_settings().require("execution_handler_arn"),
        {
            "action": "start_wave_recovery",
            "state": state,
            "wave_number": wave_number,
        },
    )


def start_next_wave(
    state: EngineState, wave_number: int, start_wave: WaveStarter
) -> EngineState:
    """Start the next wave from a poll; the one path for both
    orchestration functions. An error propagates: the state machine
    retries the whole poll (the wave just completed is completed again,
    the next wave's start is claimed once), then records the failure
    (``orchestration_core.record_failure``)."""
    sent = to_jsonable(state.to_json())
    return EngineState.from_json(to_jsonable(start_wave(sent, wave_number)))


def poll_wave_status(
    state: Dict[str, Any],
    *,
    start_wave: Optional[WaveStarter] = None,
    history_table: Optional[Any] = None,
    drs_client: Optional[Any] = None,
    ec2_client: Optional[Any] = None,
) -> Dict[str, Any]:
    """One poll of the running waves; returns the updated state (the
    dict passed, updated in place as the seeds do).

    ``start_wave(state, n)`` starts wave ``n`` or its queued chunks: by
    default the execution-handler is invoked; the legacy orchestration
    passes ``wave_recovery.start_wave_recovery``.
    """
    typed = _poll(
        EngineState.from_json(state),
        start_wave or start_next_wave_via_lambda,
        history_table,
        drs_client,
        ec2_client,
    )
    return typed.write_to(state)


def _poll(
    state: EngineState,
    start_wave: WaveStarter,
    history_table: Optional[Any],
    drs_client: Optional[Any],
    ec2_client: Optional[Any],
) -> EngineState:
    """``poll_wave_status`` on the typed state."""
    record = None
    if state.execution_id:
        try:
            record = get_execution(state.execution_id, history_table)
        except NotFoundError:
            logger.warning("execution record missing")
    record_status = (record or {}).get("status")
    if record_status in statuses.TERMINAL_STATUSES:
        # Ended elsewhere (e.g. cancellation settled): nothing to write.
        end_for_record(state, record_status, "while polling")
        return state
    ctx = PollContext(
        record=record,
        cancelling=record_status == statuses.CANCELLING,
        start_wave=lambda s, n: start_next_wave(s, n, start_wave),
        table=history_table,
        drs_client=drs_client,
        ec2_client=ec2_client,
    )
    try:
        return _poll_waves(state, record, ctx)
    finally:
        # Even when a start failed: the state machine retries the poll.
        finish_deferred(ctx)


def _poll_waves(
    state: EngineState, record: Optional[Dict], ctx: PollContext
) -> EngineState:
    """Poll every running wave, then start what the graph makes ready
    (a completed wave's last records follow: ``finish_deferred``)."""
    running = active_waves(state)
    if not running and state.waves:
        running = [int(state.current_wave_number or 0)]
    found = {}
    for index in running:
        found[index] = poll_wave(state, index, ctx)
        if is_terminal(state):
            return state
    if ctx.cancelling:
        return _cancel(state, found, ctx)
    paused = bool((record or {}).get("pauseRequested"))
    approved = (record or {}).get("approvedWaves") or ()
    if ctx.deferred and not ready_waves(state, paused, approved):
        # Nothing starts: the ended wave's records come first, so the
        # record never shows a later wave waiting (paused, approval)
        # beside an ended one still STARTED.
        finish_deferred(ctx)
    return advance_plan(
        state,
        ctx.start_wave,
        pause_requested=paused,
        table=ctx.table,
        approved=approved,
    )


def _cancel(state: EngineState, found, ctx) -> EngineState:
    """CANCELLING: no queued chunk or wave starts; wait for the running
    waves' jobs to settle, then end cancelled."""
    busy = [f for f in found.values() if f is None or f.running]
    if busy:
        jobs = sum(len(f.active_jobs) for f in busy if f is not None)
        state.status_reason = (
            f"cancellation requested; waiting for {jobs} DRS job(s) to "
            "settle"
        )
        return state
    for index, assessment in found.items():
        skip_queued(state, index, assessment, ctx.table)
        wave = wave_record(ctx.record, state, index)
        wave.update(
            status=statuses.WAVE_CANCELLED,
            endTime=clock.iso_now(),
            errorCode="EXECUTION_CANCELLED",
            statusReason="execution cancelled",
        )
        if state.execution_id:
            save_wave(
                state.execution_id,
                index,
                summary_attributes(wave),
                table=ctx.table,
            )
    names = ", ".join(wave_name(state, i) for i in found) or "the plan"
    mark_cancelled(state, f"execution cancelled during {names}")
    return state


@router.action("poll_wave_status")
def poll_wave_status_action(event: Dict[str, Any]) -> Dict[str, Any]:
    """``{"action": "poll_wave_status", "state"}`` -> the state."""
    return poll_wave_status(dict(event.get("state") or {}))
