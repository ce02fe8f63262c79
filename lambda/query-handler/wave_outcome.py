"""How a polled wave ends or goes on (``wave_poll``'s decisions).

COMPLETED when all its servers are LAUNCHED (a complete wave's last
records may be deferred until the waves it makes ready have started:
``PollContext.deferred``); FAILED (a failed server, a refused chunk,
access denied, the wave timeout) only once none of its jobs is active,
its queued chunks skipped; otherwise the wave's wait is counted and its
progress noted. A wave's ending is the wave's: what it means for the
execution is the graph's decision.
"""

from dataclasses import dataclass, field
from time import perf_counter
from typing import Any, Callable, Dict, List, Optional

from botocore.exceptions import ClientError

from shared import clock, metrics, statuses
from shared.aws_errors import translate_client_error
from shared.engine_state import EngineState
from shared.errors import ForbiddenError
from shared.logging_setup import get_logger
from shared.server_records import summarize
from shared.wave_graph import record_wave_failure
from shared.wave_jobs import SKIPPED as CHUNK_SKIPPED
from shared.wave_jobs import set_chunk, wave_jobs
from shared.wave_state import save_wave, wave_result
from wave_progress import WaveAssessment, name_servers

logger = get_logger("query-handler")

# A wave whose DRS jobs cannot be read because access is refused.
ACCESS_DENIED = "ACCOUNT_ACCESS_DENIED"

# start(state, index) -> the state after the start (wave_status).
WaveStarter = Callable[[EngineState, int], EngineState]


@dataclass
class PollContext:
    """What one poll shares between its waves."""

    record: Optional[Dict[str, Any]]
    cancelling: bool
    start_wave: WaveStarter
    table: Optional[Any] = None
    drs_client: Optional[Any] = None
    ec2_client: Optional[Any] = None
    servers_table: Optional[Any] = None
    # Work left once the poll's starts are made (``finish_deferred``).
    deferred: List[Callable[[], None]] = field(default_factory=list)


def finish_deferred(ctx: PollContext) -> None:
    """Run what the poll deferred (a completed wave's last records and
    its summary), in order; the first error is raised once all ran."""
    errors = []
    while ctx.deferred:
        try:
            ctx.deferred.pop(0)()
        except Exception as error:  # noqa: BLE001 - re-raised below
            errors.append(error)
    if errors:
        raise errors[0]


def log_timings(state, index, servers, started, timings) -> None:
    """Where the poll of a wave spent its wall time (seconds)."""
    logger.info(
        "wave poll timing",
        extra={
            "executionId": state.execution_id,
            "waveIndex": index,
            "servers": servers,
            "totalSeconds": round(perf_counter() - started, 3),
            **{k: round(v, 3) for k, v in timings.items()},
        },
    )


def decide(
    state: EngineState,
    index: int,
    found: WaveAssessment,
    wave: Dict[str, Any],
    ctx: PollContext,
    pending: Optional[Callable[[], None]] = None,
) -> None:
    """Complete or fail the wave, or keep following it (its queued chunks
    that fit were started before: ``_starts_now``). ``pending``: the
    complete wave's recording, deferred with its summary."""
    name = wave["waveName"]
    entry = wave_result(state, index)
    if found.broken and found.running:
        # Decided once every job ended (issue 16): the record then says
        # what DRS did with every server of the wave.
        what = (
            f"server(s) {name_servers(found.failed)} failed"
            if found.failed
            else "DRS refused a job"
        )
        state.status_reason = (
            f"{name}: {what}; waiting for {len(found.active_jobs)} DRS "
            "job(s) to end"
        )
        _advance_clock(state, index, wave, ctx)
        return
    if found.broken:
        skip_queued(state, index, found, ctx.table)
        if found.failed:
            code = "SERVER_LAUNCH_FAILED"
            message = f"{name} failed: server(s) {name_servers(found.failed)}"
        else:
            first = found.refused[0]
            code = first.get("errorCode") or "DRS_START_RECOVERY_FAILED"
            message = f"{name}: {first.get('error')}"
        fail_wave(state, index, wave, ctx, code, message)
        return
    if found.complete:
        now = clock.iso_now()
        wave.update(
            status=statuses.WAVE_COMPLETED,
            endTime=now,
            # The last progress note would stay otherwise.
            statusReason=f"{found.total} server(s) launched",
        )
        entry.update(status=statuses.WAVE_COMPLETED, endTime=now)
        state.completed_waves = int(state.completed_waves or 0) + 1
        state.wave_completed = True  # the seeds' flag: a wave ended
        if pending is None:
            metrics.wave_ended(wave)
            save_summary(state, index, wave, ctx.table)
            return

        def finish() -> None:
            # After the waves this end makes ready have started (in this
            # invocation, before the state goes back to the state
            # machine): at scale the records take seconds, and RTO is
            # the next wave's start. The wave is saved COMPLETED only
            # once its records are written, so a poll that stops between
            # the two completes it again (the next start is claimed once).
            since = perf_counter()
            pending()
            metrics.wave_ended(wave)  # counted from the records read
            save_summary(state, index, wave, ctx.table)
            log_timings(
                state,
                index,
                len(wave["servers"]),
                since,
                {"deferredRecords": perf_counter() - since},
            )

        ctx.deferred.append(finish)
        return
    if not (found.running or found.queued):
        fail_wave(
            state,
            index,
            wave,
            ctx,
            "DRS_JOB_ENDED_INCOMPLETE",
            f"{name}: DRS job(s) ended with server(s) not launched: "
            f"{name_servers(wave['servers'])}",
        )
        return
    state.status_reason = _progress_reason(name, found, wave_jobs(wave))
    wave["statusReason"] = state.status_reason
    _advance_clock(state, index, wave, ctx)


def _progress_reason(name: str, found: WaveAssessment, jobs: list) -> str:
    """What the wave does now, and why chunks wait (quota, or DRS
    throttled/refused a start: the chunk's error, in our words)."""
    reason = f"{name} in progress"
    if not found.queued:
        return reason
    reason += f"; {len(found.queued)} DRS job(s) waiting for capacity"
    deferred = [j.get("error") for j in jobs if j.get("status") == "QUEUED"]
    why = next((e for e in deferred if e), None)
    return reason + (f" ({why})" if why else "")


def skip_queued(state, index, found, table) -> None:
    """The wave failed or was cancelled: its queued chunks never start."""
    if not state.execution_id:
        return
    for chunk in found.queued:
        set_chunk(
            state.execution_id,
            index,
            chunk,
            {"status": CHUNK_SKIPPED},
            table=table,
        )


def unreadable(state, index, wave, context, error, ctx) -> None:
    """The wave's jobs could not be read. Refused access (the spoke role
    cannot be assumed, DRS denies) fails the wave: polling cannot end
    it. Anything else (throttling past the client's retries, 5xx, the
    network) is transient: keep polling; the wave timeout bounds it."""
    account = (context or {}).get("accountId")
    region = wave.get("region")
    mapped = (
        translate_client_error(error, "DRS", account, region)
        if isinstance(error, ClientError)
        else None
    )
    logger.warning("reading DRS jobs of wave %s failed: %s", index, error)
    if isinstance(mapped, ForbiddenError) and not ctx.cancelling:
        fail_wave(
            state,
            index,
            wave,
            ctx,
            ACCESS_DENIED,
            f"{wave['waveName']}: {mapped.message}",
        )
        return
    state.status_reason = (
        f"{wave['waveName']}: its DRS jobs could not be read; polling again"
    )
    _advance_clock(state, index, wave, ctx)


def _advance_clock(state, index, wave, ctx) -> None:
    """Count the poll interval for the wave; time it out at the maximum
    (``current_wave_total_wait_time``: the current wave's, as seeded)."""
    entry = wave_result(state, index)
    waited = int(entry.get("waitedSeconds") or 0)
    waited += int(state.current_wave_update_time or 0)
    entry["waitedSeconds"] = waited
    if index == state.current_wave_number:
        state.current_wave_total_wait_time = waited
    limit = int(state.current_wave_max_wait_time or 0)
    if limit and waited >= limit and not ctx.cancelling:
        fail_wave(
            state,
            index,
            wave,
            ctx,
            "WAVE_TIMEOUT",
            f"{wave['waveName']} timed out after {waited}s (max {limit}s)",
            kind="timeout",
        )
        return
    save_summary(state, index, wave, ctx.table)


def fail_wave(state, index, wave, ctx, code, message, kind="failed"):
    """The wave ended FAILED (or timed out) on the record and the state;
    the graph decides what follows (dependents skipped)."""
    now = clock.iso_now()
    entry = wave_result(state, index)
    entry.update(status=statuses.WAVE_FAILED, endTime=now, error=message)
    entry["errorCode"] = code
    state.failed_waves = int(state.failed_waves or 0) + 1
    record_wave_failure(state, index, code, message, kind)
    wave.update(
        status=statuses.WAVE_FAILED,
        endTime=now,
        error=message,
        errorCode=code,
        statusReason=message,
    )
    metrics.wave_ended(wave)
    save_summary(state, index, wave, ctx.table)


def save_summary(state, index, wave, table) -> None:
    # ``jobs`` is written per chunk (claims, job statuses), never whole:
    # a chunk started since this poll read the record must stay. The
    # servers are records of their own: the item keeps their counts.
    if state.execution_id:
        attributes = summary_attributes(wave)
        save_wave(state.execution_id, index, attributes, table=table)


def summary_attributes(wave: Dict[str, Any]) -> Dict[str, Any]:
    """What of a polled wave the execution item keeps: its summary
    (``shared.server_records.summarize``) without its chunks."""
    return {k: v for k, v in summarize(wave).items() if k != "jobs"}
