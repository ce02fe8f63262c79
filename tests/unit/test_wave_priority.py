"""The chunk order when the DRS quotas bind (issue 17): critical path
first, then the lower wave number (``shared.wave_schedule.priority``),
for a wave's start (``advance_plan``) and every poll (``active_waves``).
Chosen by measurement (``bench.dag_order``, README)."""

import pytest

from shared.engine_state import EngineState
from shared.wave_graph import active_waves
from shared.wave_schedule import (
    Quotas,
    Usage,
    WaveProgress,
    WaveSpec,
    chain_lengths,
    decide,
    priority,
)
from tests.helpers import REGION
from tests.unit.wave_engine_support import HUB, drive, plan_event, wave_engine

GENERIC = "dr-orchestration-stepfunction"


def _spec(number, depends, servers=1):
    return WaveSpec(
        number=number,
        servers=tuple(f"s-{number}-{i}" for i in range(servers)),
        depends_on=depends,
        location="here",
    )


# db(0) -> report(1) | application(2) -> web(3): report is off the
# critical path but numbered before it.
FORK = [_spec(0, ()), _spec(1, (0,), 2), _spec(2, (0,), 2), _spec(3, (2,))]


def test_chain_lengths_count_the_waves_ahead():
    # Given the fork
    # When the chains ahead are counted
    lengths = chain_lengths({0: (), 1: (0,), 2: (0,), 3: (2,)})
    # Then application has web ahead, report nothing
    assert lengths == {0: 3, 1: 1, 2: 2, 3: 1}


def test_the_critical_path_goes_first_ties_by_number():
    # Given the fork, and a linear plan
    linear = [_spec(0, None), _spec(1, None), _spec(2, None)]
    # When ordered
    # Then application (its chain holds web) precedes report; a linear
    # plan keeps its number order
    assert priority(FORK) == [0, 2, 1, 3]
    assert priority(linear) == [0, 1, 2]


def test_when_the_quotas_bind_the_chain_gets_the_capacity():
    # Given db completed, report and application ready, room for 3
    # servers in all jobs (2 + 2 do not fit)
    progress = {0: WaveProgress(status="COMPLETED")}
    quotas = Quotas(max_servers_in_all_jobs=3)
    # When the rule decides
    decision = decide(FORK, progress, {"here": Usage()}, quotas)
    # Then application's job starts; report waits (QUEUED)
    assert [(s.wave, s.chunk) for s in decision.start] == [(2, 0)]
    assert decision.statuses[1] == "QUEUED"


def test_active_waves_are_polled_in_priority_order():
    # Given a state where report and application both run
    state = {
        "waves": [
            {"waveNumber": 1, "dependsOnWaves": []},
            {"waveNumber": 2, "dependsOnWaves": [1]},
            {"waveNumber": 3, "dependsOnWaves": [1]},
            {"waveNumber": 4, "dependsOnWaves": [3]},
        ],
        "wave_results": [
            {"waveIndex": 0, "status": "COMPLETED"},
            {"waveIndex": 1, "status": "QUEUED"},
            {"waveIndex": 2, "status": "STARTED"},
        ],
    }
    # When the running waves are listed
    # Then application (index 2) comes before report (index 1)
    assert active_waves(EngineState.from_json(state)) == [2, 1]


@pytest.fixture
def engine(monkeypatch):
    monkeypatch.setenv("DRS_MAX_SERVERS_IN_ALL_JOBS", "3")
    with wave_engine(monkeypatch) as eng:
        apps, webs = eng.ids("erp-app"), eng.ids("erp-web")
        eng.add_group("pg-db", sourceServerIds=eng.ids("erp-db"))
        eng.add_group("pg-report", sourceServerIds=[apps[2], webs[2]])
        eng.add_group("pg-app", sourceServerIds=apps[:2])
        eng.add_group("pg-web", sourceServerIds=webs[:1])
        yield eng


def _wave(number, name, group, depends):
    return {
        "waveNumber": number,
        "waveName": name,
        "protectionGroupId": group,
        "dependsOnWaves": depends,
    }


def test_a_plan_numbering_the_short_branch_first_runs_the_chain_first(
    engine,
):
    # Given db -> (report, wave 2 | application, wave 3 -> web) and room
    # for 3 servers in all DRS jobs
    waves = [
        _wave(1, "db", "pg-db", []),
        _wave(2, "report", "pg-report", [1]),
        _wave(3, "application", "pg-app", [1]),
        _wave(4, "web", "pg-web", [3]),
    ]
    # When the plan runs to its end
    states = drive(engine, GENERIC, plan_event(waves), max_steps=40)
    # Then it completed; application started before report, and web
    # started while report ran (report no longer delays the chain)
    assert states[-1]["status"] == "completed"
    jobs = {j.tags["DRSOrchWave"]: j for j in engine.sim.jobs(HUB, REGION)}
    assert jobs["2"].created < jobs["1"].created
    assert jobs["3"].created < jobs["1"].ended
