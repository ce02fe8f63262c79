"""Benchmark dag's pure parts: the plan forced linear, the graph read
by the engine's rule, each wave's span from the simulator's jobs."""

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import bench.dag as dag
from bench.dag import graph_of, hub_definition, rows, wave_spans

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _job(index, start, end):
    return SimpleNamespace(
        tags={"DRSOrchWave": str(index)},
        created=T0 + timedelta(seconds=start),
        ended=T0 + timedelta(seconds=end),
    )


def test_the_plan_forks_and_joins_and_forced_linear_is_a_chain():
    # Given the shipped branching plan's hub part
    graph = graph_of(hub_definition())
    linear = graph_of(hub_definition(linear=True))
    # Then it forks after wave 1 and joins at wave 4
    assert graph == {1: [], 2: [1], 3: [1], 4: [2, 3]}
    # And forced linear, every wave waits for the one before
    assert linear == {1: [], 2: [1], 3: [2], 4: [3]}
    # And only the hub's groups are created
    keys = {g["key"] for g in hub_definition()["protectionGroups"]}
    assert "portal" not in keys


def test_a_wave_spans_its_first_job_start_to_its_last_job_end():
    # Given wave index 1 ran two jobs
    jobs = [_job(0, 0, 100), _job(1, 110, 150), _job(1, 120, 200)]
    # When spans are read
    spans = wave_spans(jobs)
    # Then wave 2 runs from its first creation to its last end
    assert spans[2] == [T0.timestamp() + 110, T0.timestamp() + 200]
    assert spans[1] == [T0.timestamp(), T0.timestamp() + 100]


def test_rows_name_the_figures():
    # Given a result
    run = {
        "status": "COMPLETED",
        "criticalPath": [1, 3, 4],
        "wallSeconds": 1.0,
        "sumOfWavesSeconds": 9.0,
    }
    result = {
        "makespanSeconds": 10.0,
        "criticalPathSeconds": 9.5,
        "linearMakespanSeconds": 12.0,
        "ratio": 1.053,
        "goalRatio": 1.05,
        "graph": run,
        "linear": run,
    }
    # Then the table names makespan, bound, path and ratio
    text = " ".join(r[2] for r in rows(result))
    assert "critical path 9.5 s (W1->W3->W4), ratio 1.053" in text
    assert "makespan 12.0 s sim" in text


def test_a_schedule_names_its_waves_by_number_or_by_label(monkeypatch):
    # Given a drill of the hub plan whose four waves ran these spans
    t0 = T0.timestamp()
    spans = {
        1: [t0, t0 + 100],
        2: [t0 + 100, t0 + 150],
        3: [t0 + 100, t0 + 250],
        4: [t0 + 250, t0 + 300],
    }
    run = SimpleNamespace(status="COMPLETED", record={}, wall_seconds=2.0)
    monkeypatch.setattr(
        dag, "drill_spans", lambda *_: (run, ["job"] * 5, spans)
    )
    definition = hub_definition()
    # When its schedule is read by wave number, and by a label
    plain = dag.drill_schedule(None, definition, 600)
    named = dag.drill_schedule(None, definition, 600, lambda n: f"w{n}")
    # Then the makespan and the critical path (1 -> 3 -> 4) are the same
    assert (plain["makespanSeconds"], plain["criticalPathSeconds"]) == (
        300.0,
        300.0,
    )
    assert plain["criticalPath"] == [1, 3, 4]
    assert (plain["jobs"], plain["sumOfWavesSeconds"]) == (5, 350.0)
    assert plain["waves"]["3"] == {
        "waveNumber": 3,
        "startSeconds": 100.0,
        "endSeconds": 250.0,
    }
    # And the labelled schedule names the waves and the path by label
    assert named["criticalPath"] == ["w1", "w3", "w4"]
    assert named["waves"]["w3"] == plain["waves"]["3"]
