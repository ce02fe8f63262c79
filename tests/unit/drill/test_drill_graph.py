"""The drill's view of waves as a dependency graph (issue 17): the
plan's graph as the engine reads it, the critical path, the makespan,
overlapping wave lanes, the report, live progress and the timeline."""

import io
from pathlib import Path

from localcloud.drill.graph import (
    critical_path,
    dependencies,
    graph_summary,
    is_linear,
    lanes,
)
from localcloud.drill.phases import PhaseRecorder
from localcloud.drill.plan_setup import create_plan, load_plan, plans_of
from localcloud.drill.progress import ProgressView
from localcloud.drill.report import build_report, summary_text
from localcloud.drill.timeline import render_timeline

GRAPH_PLAN = (
    Path(__file__).resolve().parents[3]
    / "scripts/plans/three-tier-graph-plan.yaml"
)
FORK_JOIN = {1: [], 2: [1], 3: [1], 4: [2, 3]}


def _stored(depends):
    """Waves as the data-management handler stores them."""
    return [{"waveNumber": n, "dependsOnWaves": d} for n, d in depends.items()]


def test_the_engine_rule_reads_the_stored_graph():
    # Given a fork/join plan, in any order
    fork_join = _stored(FORK_JOIN)
    # When read as the engine reads it
    graph = dependencies(list(reversed(fork_join)))
    # Then the fork/join graph is kept
    assert graph == FORK_JOIN and not is_linear(graph)
    # And a wave without the field waits for the wave before it
    linear = dependencies([{"waveNumber": 1}, {"waveNumber": 2}])
    assert linear == {1: [], 2: [1]} and is_linear(linear)


def test_critical_path_is_the_longest_chain_of_measured_durations():
    # Given measured durations: batch (3) is longer than app (2)
    durations = {1: 100.0, 2: 50.0, 3: 80.0, 4: 30.0}
    # When the critical path is computed
    seconds, path = critical_path(FORK_JOIN, durations)
    # Then it runs through the longer branch
    assert seconds == 210.0 and path == [1, 3, 4]
    # And a wave that never ran counts nothing
    assert critical_path(FORK_JOIN, {1: 100.0, 2: 50.0}) == (
        150.0,
        [1, 2],
    )


def test_summary_gives_makespan_bound_and_ratio():
    # Given the waves' measured (start, end): 2 and 3 overlap
    spans = {1: (0, 100), 2: (110, 160), 3: (110, 190), 4: (200, 230)}
    # When summarised
    graph = graph_summary(FORK_JOIN, spans)
    # Then makespan = first start -> last end, bound = 1 -> 3 -> 4
    assert graph["makespanSeconds"] == 230.0
    assert graph["criticalPathSeconds"] == 140.0 + 30.0 + 40.0
    assert graph["criticalPath"] == [1, 3, 4]
    assert graph["sumOfWavesSeconds"] == 260.0
    assert graph["ratio"] == round(230 / 210, 3)


def test_overlapping_waves_get_their_own_lanes_and_lanes_are_reused():
    # Given 2 and 3 run together, 4 after both
    spans = {1: (0, 100), 2: (110, 160), 3: (110, 190), 4: (200, 230)}
    # When laid out
    placed = lanes(spans)
    # Then the parallel waves are on different lanes, others reuse lane 0
    assert placed[2] != placed[3]
    assert placed[1] == placed[4] == 0
    assert max(placed.values()) == 1


def _graph_report():
    """Given a fork/join drill sampled every 100 simulated seconds."""
    recorder = PhaseRecorder(speed=100)

    def wave(number, status):
        return {
            "waveNumber": number,
            "waveName": f"W{number}",
            "status": status,
            "servers": [],
        }

    samples = [
        ["STARTED", "PENDING", "PENDING", "PENDING"],
        ["COMPLETED", "STARTED", "STARTED", "PENDING"],
        ["COMPLETED", "COMPLETED", "STARTED", "PENDING"],
        ["COMPLETED", "COMPLETED", "COMPLETED", "STARTED"],
        ["COMPLETED"] * 4,
    ]
    for second, statuses in enumerate(samples):
        details = {
            "executionId": "ex-g",
            "status": "RUNNING",
            "waves": [wave(n + 1, s) for n, s in enumerate(statuses)],
        }
        recorder.observe(details, second)
    details["status"] = "COMPLETED"
    return build_report(
        details, recorder, speed=100, wall_seconds=4, depends=FORK_JOIN
    )


def test_report_and_summary_name_makespan_and_critical_path(tmp_path):
    # Given a finished fork/join drill
    report = _graph_report()
    # Then the report carries the graph figures
    graph = report["graph"]
    assert graph["makespanSeconds"] == 400.0
    assert graph["criticalPath"] == [1, 3, 4]
    assert graph["criticalPathSeconds"] == 400.0
    # And the summary prints them and what each wave waits for
    text = summary_text(report)
    assert "critical path 0:06:40 (W1 -> W3 -> W4)" in text
    assert "W2+W3" in text and "paused" not in text
    assert graph["pausedSeconds"] == 0
    # And the timeline is drawn
    path = render_timeline(report, tmp_path / "timeline.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_live_progress_shows_waves_running_together_and_the_path():
    # Given a view that knows the graph and the critical path so far
    out = io.StringIO()
    view = ProgressView(out, tty=False)
    view.depends = FORK_JOIN
    view.critical = {1, 3}
    waves = [
        {"waveNumber": 1, "waveName": "DB", "status": "COMPLETED"},
        {"waveNumber": 2, "waveName": "App", "status": "STARTED"},
        {"waveNumber": 3, "waveName": "Batch", "status": "STARTED"},
        {"waveNumber": 4, "waveName": "Web", "status": "PENDING"},
    ]
    details = {"status": "RUNNING", "waves": waves}
    # When shown on a log and as a block
    view.update(details, 1)
    block = view.block(details, 1)
    # Then one line says which waves run side by side
    assert "running together: W2 App || W3 Batch" in out.getvalue()
    assert "  running together: W2 App || W3 Batch" in block
    # And each wave says what it waits for; the path is starred
    web = next(line for line in block if "Wave 4" in line)
    assert web.startswith(" ") and web.endswith("after W2+W3")
    batch = next(line for line in block if "Wave 3" in line)
    assert batch.startswith("*")


def test_shipped_graph_plan_forks_and_joins_and_keeps_empty_lists():
    # Given the shipped branching plan
    definition = load_plan(GRAPH_PLAN)
    erp, portal = plans_of(definition)
    sent = []

    class Api:
        def data(self, operation, body):
            sent.append(body)
            return {"planId": "p"}

    # When the ERP plan is created
    create_plan(
        Api(),
        erp,
        {w["protectionGroup"]: "g" for w in erp["waves"]},
        "",
    )
    # Then every wave names its dependencies, [] included
    waves = sent[-1]["waves"]
    graph = {w["waveNumber"]: w["dependsOnWaves"] for w in waves}
    assert graph == FORK_JOIN
    # And the portal runs in the spoke account as its own plan
    groups = {g["key"]: g for g in definition["protectionGroups"]}
    portal_group = groups[portal["waves"][0]["protectionGroup"]]
    assert portal_group["accountId"] == "210987654321"


def test_waiting_and_skipped_waves_never_count_as_started():
    # Given wave 2 waits for approval, then is skipped
    recorder = PhaseRecorder(speed=60)
    server = {"sourceServerId": "s-1", "status": "PENDING"}
    for second, status in enumerate(["WAITING_APPROVAL", "SKIPPED"]):
        recorder.observe(
            {
                "status": "RUNNING",
                "waves": [
                    {"waveNumber": 2, "status": status, "servers": [server]}
                ],
            },
            second,
        )
    # Then the wave has no start and its server no phase
    assert recorder.wave_seen[2] == [None, None]
    assert recorder.segments == {}


def test_the_summary_says_how_much_of_the_makespan_was_paused():
    # Given a drill that was paused 300 simulated seconds
    recorder = PhaseRecorder(speed=100)
    for second, status in enumerate(["RUNNING", "PAUSED", "PAUSED"]):
        recorder.observe({"status": status, "waves": []}, second)
    recorder.close(4)
    # When reported with its graph
    report = build_report(
        {"executionId": "ex-p", "status": "COMPLETED", "waves": []},
        recorder,
        speed=100,
        wall_seconds=4,
        depends={1: []},
    )
    # Then the pause is counted and named next to the makespan
    assert report["graph"]["pausedSeconds"] == 300.0
    assert "the makespan includes 0:05:00 paused" in summary_text(report)
