"""Waves as a dependency graph (issue 17), run through the generic
orchestration function on the DRS simulator: fork and join, a pause on
one branch, a failed branch, cancel with two branches running. Outcomes
are asserted from the simulator's job history."""

from typing import Any, Dict, List

import pytest

from tests.helpers import REGION, load_handler
from tests.unit.wave_engine_support import HUB, drive, plan_event, wave_engine

GENERIC = "dr-orchestration-stepfunction"


def _wave(number, name, group, depends=None, **extra) -> Dict[str, Any]:
    wave = {"waveNumber": number, "waveName": name, "protectionGroupId": group}
    if depends is not None:
        wave["dependsOnWaves"] = depends
    wave.update(extra)
    return wave


def _groups(engine) -> None:
    engine.add_group("pg-db", sourceServerIds=engine.ids("erp-db"))
    engine.add_group("pg-app", sourceServerIds=engine.ids("erp-app"))
    engine.add_group("pg-web", sourceServerIds=engine.ids("erp-web"))


def _jobs_by_wave(engine) -> Dict[str, List[Any]]:
    jobs: Dict[str, List[Any]] = {}
    for job in engine.sim.jobs(HUB, REGION):
        jobs.setdefault(job.tags.get("DRSOrchWave"), []).append(job)
    return jobs


@pytest.fixture
def engine(monkeypatch):
    with wave_engine(monkeypatch) as eng:
        _groups(eng)
        yield eng


def test_independent_waves_start_together_and_a_join_waits_for_both(
    engine,
):
    # Given db and app depend on nothing, web joins them
    waves = [
        _wave(1, "DB", "pg-db", depends=[]),
        _wave(2, "App", "pg-app", depends=[]),
        _wave(3, "Web", "pg-web", depends=[1, 2]),
    ]
    # When the plan runs to its end
    states = drive(engine, GENERIC, plan_event(waves))
    # Then it completed
    assert states[-1]["status"] == "completed", states[-1].get("error")
    # And db and app started together when the execution began
    first = states[0]
    assert sorted(
        e["waveIndex"]
        for e in first["wave_results"]
        if e["status"] == "STARTED"
    ) == [0, 1]
    jobs = _jobs_by_wave(engine)
    (db,), (app,), (web,) = jobs["0"], jobs["1"], jobs["2"]
    assert db.created == app.created
    # And web started only after both of its dependencies' jobs ended
    assert web.created >= max(db.ended, app.ended)
    record = engine.record("exec-1")
    assert [w["status"] for w in record["waves"]] == ["COMPLETED"] * 3


@pytest.mark.parametrize("depends", [None, []], ids=["absent", "empty"])
def test_a_plan_without_dependencies_runs_one_wave_after_the_other(
    engine, depends
):
    # Given today's plans: no wave names a dependency (absent, or the
    # empty list plans stored before graphs and the console save)
    waves = [
        _wave(1, "DB", "pg-db", depends=depends),
        _wave(2, "App", "pg-app", depends=depends),
        _wave(3, "Web", "pg-web", depends=depends),
    ]
    # When the plan runs
    states = drive(engine, GENERIC, plan_event(waves))
    # Then every wave started after the one before it ended
    assert states[-1]["status"] == "completed"
    jobs = _jobs_by_wave(engine)
    (db,), (app,), (web,) = jobs["0"], jobs["1"], jobs["2"]
    assert db.ended <= app.created and app.ended <= web.created
    # And never two waves ran at once in any state
    for state in states:
        running = [
            e for e in state["wave_results"] if e["status"] == "STARTED"
        ]
        assert len(running) <= 1


def test_a_pause_waits_for_the_running_branch_before_pausing(engine):
    # Given app (after db) waits for approval, web runs independently
    waves = [
        _wave(1, "DB", "pg-db", depends=[]),
        _wave(2, "App", "pg-app", depends=[1], pauseBeforeWave=True),
        _wave(3, "Web", "pg-web", depends=[]),
    ]
    # When the plan runs, approving when paused
    states = drive(engine, GENERIC, plan_event(waves))
    # Then it completed
    assert states[-1]["status"] == "completed"
    # And the execution paused only when no wave was running
    for state in states:
        active = [
            e
            for e in state["wave_results"]
            if e["status"] in ("STARTED", "QUEUED")
        ]
        waiting = [
            e
            for e in state["wave_results"]
            if e["status"] == "WAITING_APPROVAL"
        ]
        if state["status"] == "paused":
            assert not active and waiting
            assert state["paused_before_wave"] == 1
        if waiting and active:
            assert state["status"] == "running"
    assert any(s["status"] == "paused" for s in states)
    # And app started only after it was approved, after web and db ended
    jobs = _jobs_by_wave(engine)
    (db,), (app,), (web,) = jobs["0"], jobs["1"], jobs["2"]
    assert app.created >= max(db.ended, web.ended)


def test_a_failed_branch_skips_its_dependents_and_the_other_completes(
    monkeypatch,
):
    # Given erp-db-01 fails to launch; app depends on db, web does not
    faults = [{"type": "launch_failure", "server": "erp-db-01"}]
    with wave_engine(monkeypatch, faults=faults) as engine:
        _groups(engine)
        waves = [
            _wave(1, "DB", "pg-db", depends=[]),
            _wave(2, "App", "pg-app", depends=[1]),
            _wave(3, "Web", "pg-web", depends=[]),
        ]
        # When the plan runs
        states = drive(engine, GENERIC, plan_event(waves))
        # Then it failed naming the failed and the skipped wave
        final = states[-1]
        assert final["status"] == "failed"
        assert final["error_code"] == "SERVER_LAUNCH_FAILED"
        assert "DB failed" in final["error"]
        assert "not started: App (DB failed)" in final["error"]
        # And the record says so per wave; web ran to its end
        record = engine.record("exec-1")
        assert record["status"] == "FAILED"
        assert [w["status"] for w in record["waves"]] == [
            "FAILED",
            "SKIPPED",
            "COMPLETED",
        ]
        # And app never got a DRS job; web's job completed
        jobs = _jobs_by_wave(engine)
        assert "1" not in jobs
        (web,) = jobs["2"]
        assert web.status == "COMPLETED"


def test_cancel_with_two_branches_running_stops_everything(engine):
    # Given db and app run at once, web joins them
    waves = [
        _wave(1, "DB", "pg-db", depends=[]),
        _wave(2, "App", "pg-app", depends=[]),
        _wave(3, "Web", "pg-web", depends=[1, 2]),
    ]
    handler = load_handler(GENERIC).lambda_handler
    state = handler(plan_event(waves), None)
    assert len(engine.sim.jobs(HUB, REGION)) == 2
    # When the execution is cancelled (the lifecycle API's write)
    engine.history.update_item(
        Key={"executionId": "exec-1"},
        UpdateExpression="SET #s = :c",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":c": "CANCELLING"},
    )
    # And polled until it ends
    for _ in range(20):
        if state["status"] != "running":
            break
        engine.advance(60)
        state = handler(
            {"action": "poll_wave_status", "application": state}, None
        )
    # Then it ended cancelled once both jobs settled; web never started
    assert state["status"] == "cancelled"
    launches = [j for j in engine.sim.jobs(HUB, REGION) if j.type == "LAUNCH"]
    assert len(launches) == 2 and not any(j.active for j in launches)
    record = engine.record("exec-1")
    assert record["status"] == "CANCELLED"
    assert record["waves"][2]["status"] in ("PENDING", "CANCELLED")
