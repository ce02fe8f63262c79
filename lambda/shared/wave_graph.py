"""The plan's waves as a dependency graph (issue 17): which waves start
now, which wait for approval or are skipped, and how the execution
stands. One function, :func:`advance_plan`, used by ``begin``,
``resume_wave`` (orchestration core) and every poll (query-handler), for
both orchestration functions; the graph rule itself is
``shared.wave_schedule.advance`` (pure).

Semantics (backward compatible): a wave without ``dependsOnWaves``
depends on the wave before it, so today's plans run one wave after the
other; ``dependsOnWaves: []`` starts with the execution; otherwise a wave
is ready when every wave it names COMPLETED. A plan in which no wave
names a dependency is linear (:func:`is_graph`). Ready waves start together
(their DRS jobs within the quotas: ``chunk_starts``); when the quotas
bind, the wave on the longest chain ahead starts and is polled first
(critical path first: :func:`in_priority`). A ready wave with
``pauseBeforeWave`` (or every ready wave, when the user asked to pause)
waits WAITING_APPROVAL; the execution is paused only when nothing runs
and a wave waits. A failed wave's dependents are SKIPPED; independent
branches run on; the execution then ends FAILED naming both.

The seeds' fields keep their meaning for a linear plan:
``current_wave_number`` is the running wave (the lowest, when several
run), ``paused_before_wave`` the first waiting wave.
"""

from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from shared import clock, statuses
from shared.wave_schedule import (
    COMPLETED,
    FAILED,
    QUEUED,
    SKIPPED,
    STARTED,
    WAITING_APPROVAL,
    WaveProgress,
    WaveSpec,
    advance,
    dependencies,
    priority,
)
from shared.engine_state import EngineState
from shared.wave_state import save_wave, wave_name, wave_result

# start(state, index) -> the state after wave ``index``'s start.
WaveStarter = Callable[[EngineState, int], EngineState]

ACTIVE = (QUEUED, STARTED)
# ``waitingFor`` of a wave waiting for approval (the others name waves).
APPROVAL = "approval"
# Why a wave start ended the whole state although only the wave failed.
EXECUTION_ENDINGS = ("EXECUTION_NOT_RUNNING", "EXECUTION_CANCELLED")


def is_graph(waves: List[Dict[str, Any]]) -> bool:
    """True when a wave of the plan names a dependency. A plan where no
    wave does (every ``dependsOnWaves`` absent or empty) is linear: plans
    saved before dependency graphs stored ``[]`` on every wave, and the
    console saves ``[]`` by default; they run one wave after the other,
    as they always did. In a graph, ``[]`` means "at start"."""
    return any(w.get("dependsOnWaves") for w in waves)


def wave_specs(state: EngineState) -> List[WaveSpec]:
    """The graph of the state's waves, by index (``dependsOnWaves`` name
    wave numbers; unknown numbers were refused when the plan was saved
    and are ignored here)."""
    waves = state.waves or []
    index_of = {w.get("waveNumber", i): i for i, w in enumerate(waves)}
    graph = is_graph(waves)
    specs = []
    for index, wave in enumerate(waves):
        named = wave.get("dependsOnWaves")
        depends = (
            None
            if named is None or not graph
            else tuple(
                index_of[n]
                for n in named
                if n in index_of and index_of[n] != index
            )
        )
        specs.append(
            WaveSpec(
                number=index,
                servers=(),
                depends_on=depends,
                pause_before=bool(wave.get("pauseBeforeWave")),
            )
        )
    return specs


def plan_dependencies(
    waves: List[Dict[str, Any]],
) -> Dict[int, Tuple[int, ...]]:
    """``waveNumber`` -> the wave numbers it waits for, by the engine's
    rule (a linear plan, or a wave without ``dependsOnWaves``: the wave
    before it). ``waves``: a plan's, or an execution record's (which
    carries each wave's ``dependsOnWaves`` as saved)."""
    graph = is_graph(waves)
    numbers = {int(w["waveNumber"]) for w in waves}
    specs = []
    for wave in waves:
        number, named = int(wave["waveNumber"]), wave.get("dependsOnWaves")
        depends = (
            None
            if named is None or not graph
            else tuple(
                int(n) for n in named if int(n) in numbers and int(n) != number
            )
        )
        specs.append(WaveSpec(number=number, servers=(), depends_on=depends))
    return dependencies(specs)


def plan_graph(waves: List[Dict[str, Any]]) -> Dict[str, Any]:
    """What a plan answer says of its graph (``graph``): ``linear`` (its
    waves can only run one after the other: the longest chain holds every
    wave), ``roots`` (the waves that start with the execution) and
    ``longestChain`` (wave numbers; the critical path when waves take
    equal time; ties: the lower numbers)."""
    deps = plan_dependencies(waves)
    chain: Dict[int, List[int]] = {}
    for number in _topological(deps):
        longest: List[int] = []
        for dep in sorted(deps[number]):
            if len(chain[dep]) > len(longest):
                longest = chain[dep]
        chain[number] = longest + [number]
    best = max(chain.values(), key=len, default=[])
    return {
        "linear": len(best) == len(deps),
        "roots": sorted(n for n, needs in deps.items() if not needs),
        "longestChain": best,
    }


def _topological(deps: Dict[int, Tuple[int, ...]]) -> List[int]:
    """The wave numbers, each after those it depends on (validated
    plans have no cycle; a cycle's waves are left out)."""
    order: List[int] = []
    placed: set = set()
    pending = sorted(deps)
    while pending:
        ready = [n for n in pending if set(deps[n]) <= placed]
        if not ready:
            break
        order += ready
        placed |= set(ready)
        pending = [n for n in pending if n not in placed]
    return order


def wave_waits(record: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Per wave of an execution record (in order), what the API shows of
    its place in the graph: ``waitingFor`` while the execution is active
    (a PENDING wave: the wave numbers it depends on not yet COMPLETED; a
    WAITING_APPROVAL wave: ``["approval"]``) and ``readyTime`` (when its
    dependencies had completed: recorded when it had to wait for
    approval, else its start, which follows at once)."""
    waves = record.get("waves") or []
    try:
        deps = plan_dependencies(waves)
    except (KeyError, TypeError, ValueError):
        deps = {}
    status_of = {
        int(w["waveNumber"]): w.get("status")
        for w in waves
        if w.get("waveNumber") is not None
    }
    active = record.get("status") in statuses.ACTIVE_STATUSES
    out = []
    for wave in waves:
        status = wave.get("status") or statuses.WAVE_PENDING
        view: Dict[str, Any] = {}
        ready = wave.get("readyTime") or wave.get("startTime")
        if ready:
            view["readyTime"] = ready
        if active and status == WAITING_APPROVAL:
            view["waitingFor"] = [APPROVAL]
        elif active and status == statuses.WAVE_PENDING:
            number = wave.get("waveNumber")
            needs = deps.get(int(number), ()) if number is not None else ()
            view["waitingFor"] = [
                dep for dep in needs if status_of.get(dep) != COMPLETED
            ]
        out.append(view)
    return out


def wave_status(state: EngineState, index: int) -> str:
    """The wave's status on the state (PENDING before its first step)."""
    for entry in state.wave_results or []:
        if entry.get("waveIndex") == index:
            return str(entry.get("status") or statuses.WAVE_PENDING)
    return statuses.WAVE_PENDING


def active_waves(state: EngineState) -> List[int]:
    """Indexes of the waves with DRS work (QUEUED or STARTED), in the
    order their chunks get the quotas (:func:`in_priority`)."""
    return in_priority(
        state,
        [
            int(e["waveIndex"])
            for e in state.wave_results or []
            if e.get("status") in ACTIVE
        ],
    )


def in_priority(state: EngineState, indexes: Iterable[int]) -> List[int]:
    """``indexes`` in the scheduling rule's order: critical path first,
    then the lower wave (``shared.wave_schedule.priority``)."""
    try:
        rank = {n: i for i, n in enumerate(priority(wave_specs(state)))}
    except ValueError:
        rank = {}
    return sorted(set(indexes), key=lambda i: (rank.get(i, i), i))


def record_wave_failure(
    state: EngineState, index: int, code: str, message: str, kind: str
) -> None:
    """Remember a wave's failure for the execution's ending (the first
    one names the ending's code; ``kind``: failed | timeout)."""
    if state.wave_failures is None:
        state.wave_failures = []
    failures = state.wave_failures
    if not any(f.get("waveIndex") == index for f in failures):
        failures.append(
            {
                "waveIndex": index,
                "code": code,
                "message": message[:500],
                "kind": kind,
            }
        )


def _progress(state: EngineState) -> Dict[int, WaveProgress]:
    approved = set(state.approved_waves or [])
    return {
        index: WaveProgress(
            status=wave_status(state, index), approved=index in approved
        )
        for index in range(len(state.waves or []))
    }


def _mark(
    state: EngineState,
    index: int,
    status: str,
    reason: Optional[str],
    table: Optional[Any],
) -> None:
    """A wave the graph decided on without DRS work: SKIPPED or
    WAITING_APPROVAL, on the state and the record."""
    entry = wave_result(state, index)
    if entry.get("status") == status:
        return
    entry["status"] = status
    wave: Dict[str, Any] = {"status": status}
    if status == WAITING_APPROVAL:
        entry["readyTime"] = wave["readyTime"] = clock.iso_now()
    if reason:
        entry["reason"] = wave["statusReason"] = reason
    if state.execution_id:
        save_wave(state.execution_id, index, wave, table=table)


def absorb_wave_failure(state: EngineState, index: int) -> EngineState:
    """A wave start that failed only that wave (``mark_failed`` ended the
    state): the failure is recorded as the wave's and the state runs on;
    the graph decides what it means (its dependents are skipped)."""
    if state.status != "failed" or state.error_code in EXECUTION_ENDINGS:
        return state
    entry = wave_result(state, index)
    entry["status"] = FAILED
    record_wave_failure(
        state,
        index,
        str(state.error_code or "WAVE_START_FAILED"),
        str(state.error or ""),
        "failed",
    )
    state.failed_waves = int(state.failed_waves or 0) + 1
    state.set(status="running", error=None, error_code=None)
    return state


def _start(state: EngineState, index: int, start: WaveStarter) -> EngineState:
    """Start one ready wave (a failure of that wave alone is the wave's)."""
    return absorb_wave_failure(start(state, index), index)


def waiting_indexes(record: Dict[str, Any]) -> List[int]:
    """Indexes of the record's waves waiting for approval."""
    return [
        index
        for index, wave in enumerate(record.get("waves") or [])
        if wave.get("status") == WAITING_APPROVAL
    ]


def advance_plan(
    state: EngineState,
    start: WaveStarter,
    pause_requested: bool = False,
    table: Optional[Any] = None,
    approved: Iterable[Any] = (),
) -> EngineState:
    """Start every ready wave, mark waiting and skipped ones, and set
    where the execution stands (running, paused, completed, failed).
    ``approved``: waves approved on the record (``approvedWaves``: a
    resume naming a wave, or approving one while other branches run)."""
    _approve(state, approved)
    specs = wave_specs(state)
    for _ in range(len(specs) + 1):
        decision = _graph_decision(state, specs, pause_requested)
        for index, status in decision.statuses.items():
            if status in (SKIPPED, WAITING_APPROVAL):
                reason = _reason(state, specs, decision, index)
                _mark(state, index, status, reason, table)
        ready = _ready(state, decision)
        if not ready:
            break
        for index in ready:
            state = _start(state, index, start)
            if state.status in ("cancelled", "failed"):
                return state  # the execution itself stopped
    return _standing(state, decision)


def ready_waves(
    state: EngineState,
    pause_requested: bool = False,
    approved: Iterable[Any] = (),
) -> List[int]:
    """The waves ``advance_plan`` would start first, in its order (none
    while paused or waiting for approval)."""
    _approve(state, approved)
    decision = _graph_decision(state, wave_specs(state), pause_requested)
    return _ready(state, decision)


def _approve(state: EngineState, approved: Iterable[Any]) -> None:
    """Merge the record's ``approvedWaves`` into the state's."""
    merged = set(state.approved_waves or [])
    merged |= {int(i) for i in approved}
    if merged:
        state.approved_waves = sorted(merged)


def _graph_decision(
    state: EngineState, specs: List[WaveSpec], pause_requested: bool
) -> Any:
    return advance(
        specs,
        _progress(state),
        pause_all=pause_requested,
        empty_completes=False,
    )


def _ready(state: EngineState, decision: Any) -> List[int]:
    """Queued waves of the decision not already running, by priority."""
    return in_priority(
        state,
        (
            index
            for index, status in decision.statuses.items()
            if status == QUEUED and wave_status(state, index) not in ACTIVE
        ),
    )


def _reason(
    state: EngineState, specs: List[WaveSpec], decision: Any, index: int
) -> Optional[str]:
    """Why a wave was skipped, naming the wave it depends on by name (the
    rule's reasons count waves from 0)."""
    if decision.statuses.get(index) != SKIPPED:
        return decision.reasons.get(index)
    needs = dependencies(specs).get(index, ())
    for dep in needs:
        status = decision.statuses.get(dep)
        if status in (FAILED, SKIPPED):
            verb = "failed" if status == FAILED else "was skipped"
            return f"{wave_name(state, dep)} {verb}"
    return decision.reasons.get(index)


def _standing(state: EngineState, decision: Any) -> EngineState:
    """The state's status from the graph's decision."""
    active = active_waves(state)
    if active:
        state.current_wave_number = min(active)
    if decision.outcome == COMPLETED:
        state.set(
            status="completed",
            all_waves_completed=True,
            wave_completed=True,
            status_reason="all waves completed",
            end_time=clock.iso_now(),
        )
    elif decision.outcome is not None:
        _failed(state, decision)
    elif decision.paused:
        waiting = decision.waiting
        state.set(
            status="paused",
            paused_before_wave=waiting[0],
            waiting_waves=waiting,
            status_reason="paused before "
            + ", ".join(wave_name(state, i) for i in waiting),
        )
    else:
        state.status = "running"
        state.waiting_waves = decision.waiting or None
    return state


def _failed(state: EngineState, decision: Any) -> None:
    """End FAILED (TIMEOUT when the first failure was a wave timeout),
    naming the failed and the skipped waves."""
    failures = state.wave_failures or []
    first = failures[0] if failures else {}
    skipped = sorted(i for i, s in decision.statuses.items() if s == SKIPPED)
    message = first.get("message") or "a wave failed"
    if skipped:
        specs = wave_specs(state)
        message += "; not started: " + ", ".join(
            f"{wave_name(state, i)} ({_reason(state, specs, decision, i)})"
            for i in skipped
        )
    state.set(
        status="timeout" if first.get("kind") == "timeout" else "failed",
        error=message,
        error_code=first.get("code") or "WAVE_FAILED",
        status_reason=message,
        wave_completed=True,
    )
    if first:
        state.current_wave_number = first["waveIndex"]
