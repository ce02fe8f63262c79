"""The scheduling rule: what starts next, given the plan's wave graph,
each wave's progress and the DRS quotas in use.

Pure (no AWS, no clock): the engine gathers the facts (the servers each
wave recorded at start, the chunks already started, DescribeJobs usage of
every account/region, approvals, cancel) and asks :func:`decide`; it
carries out the decision. One rule for ``begin``, ``resume`` and every
poll, and for both orchestration functions.

Semantics (CONTRACTS §8, issues 16 and 17):

- A wave of N servers runs as ``ceil(N / max_servers_per_job)`` DRS jobs
  ("chunks") of balanced sizes.
- A wave without ``depends_on`` (None) depends on the wave before it by
  number; ``()`` means no dependency. A wave is *ready* when every wave
  it depends on has COMPLETED.
- A ready wave with ``pause_before`` waits (WAITING_APPROVAL) until
  approved; the execution is *paused* only when nothing runs and at
  least one wave waits.
- Chunks start in priority order while the location's quotas allow:
  critical path first (:func:`priority`: the wave with the longest chain
  of waves still ahead of it, itself included; ties: the lower wave
  number), then chunk order. Measured (``bench.dag_order``): with the
  quotas binding, a wave off the critical path numbered first delayed
  the chain by its whole duration. The first chunk that does not fit
  blocks the later ones of that location, so a large chunk is never
  starved by smaller ones behind it.
- A FAILED wave makes every wave that depends on it, directly or not,
  SKIPPED; independent branches go on.
- After cancel nothing starts; waves with no started chunk are
  CANCELLED, running ones are left to the cancel path.
"""

from dataclasses import dataclass, field
from math import ceil
from typing import Dict, FrozenSet, List, Mapping, Optional, Sequence, Tuple

from shared import drs_limits
from shared.drs_constants import DRS_JOB_STATUS_WAIT_STATES as WAIT_STATES
from shared.statuses import WAVE_CANCELLED as CANCELLED
from shared.statuses import WAVE_COMPLETED as COMPLETED
from shared.statuses import WAVE_FAILED as FAILED
from shared.statuses import WAVE_PENDING as PENDING
from shared.statuses import WAVE_STARTED as STARTED

from shared.statuses import WAVE_QUEUED as QUEUED
from shared.statuses import WAVE_SKIPPED as SKIPPED
from shared.statuses import WAVE_WAITING_APPROVAL as WAITING_APPROVAL

WAVE_TERMINAL = frozenset({COMPLETED, FAILED, SKIPPED, CANCELLED})


@dataclass(frozen=True)
class Quotas:
    """DRS limits per account and region (deployment settings)."""

    max_servers_per_job: int = drs_limits.MAX_SERVERS_PER_JOB
    max_concurrent_jobs: int = drs_limits.MAX_CONCURRENT_JOBS
    max_servers_in_all_jobs: int = drs_limits.MAX_SERVERS_IN_ALL_JOBS


def quotas_from(settings: object) -> Quotas:
    """The quotas a deployment configured (``shared.config.Settings``:
    ``DRS_MAX_*`` environment variables, defaults from the seeds)."""
    return Quotas(
        max_servers_per_job=getattr(settings, "max_servers_per_job"),
        max_concurrent_jobs=getattr(settings, "max_concurrent_jobs"),
        max_servers_in_all_jobs=getattr(settings, "max_servers_in_all_jobs"),
    )


@dataclass(frozen=True)
class WaveSpec:
    """A wave as recorded at start: its servers and its place in the
    graph. ``location`` names the account/region its jobs run in."""

    number: int
    servers: Tuple[str, ...]
    depends_on: Optional[Tuple[int, ...]] = None
    pause_before: bool = False
    location: str = ""


@dataclass(frozen=True)
class WaveProgress:
    """What the engine knows of a wave: its status, the chunks whose DRS
    job was started (or claimed), and whether its pause was approved."""

    status: str = PENDING
    started_chunks: FrozenSet[int] = frozenset()
    approved: bool = False


@dataclass(frozen=True)
class Usage:
    """Active DRS jobs of a location, whoever started them."""

    active_jobs: int = 0
    servers_in_active_jobs: int = 0


def usage_of(jobs: Sequence[Mapping]) -> Usage:
    """A location's usage from its DescribeJobs items: jobs PENDING or
    STARTED and the servers participating in them, whoever started them
    (other executions, the DRS console)."""
    active = [j for j in jobs if j.get("status") in WAIT_STATES]
    servers = sum(len(j.get("participatingServers") or []) for j in active)
    return Usage(active_jobs=len(active), servers_in_active_jobs=servers)


@dataclass(frozen=True)
class ChunkStart:
    """Start chunk ``chunk`` of wave ``wave``: one StartRecovery."""

    wave: int
    chunk: int
    servers: Tuple[str, ...]
    location: str


@dataclass
class Decision:
    """What the engine does now, and where the execution stands."""

    start: List[ChunkStart] = field(default_factory=list)
    statuses: Dict[int, str] = field(default_factory=dict)
    reasons: Dict[int, str] = field(default_factory=dict)
    paused: bool = False
    outcome: Optional[str] = None  # COMPLETED | FAILED | CANCELLED at end

    @property
    def waiting(self) -> List[int]:
        """Waves waiting for approval."""
        return sorted(
            n for n, s in self.statuses.items() if s == WAITING_APPROVAL
        )


def chunks(servers: Sequence[str], max_per_job: int) -> List[Tuple[str, ...]]:
    """The wave's servers cut into ``ceil(n / max_per_job)`` jobs whose
    sizes differ by at most one (smaller jobs fit tight quotas sooner)."""
    if max_per_job < 1:
        raise ValueError("max_per_job must be at least 1")
    count = ceil(len(servers) / max_per_job)
    if count == 0:
        return []
    size, extra = divmod(len(servers), count)
    out: List[Tuple[str, ...]] = []
    at = 0
    for index in range(count):
        end = at + size + (1 if index < extra else 0)
        out.append(tuple(servers[at:end]))
        at = end
    return out


def job_count(server_count: int, quotas: Quotas = Quotas()) -> int:
    """How many DRS jobs a wave of ``server_count`` servers needs."""
    return ceil(server_count / quotas.max_servers_per_job)


def dependencies(waves: Sequence[WaveSpec]) -> Dict[int, Tuple[int, ...]]:
    """Each wave's dependencies with the implicit rule applied: no
    ``depends_on`` means the wave before it by number."""
    ordered = sorted(w.number for w in waves)
    known = set(ordered)
    deps: Dict[int, Tuple[int, ...]] = {}
    for wave in waves:
        if wave.depends_on is None:
            earlier = [n for n in ordered if n < wave.number]
            deps[wave.number] = (earlier[-1],) if earlier else ()
            continue
        unknown = sorted(set(wave.depends_on) - known)
        if unknown or wave.number in wave.depends_on:
            raise ValueError(
                f"wave {wave.number} depends on unknown or itself: "
                f"{unknown or [wave.number]}"
            )
        deps[wave.number] = tuple(sorted(set(wave.depends_on)))
    return deps


def chain_lengths(deps: Mapping[int, Tuple[int, ...]]) -> Dict[int, int]:
    """Per wave: how many waves the longest chain from it to the plan's
    end holds, itself included (durations are unknown before the run:
    each wave counts one)."""
    dependents: Dict[int, List[int]] = {n: [] for n in deps}
    for number, needs in deps.items():
        for dep in needs:
            dependents.setdefault(dep, []).append(number)
    lengths: Dict[int, int] = {}
    pending = sorted(deps)
    while pending:  # from the plan's end back (no cycle: refused)
        done = [n for n in pending if all(d in lengths for d in dependents[n])]
        if not done:
            lengths.update({n: 1 for n in pending})
            break
        for number in done:
            lengths[number] = 1 + max(
                (lengths[d] for d in dependents[number]), default=0
            )
        pending = [n for n in pending if n not in lengths]
    return lengths


def priority(waves: Sequence[WaveSpec]) -> List[int]:
    """Wave numbers in the order their chunks get the quotas: critical
    path first (the longest chain of waves ahead), then the lower
    number. A linear plan keeps its number order."""
    lengths = chain_lengths(dependencies(waves))
    return sorted(lengths, key=lambda n: (-lengths[n], n))


def unschedulable(
    waves: Sequence[WaveSpec], quotas: Quotas = Quotas()
) -> List[str]:
    """Why a plan can never run under ``quotas`` (empty when it can)."""
    limits = (
        quotas.max_servers_per_job,
        quotas.max_concurrent_jobs,
        quotas.max_servers_in_all_jobs,
    )
    if min(limits) < 1:
        return ["a DRS limit is 0: no job can ever start"]
    problems = []
    for wave in waves:
        for chunk in chunks(wave.servers, quotas.max_servers_per_job):
            if len(chunk) > quotas.max_servers_in_all_jobs:
                problems.append(
                    f"wave {wave.number}: a job of {len(chunk)} servers "
                    f"exceeds {quotas.max_servers_in_all_jobs} servers in "
                    "all active jobs"
                )
                break
    return problems


def advance(
    waves: Sequence[WaveSpec],
    progress: Mapping[int, WaveProgress],
    cancelled: bool = False,
    pause_all: bool = False,
    empty_completes: bool = True,
) -> Decision:
    """The graph part of the rule: which waves are ready (QUEUED), wait
    for approval, are skipped or cancelled, and how the execution stands.
    ``pause_all``: every newly ready wave waits for approval (the user
    asked to pause); ``empty_completes``: a wave known to have no server
    completes at once (the engine's specs carry no servers: False)."""
    deps = dependencies(waves)
    by_number = {w.number: w for w in waves}
    state = {
        n: progress.get(n, WaveProgress()).status for n in sorted(by_number)
    }
    decision = Decision(reasons={})
    _skip_dependents(deps, state, decision.reasons)
    if cancelled:
        for number, status in state.items():
            started = progress.get(number, WaveProgress()).started_chunks
            if status not in WAVE_TERMINAL and not started:
                state[number] = CANCELLED
                decision.reasons[number] = "execution cancelled"
    else:
        _mark_ready(
            deps, state, by_number, progress, pause_all, empty_completes
        )
    decision.statuses = dict(state)
    decision.paused, decision.outcome = _standing(state, cancelled)
    return decision


def decide(
    waves: Sequence[WaveSpec],
    progress: Mapping[int, WaveProgress],
    usage: Mapping[str, Usage],
    quotas: Quotas = Quotas(),
    cancelled: bool = False,
) -> Decision:
    """The one scheduling rule (see the module docstring): the graph
    (:func:`advance`), then the chunks that fit the quotas."""
    decision = advance(waves, progress, cancelled)
    if cancelled:
        return decision
    by_number = {w.number: w for w in waves}
    decision.start = _pack(
        by_number, decision.statuses, progress, usage, quotas
    )
    for start in decision.start:
        decision.statuses[start.wave] = STARTED
    decision.paused, decision.outcome = _standing(decision.statuses, False)
    return decision


def _skip_dependents(
    deps: Mapping[int, Tuple[int, ...]],
    state: Dict[int, str],
    reasons: Dict[int, str],
) -> None:
    # Fixed point over the graph: a wave whose dependency failed or was
    # skipped (transitively) never starts.
    changed = True
    while changed:
        changed = False
        for number, needs in deps.items():
            if state[number] != PENDING:
                continue
            blocked = [d for d in needs if state[d] in (FAILED, SKIPPED)]
            if blocked:
                first = blocked[0]
                verb = "failed" if state[first] == FAILED else "was skipped"
                state[number] = SKIPPED
                reasons[number] = f"wave {first} {verb}"
                changed = True


def _mark_ready(
    deps: Mapping[int, Tuple[int, ...]],
    state: Dict[int, str],
    by_number: Mapping[int, WaveSpec],
    progress: Mapping[int, WaveProgress],
    pause_all: bool = False,
    empty_completes: bool = True,
) -> None:
    # Repeated because an empty wave completes at once and readies its
    # dependents in the same decision.
    changed = True
    while changed:
        changed = False
        for number, needs in deps.items():
            if state[number] not in (PENDING, WAITING_APPROVAL):
                continue
            if any(state[d] != COMPLETED for d in needs):
                continue
            wave = by_number[number]
            approved = progress.get(number, WaveProgress()).approved
            if (wave.pause_before or pause_all) and not approved:
                new = WAITING_APPROVAL
            elif empty_completes and not wave.servers:
                new = COMPLETED  # nothing to recover
            else:
                new = QUEUED
            changed = changed or new != state[number]
            state[number] = new


def _pack(
    by_number: Mapping[int, WaveSpec],
    state: Mapping[int, str],
    progress: Mapping[int, WaveProgress],
    usage: Mapping[str, Usage],
    quotas: Quotas,
) -> List[ChunkStart]:
    jobs = {loc: u.active_jobs for loc, u in usage.items()}
    servers = {loc: u.servers_in_active_jobs for loc, u in usage.items()}
    blocked = set()
    out: List[ChunkStart] = []
    for number in priority(list(by_number.values())):
        if state[number] not in (QUEUED, STARTED):
            continue
        wave = by_number[number]
        loc = wave.location
        started = progress.get(number, WaveProgress()).started_chunks
        for index, chunk in enumerate(
            chunks(wave.servers, quotas.max_servers_per_job)
        ):
            if index in started:
                continue
            if loc in blocked:
                break
            fits = (
                jobs.get(loc, 0) + 1 <= quotas.max_concurrent_jobs
                and servers.get(loc, 0) + len(chunk)
                <= quotas.max_servers_in_all_jobs
            )
            if not fits:
                blocked.add(loc)  # strict order: no overtaking
                break
            jobs[loc] = jobs.get(loc, 0) + 1
            servers[loc] = servers.get(loc, 0) + len(chunk)
            out.append(ChunkStart(number, index, chunk, loc))
    return out


def _standing(
    state: Mapping[int, str], cancelled: bool
) -> Tuple[bool, Optional[str]]:
    values = set(state.values())
    if values <= WAVE_TERMINAL:
        if cancelled or CANCELLED in values:
            return False, CANCELLED
        if values & {FAILED, SKIPPED}:
            return False, FAILED
        return False, COMPLETED
    running = values & {QUEUED, STARTED}
    return (not running and WAITING_APPROVAL in values), None
