"""The one orchestration core behind both orchestration functions.

The state machine calls ``{"action": begin | poll_wave_status |
store_task_token | resume_wave | record_failure, "application": S, ...}``
(CONTRACTS §2). The core coordinates waves and owns the execution
record's status; the DRS work happens behind an :class:`OperationsPort`:

* generic function (``dr-orchestration-stepfunction``): the port invokes
  the execution-handler / query-handler (Lambda invoke);
* legacy function (``orchestration-stepfunctions``): the port calls
  ``wave_recovery`` / ``wave_status`` / ``execution_settlement``
  in-process.

The initial state and RUNNING record: ``orchestration_start``; the one
terminal write, with the drill cleanup of a failed, timed-out or
cancelled drill (``port.cleanup_drill``): ``orchestration_finish``.

Which waves start, wait for approval or are skipped is the plan's graph
(``shared.wave_graph.advance_plan``: ``begin``, ``resume_wave`` and every
poll). No DRS code here. An exception from the port (``InvocationError``,
timeouts, an unexpected error in-process), the same for both ports: in a
``begin``/``resume_wave`` wave start it fails that wave
(``WAVE_START_INVOCATION_FAILED``, ``seeds/000_*`` "Handler Invocation
Errors"; :func:`start_wave_or_fail`) and the graph skips its dependents;
in a poll (a ready wave's start included) it propagates to the state
machine's bounded ``Retry`` of the poll, then to ``record_failure``
(issue 15).
"""

from typing import Any, Callable, Dict, Optional, Protocol

from shared import statuses
from shared.aws_clients import get_client
from shared.engine_state import EngineState
from shared.errors import InvalidStateError, InvocationError
from shared.execution_records import get_execution, transition_status
from shared.logging_setup import get_logger
from shared.notifications import publish_execution_event
from shared.orchestration_finish import event_details as _details
from shared.orchestration_finish import finish_execution as _finish
from shared.orchestration_start import build_state  # noqa: F401 - tests
from shared.orchestration_start import initial_state, mark_running
from shared.responses import dumps, to_jsonable
from shared.tables import execution_history_table
from shared.wave_graph import advance_plan
from shared.wave_state import is_terminal, mark_cancelled, mark_failed
from shared.wave_state import save_wave, wave_name, wave_result

logger = get_logger("orchestration")

WAVE_START_FAILED = "WAVE_START_INVOCATION_FAILED"


class OperationsPort(Protocol):
    """How the core reaches the DRS operations: a function boundary, so
    the state goes and comes back as JSON (``_through``)."""

    def start_wave(
        self, state: Dict[str, Any], wave_number: int
    ) -> Dict[str, Any]:
        """Start wave ``wave_number``; the updated state."""

    def poll(self, state: Dict[str, Any]) -> Dict[str, Any]:
        """Poll the current wave; the updated state."""

    def cleanup_drill(self, execution_id: str) -> Any:
        """Terminate the recovery instances a finished drill launched."""


class ExecutionCancelled(Exception):
    """Raised by ``store_task_token`` when the execution was cancelled
    before it paused; the state machine catches ``ExecutionCancelled``."""


def _table(table: Optional[Any]) -> Any:
    return table if table is not None else execution_history_table()


def invocation_error_text(error: Exception) -> str:
    """``<type>: <message>`` of a failed wave operation: the same for the
    callee's error payload (generic port: ``FunctionError``, a timeout)
    and for the exception raised in-process (legacy port)."""
    if not isinstance(error, InvocationError):
        return f"{type(error).__name__}: {error}"
    payload = error.payload if isinstance(error.payload, dict) else {}
    message = payload.get("errorMessage", str(error.payload))
    return f"{error.error_type or 'FunctionError'}: {message}"


def start_wave_or_fail(
    state: EngineState,
    wave_number: int,
    start_wave: Callable[..., Dict[str, Any]],
    table: Optional[Any] = None,
) -> EngineState:
    """Start wave ``wave_number`` (``begin``, ``resume_wave``; a poll's
    start propagates its error: ``wave_status.start_next_wave``). Any
    error, whichever port raised it, fails the state on that wave and
    the record's wave
    (``WAVE_START_INVOCATION_FAILED``, ``starting <wave> failed:
    <type>: <message>``)."""
    try:
        return _through(state, lambda sent: start_wave(sent, wave_number))
    except Exception as error:  # noqa: BLE001 - recorded as the failure
        logger.exception("starting a wave failed")
        text = invocation_error_text(error)
    state.current_wave_number = wave_number
    name = wave_name(state, wave_number)
    mark_failed(state, WAVE_START_FAILED, f"starting {name} failed: {text}")
    entry = wave_result(state, wave_number)  # FAILED, endTime, error(Code)
    if state.execution_id:
        wave = {k: entry[k] for k in ("status", "endTime", "error")}
        wave["errorCode"] = WAVE_START_FAILED
        save_wave(state.execution_id, wave_number, wave, table=table)
    return state


def _through(
    state: EngineState, call: Callable[[Dict[str, Any]], Dict[str, Any]]
) -> EngineState:
    """The state after a port's operation: the port takes and answers the
    JSON state (a Lambda invoke, or the handler's function in-process)."""
    return EngineState.from_json(
        to_jsonable(call(to_jsonable(state.to_json())))
    )


def _application(event: Dict[str, Any]) -> EngineState:
    """The state the state machine passed (``application``)."""
    return EngineState.from_json(dict(event.get("application") or {}))


def finish_execution(
    state: EngineState,
    table: Optional[Any] = None,
    port: Optional["OperationsPort"] = None,
) -> EngineState:
    """The one terminal write (``orchestration_finish``); a drill's
    failed/timed-out/cancelled ending is cleaned up through ``port``."""
    cleanup = getattr(port, "cleanup_drill", None)
    return _finish(state, table, cleanup)


def begin_wave_plan(
    event: Dict[str, Any], port: OperationsPort, table: Optional[Any] = None
) -> Dict[str, Any]:
    """Build the state, mark the record RUNNING, start the first wave."""
    state = initial_state(event)
    table = _table(table)
    if state.execution_id:
        if mark_running(state, table) == statuses.CANCELLING:
            mark_cancelled(state, "cancelled before start")
            return finish_execution(state, table, port).to_json()
    publish_execution_event("EXECUTION_STARTED", _details(state))
    if not state.waves:
        state.set(
            status="completed",
            all_waves_completed=True,
            wave_completed=True,
            status_reason="the plan has no waves",
        )
        return finish_execution(state, table, port).to_json()
    state = advance_plan(state, _starter(port, table), table=table)
    return finish_execution(state, table, port).to_json()


def _starter(port: OperationsPort, table: Optional[Any]):
    """How ``begin`` and ``resume_wave`` start a ready wave: an error of
    the port fails that wave (``start_wave_or_fail``)."""

    def start(state: EngineState, index: int) -> EngineState:
        return start_wave_or_fail(state, index, port.start_wave, table)

    return start


def poll_wave_status(
    event: Dict[str, Any], port: OperationsPort, table: Optional[Any] = None
) -> Dict[str, Any]:
    """Poll the current wave through the port. An error of the port (an
    invocation error, a crash in-process) propagates, the same for both
    ports: the state machine retries the poll (bounded; a poll is
    idempotent, a wave's start is claimed once), then its catch records
    the failure (``record_failure``)."""
    state = _application(event)
    if is_terminal(state):
        return state.to_json()
    state = _through(state, port.poll)
    return finish_execution(state, table, port).to_json()


def store_task_token(
    event: Dict[str, Any],
    table: Optional[Any] = None,
    port: Optional[OperationsPort] = None,
) -> Dict[str, Any]:
    """Persist the task token: RUNNING -> PAUSED, ``pausedBeforeWave``."""
    state = _application(event)
    table = _table(table)
    execution_id = state.execution_id
    record = get_execution(execution_id, table)
    if record.get("status") == statuses.CANCELLING:
        mark_cancelled(state, "cancelled while pausing")
        finish_execution(state, table, port)
        raise ExecutionCancelled(f"execution {execution_id} was cancelled")
    token = event.get("taskToken")
    waiting = state.waiting_waves or [state.paused_before_wave]
    if _approved(record, waiting):
        # Approved while the poll decided to pause (a resume of a RUNNING
        # execution, issue 17): no pause at all.
        _release(token)
        return state.to_json()
    transition_status(
        execution_id,
        statuses.PAUSED,
        {
            "taskToken": token,
            "pausedBeforeWave": state.paused_before_wave,
            "pauseRequested": False,
        },
        table=table,
    )
    if _approved(get_execution(execution_id, table), waiting):
        # Approved between the read above and the pause: resume now
        # (conditional: a resume_execution racing this one wins or loses
        # the same write).
        try:
            transition_status(
                execution_id,
                statuses.RUNNING,
                {"taskToken": None, "pausedBeforeWave": None},
                table=table,
                allowed_from=frozenset({statuses.PAUSED}),
                expected={"taskToken": token},
            )
        except InvalidStateError:
            return state.to_json()  # the user's resume released it
        _release(token)
        return state.to_json()
    publish_execution_event(
        "EXECUTION_PAUSED",
        _details(
            state,
            pausedBeforeWave=state.paused_before_wave,
            waitingWaves=_waiting_text(state, waiting) or None,
        ),
    )
    return state.to_json()


def _waiting_text(state: EngineState, waiting: Any) -> str:
    """The waves waiting for approval, for people: with a dependency
    graph several may wait at once (each is approved by number)."""
    waves = state.waves or []
    names = []
    for index in waiting:
        if index is None:
            continue
        index = int(index)
        wave = waves[index] if 0 <= index < len(waves) else {}
        number = wave.get("waveNumber", index + 1)
        names.append(f"wave {number} ({wave_name(state, index)})")
    return ", ".join(names)


def _approved(record: Dict[str, Any], waiting: Any) -> bool:
    """True when every waiting wave is approved on the record."""
    approved = set(record.get("approvedWaves") or [])
    wanted = {int(i) for i in waiting if i is not None}
    return bool(wanted) and wanted <= approved


def _release(token: Optional[str]) -> None:
    """End the pause task at once: the state machine goes on to
    ``resume_wave``."""
    get_client("stepfunctions").send_task_success(
        taskToken=token, output=dumps({"resumedBy": "approval"})
    )


def resume_wave(
    event: Dict[str, Any], port: OperationsPort, table: Optional[Any] = None
) -> Dict[str, Any]:
    """Approve the waves the execution paused before and go on."""
    state = _application(event)
    table = _table(table)
    wave_number = state.paused_before_wave
    record = get_execution(state.execution_id, table)
    if record.get("status") == statuses.CANCELLING:
        mark_cancelled(state, "cancelled while paused")
        return finish_execution(state, table, port).to_json()
    if record.get("status") == statuses.PAUSED:
        cleared = {"pausedBeforeWave": None, "taskToken": None}
        transition_status(
            state.execution_id, statuses.RUNNING, cleared, table=table
        )
        publish_execution_event("EXECUTION_RESUMED", _details(state))
    if wave_number is None:
        state = mark_failed(
            state, "NOTHING_TO_RESUME", "the state has no paused_before_wave"
        )
        return finish_execution(state, table, port).to_json()
    # The resume approved the waves it named on the record (issue 17:
    # one wave, or every wave waiting); the graph starts them with
    # whatever else became ready, and pauses again for the others.
    approved = record.get("approvedWaves") or (
        state.waiting_waves or [int(wave_number)]
    )
    state.set(status="running", paused_before_wave=None, waiting_waves=None)
    state = advance_plan(
        state, _starter(port, table), table=table, approved=approved
    )
    return finish_execution(state, table, port).to_json()


def record_failure(
    event: Dict[str, Any],
    table: Optional[Any] = None,
    port: Optional[OperationsPort] = None,
) -> Dict[str, Any]:
    """The state machine's ``States.ALL`` catch: record FAILED."""
    state = _application(event)
    error = str(event.get("error") or "States.ALL")[:100]
    # The cause is the failed function's error payload (AWS text, a
    # traceback): the logs keep it; the record says it in our words.
    logger.error(
        "orchestration step failed",
        extra={"error": error, "cause": event.get("cause")},
    )
    # A States.* error is the state machine's own; a function's error
    # type differs between the ports (the record is the same for both).
    what = error if error.startswith("States.") else "a function error"
    mark_failed(
        state,
        "ORCHESTRATION_ERROR",
        f"the orchestration step failed after its retries ({what}); the "
        "cause is in the orchestration function's logs",
    )
    return finish_execution(state, table, port).to_json()


def handle(
    event: Dict[str, Any], port: OperationsPort, table: Optional[Any] = None
) -> Dict[str, Any]:
    """Dispatch a state machine event to the core."""
    action = event.get("action")
    # Every module's log lines of this invocation carry the execution id.
    application = event.get("application") or {}
    logger.set_correlation_id(
        event.get("executionId") or application.get("execution_id")
    )
    if action == "begin":
        return begin_wave_plan(event, port, table)
    if action == "poll_wave_status":
        return poll_wave_status(event, port, table)
    if action == "store_task_token":
        return store_task_token(event, table, port)
    if action == "resume_wave":
        return resume_wave(event, port, table)
    if action == "record_failure":
        return record_failure(event, table, port)
    raise ValueError(f"unknown orchestration action {action!r}")
