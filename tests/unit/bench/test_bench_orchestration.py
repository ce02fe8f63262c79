"""Pure parts of benchmarks 1 and 2: which runs they ask for (one speed,
different poll intervals), wall-second gaps and their table rows."""

from bench.orchestration import (
    comparison_rows,
    generic_vs_legacy,
    overhead,
    overhead_rows,
)
from bench.results import wall_gaps


def _summary(orch, speed, poll_wall):
    gaps = {"betweenWaves": [40.0, None], "meanBetweenWaves": 40.0}
    gaps["toEnd"] = 10.0
    return {
        "status": "COMPLETED",
        "simulatedSeconds": 300.0 if orch == "generic" else 330.0,
        "gaps": gaps,
        "gapsWallSeconds": wall_gaps(gaps, speed),
        "lambdaInvocations": {"f": 3},
        "drsCallsSetup": {"DescribeJobs": 1},
        "drsCallsPerWave": [{"StartRecovery": 1}],
        "asked": (orch, speed, poll_wall),
    }


def test_wall_gaps_divide_simulated_gaps_by_speed():
    # Given gaps in simulated seconds, one unknown
    gaps = {"betweenWaves": [33.0, None], "meanBetweenWaves": 33.0}
    gaps["toEnd"] = 7.5
    # When converted at speed 5
    wall = wall_gaps(gaps, 5.0)
    # Then each known figure is the wall time, nothing is invented
    assert wall == {
        "betweenWaves": [6.6, None],
        "meanBetweenWaves": 6.6,
        "toEnd": 1.5,
    }


def test_overhead_runs_both_poll_intervals_at_the_same_speed():
    # Given a getter that records what it is asked for
    asked = []

    def get(orch, speed, poll_wall):
        asked.append((orch, speed, poll_wall))
        return _summary(orch, speed, poll_wall)

    # When benchmark 1 runs
    result = overhead(get)
    # Then both runs use one speed and differ only by the poll interval
    assert asked == [("generic", 5.0, 6), ("generic", 5.0, 1)]
    assert result["poll30s"]["simulatedPollSeconds"] == 30.0
    assert result["poll5s"]["simulatedPollSeconds"] == 5.0
    assert result["poll30s"]["pollWallSeconds"] == 6
    assert {result[k]["speed"] for k in ("poll30s", "poll5s")} == {5.0}
    assert "6 wall s = 30 simulated s" in result["timeMapping"]


def test_generic_vs_legacy_reuses_the_overhead_30s_run():
    # Given a getter that records what it is asked for
    asked = []

    def get(orch, speed, poll_wall):
        asked.append((orch, speed, poll_wall))
        return _summary(orch, speed, poll_wall)

    # When benchmark 2 runs
    result = generic_vs_legacy(get)
    # Then generic is exactly benchmark 1's 30 s run, legacy alike
    assert asked == [("generic", 5.0, 6), ("legacy", 5.0, 6)]
    assert result["simulatedPollSeconds"] == 30.0
    assert result["endToEndRatioLegacyOverGeneric"] == 1.1
    assert comparison_rows(result)[-1][2] == 1.1


def test_overhead_rows_show_simulated_and_wall_gaps():
    # Given benchmark 1's figures
    result = overhead(_summary)
    # When rendered as rows
    rows = overhead_rows(result)
    # Then each row names speed and poll interval and both time bases
    assert rows[0][1] == "poll 30 s sim = 6 s wall at speed 5 (COMPLETED)"
    assert rows[1][1] == "poll 5 s sim = 1 s wall at speed 5 (COMPLETED)"
    assert rows[0][2] == (
        "between waves [40, -] s sim ([8, -] s wall), "
        "last launch->end 10.0 s sim (2.0 s wall)"
    )
