"""The scheduling rule (shared.wave_schedule): pure, no AWS."""

import pytest

from shared.wave_schedule import (
    CANCELLED,
    COMPLETED,
    FAILED,
    STARTED,
    PENDING,
    QUEUED,
    SKIPPED,
    WAITING_APPROVAL,
    Quotas,
    Usage,
    WaveProgress,
    WaveSpec,
    chunks,
    decide,
    dependencies,
    job_count,
    unschedulable,
)

HUB = "111111111111/us-east-1"
SPOKE = "222222222222/us-east-1"


def servers(count, prefix="s"):
    return tuple(f"{prefix}-{i:04d}" for i in range(count))


def wave(number, count, **kwargs):
    kwargs.setdefault("location", HUB)
    return WaveSpec(number, servers(count, f"w{number}"), **kwargs)


def done(*numbers):
    return {n: WaveProgress(COMPLETED, frozenset({0})) for n in numbers}


# -- packing ---------------------------------------------------------------
@pytest.mark.parametrize(
    "count, sizes",
    [
        (0, []),
        (1, [1]),
        (100, [100]),
        (101, [51, 50]),
        (150, [75, 75]),
        (350, [88, 88, 87, 87]),
    ],
)
def test_a_wave_is_cut_into_balanced_jobs_of_at_most_100(count, sizes):
    # Given a wave of `count` servers / When it is cut into jobs
    cut = chunks(servers(count), 100)
    # Then ceil(count/100) jobs of balanced sizes hold every server once
    assert [len(c) for c in cut] == sizes
    assert [s for c in cut for s in c] == list(servers(count))
    assert job_count(count) == len(sizes)


def test_a_350_server_wave_starts_as_four_jobs_at_once():
    # Given one wave of 350 servers and an idle account
    decision = decide([wave(1, 350)], {}, {})
    # Then its four jobs start together (350 <= 500 servers, 4 <= 20 jobs)
    assert [(s.wave, s.chunk, len(s.servers)) for s in decision.start] == [
        (1, 0, 88),
        (1, 1, 88),
        (1, 2, 87),
        (1, 3, 87),
    ]
    assert decision.statuses == {1: STARTED}


def test_chunks_over_the_servers_quota_wait_for_the_next_poll():
    # Given a 700-server wave (7 jobs of 100) and 450 servers already in
    # jobs started outside this execution
    usage = {HUB: Usage(active_jobs=5, servers_in_active_jobs=450)}
    # When the rule decides
    first = decide([wave(1, 700)], {}, usage)
    # Then nothing fits yet: the wave is QUEUED
    assert first.start == [] and first.statuses[1] == QUEUED
    # And once the other jobs ended, five chunks start, two stay queued
    second = decide([wave(1, 700)], {1: WaveProgress(QUEUED)}, {})
    assert [s.chunk for s in second.start] == [0, 1, 2, 3, 4]
    # And on the next poll the started ones are skipped
    third = decide(
        [wave(1, 700)],
        {1: WaveProgress(STARTED, frozenset(range(5)))},
        {HUB: Usage(3, 300)},
    )
    assert [s.chunk for s in third.start] == [5, 6]


def test_the_concurrent_jobs_quota_binds():
    # Given 19 jobs already active and a wave of two small jobs
    quotas = Quotas(max_servers_per_job=2)
    decision = decide([wave(1, 4)], {}, {HUB: Usage(19, 19)}, quotas=quotas)
    # Then one job starts, reaching the limit of 20
    assert [s.chunk for s in decision.start] == [0]


def test_quotas_are_per_account_and_region():
    # Given the hub full and a spoke idle, two independent waves
    waves = [
        wave(1, 100, depends_on=()),
        wave(2, 100, depends_on=(), location=SPOKE),
    ]
    usage = {HUB: Usage(20, 500)}
    # When the rule decides / Then only the spoke's wave starts
    decision = decide(waves, {}, usage)
    assert [(s.wave, s.location) for s in decision.start] == [(2, SPOKE)]
    assert decision.statuses == {1: QUEUED, 2: STARTED}


def test_a_later_wave_never_overtakes_a_chunk_that_does_not_fit():
    # Given two ready waves: wave 1's job needs 100 servers of quota,
    # wave 2's only 10, and 50 of quota is left
    waves = [wave(1, 100, depends_on=()), wave(2, 10, depends_on=())]
    decision = decide(waves, {}, {HUB: Usage(1, 450)})
    # Then neither starts: the lower wave number goes first
    assert decision.start == []


def test_raised_quotas_are_used():
    quotas = Quotas(max_servers_per_job=200, max_servers_in_all_jobs=1000)
    decision = decide([wave(1, 800)], {}, {}, quotas=quotas)
    assert [len(s.servers) for s in decision.start] == [200] * 4


# -- the graph -------------------------------------------------------------
def test_without_depends_on_waves_run_one_after_another():
    waves = [wave(1, 2), wave(2, 2), wave(3, 2)]
    assert dependencies(waves) == {1: (), 2: (1,), 3: (2,)}
    # Given wave 1 running / Then wave 2 does not start
    running = {1: WaveProgress(STARTED, frozenset({0}))}
    assert decide(waves, running, {}).start == []
    # Given wave 1 completed / Then wave 2 (only) starts
    decision = decide(waves, done(1), {})
    assert [s.wave for s in decision.start] == [2]
    assert decision.statuses[3] == PENDING


def test_independent_branches_start_together_and_a_join_waits():
    # Given ERP 1 -> 2 and CRM 3 -> 4, and a report wave 5 joining both
    waves = [
        wave(1, 3, depends_on=()),
        wave(2, 3, depends_on=(1,)),
        wave(3, 3, depends_on=()),
        wave(4, 3, depends_on=(3,)),
        wave(5, 3, depends_on=(2, 4)),
    ]
    assert [s.wave for s in decide(waves, {}, {}).start] == [1, 3]
    # When ERP has finished but CRM's second wave still runs
    progress = {
        **done(1, 2, 3),
        4: WaveProgress(STARTED, frozenset({0})),
    }
    # Then the join does not start
    decision = decide(waves, progress, {})
    assert decision.start == [] and decision.statuses[5] == PENDING
    # And once both branches completed it starts
    assert [s.wave for s in decide(waves, done(1, 2, 3, 4), {}).start] == [5]


def test_unknown_or_self_dependency_is_refused():
    with pytest.raises(ValueError, match="wave 2"):
        dependencies([wave(1, 1), wave(2, 1, depends_on=(9,))])
    with pytest.raises(ValueError, match="wave 1"):
        dependencies([wave(1, 1, depends_on=(1,))])


def test_an_empty_wave_completes_and_readies_its_dependents():
    waves = [wave(1, 0), wave(2, 2)]
    decision = decide(waves, {}, {})
    assert decision.statuses[1] == COMPLETED
    assert [s.wave for s in decision.start] == [2]


# -- pause -----------------------------------------------------------------
def test_a_pause_on_one_branch_lets_the_other_run():
    # Given two branches; wave 3 pauses before it starts
    waves = [
        wave(1, 2, depends_on=()),
        wave(2, 2, depends_on=(1,)),
        wave(3, 2, depends_on=(), pause_before=True),
    ]
    decision = decide(waves, {}, {})
    # Then wave 1 starts, wave 3 waits, and the execution is not paused
    assert [s.wave for s in decision.start] == [1]
    assert decision.waiting == [3]
    assert decision.paused is False
    # When the other branch has completed, only the wait is left: paused
    decision = decide(waves, done(1, 2), {})
    assert decision.paused is True and decision.outcome is None
    # And once approved it starts
    approved = {**done(1, 2), 3: WaveProgress(approved=True)}
    decision = decide(waves, approved, {})
    assert [s.wave for s in decision.start] == [3]
    assert decision.paused is False


def test_a_wave_waiting_for_quota_is_not_a_pause():
    waves = [wave(1, 100), wave(2, 1, depends_on=(), pause_before=True)]
    decision = decide(waves, {}, {HUB: Usage(20, 100)})
    assert decision.statuses == {1: QUEUED, 2: WAITING_APPROVAL}
    assert decision.paused is False


# -- failure and cancel ----------------------------------------------------
def test_a_failed_wave_skips_its_dependents_and_the_other_branch_runs():
    waves = [
        wave(1, 2, depends_on=()),
        wave(2, 2, depends_on=(1,)),
        wave(3, 2, depends_on=(2,)),
        wave(4, 2, depends_on=()),
    ]
    progress = {
        1: WaveProgress(FAILED, frozenset({0})),
        4: WaveProgress(STARTED, frozenset({0})),
    }
    decision = decide(waves, progress, {})
    assert decision.statuses == {
        1: FAILED,
        2: SKIPPED,
        3: SKIPPED,
        4: STARTED,
    }
    assert decision.reasons == {2: "wave 1 failed", 3: "wave 2 was skipped"}
    assert decision.outcome is None
    # When the other branch completes the execution ends FAILED
    progress[4] = WaveProgress(COMPLETED, frozenset({0}))
    assert decide(waves, progress, {}).outcome == FAILED


def test_after_cancel_nothing_starts_anywhere():
    waves = [
        wave(1, 2, depends_on=()),
        wave(2, 300, depends_on=()),
        wave(3, 2, depends_on=(1,)),
    ]
    progress = {
        1: WaveProgress(COMPLETED, frozenset({0})),
        2: WaveProgress(STARTED, frozenset({0})),
    }
    decision = decide(waves, progress, {}, cancelled=True)
    # Then no chunk starts (not wave 2's queued ones, not wave 3)
    assert decision.start == []
    assert decision.statuses == {1: COMPLETED, 2: STARTED, 3: CANCELLED}
    # And the execution ends only once the running wave has ended
    assert decision.outcome is None
    progress[2] = WaveProgress(CANCELLED, frozenset({0}))
    assert decide(waves, progress, {}, cancelled=True).outcome == CANCELLED


def test_every_wave_completed_is_completed():
    waves = [wave(1, 1), wave(2, 1)]
    assert decide(waves, done(1, 2), {}).outcome == COMPLETED


# -- plans that can never run ----------------------------------------------
def test_a_plan_that_can_never_run_is_named():
    assert unschedulable([wave(1, 1000)]) == []
    assert unschedulable([wave(1, 5)], Quotas(max_concurrent_jobs=0)) == [
        "a DRS limit is 0: no job can ever start"
    ]
    tight = Quotas(max_servers_per_job=100, max_servers_in_all_jobs=50)
    assert unschedulable([wave(1, 80)], tight) == [
        "wave 1: a job of 80 servers exceeds 50 servers in all active jobs"
    ]


def test_quotas_come_from_the_deployment_settings():
    # Given a deployment with raised DRS quotas
    from shared.config import load_settings
    from shared.wave_schedule import Quotas, quotas_from

    settings = load_settings(
        {
            "DRS_MAX_SERVERS_PER_JOB": "150",
            "DRS_MAX_CONCURRENT_JOBS": "40",
            "DRS_MAX_SERVERS_IN_ALL_JOBS": "1000",
        }
    )
    # When the quotas are read / Then they are the configured ones
    assert quotas_from(settings) == Quotas(150, 40, 1000)
    # And an unset environment gives the seeds' defaults
    assert quotas_from(load_settings({})) == Quotas(100, 20, 500)
