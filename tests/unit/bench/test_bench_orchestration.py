"""Pure parts of benchmarks 1 and 2: which runs they ask for (one speed,
one poll interval; events, poll, events all dropped), wall-second gaps,
p95 and their table rows."""

from bench.orchestration import (
    comparison_rows,
    generic_vs_legacy,
    overhead,
    overhead_rows,
    p95,
)
from bench.results import wall_gaps


def _summary(orch, speed, poll_wall, variant="events", waves=3):
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
        "asked": (orch, speed, poll_wall, variant, waves),
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


def test_overhead_runs_each_progress_mode_at_one_speed_and_interval():
    # Given a getter that records what it is asked for
    asked = []

    def get(orch, speed, poll_wall, variant, waves):
        asked.append((orch, speed, poll_wall, variant, waves))
        return _summary(orch, speed, poll_wall, variant, waves)

    # When benchmark 1 runs
    result = overhead(get)
    # Then events, poll and events-all-dropped run at one speed and
    # interval, the same plan of 6 waves
    assert asked == [
        ("generic", 5.0, 6, "events", 6),
        ("generic", 5.0, 6, "poll", 6),
        ("generic", 5.0, 6, "eventsDropped", 6),
    ]
    assert result["plan"] == "6 waves x 2 servers"
    for key in ("events", "poll", "eventsDropped"):
        entry = result[key]
        assert entry["simulatedPollSeconds"] == 30.0
        assert entry["pollWallSeconds"] == 6
        assert entry["speed"] == 5.0
        # And each names its gaps in both time bases
        assert entry["betweenWavesSimulatedSeconds"] == [40.0, None]
        assert entry["betweenWavesWallSeconds"] == [8.0, None]
        assert entry["toEndSimulatedSeconds"] == 10.0
        assert entry["toEndWallSeconds"] == 2.0
        assert entry["p95BetweenWavesWallSeconds"] == 8.0
    assert "6 wall s = 30 simulated s" in result["timeMapping"]
    # And the goals are judged from the measured p95s
    assert result["goals"]["eventsMet"] is False
    assert result["goals"]["eventsDroppedGoalWallSeconds"] == 7.0
    assert result["goals"]["eventsDroppedMet"] is False


def test_p95_is_the_nearest_rank_of_the_known_values():
    # Given gap lists with and without unknowns
    # When their p95 is taken
    # Then it is the nearest rank, the largest for fewer than 20 values
    assert p95([0.4, None, 0.9]) == 0.9
    assert p95([float(i) for i in range(1, 21)]) == 19.0
    assert p95([None]) is None
    assert p95([]) is None


def test_generic_vs_legacy_runs_3_waves_at_the_overhead_settings():
    # Given a getter that records what it is asked for
    asked = []

    def get(orch, speed, poll_wall, variant, waves):
        asked.append((orch, speed, poll_wall, variant, waves))
        return _summary(orch, speed, poll_wall, variant, waves)

    # When benchmark 2 runs
    result = generic_vs_legacy(get)
    # Then both functions run 3 waves at the overhead's events settings
    assert asked == [
        ("generic", 5.0, 6, "events", 3),
        ("legacy", 5.0, 6, "events", 3),
    ]
    assert result["simulatedPollSeconds"] == 30.0
    assert result["progressMode"] == "events"
    assert result["endToEndRatioLegacyOverGeneric"] == 1.1
    assert comparison_rows(result)[-1][2] == 1.1


def test_overhead_rows_show_simulated_and_wall_gaps():
    # Given benchmark 1's figures
    result = overhead(_summary)
    # When rendered as rows
    rows = overhead_rows(result)
    # Then each row names the variant, speed, poll interval, both bases
    assert [r[1] for r in rows] == [
        "events: poll 30 s sim = 6 s wall at speed 5 (COMPLETED)",
        "poll: poll 30 s sim = 6 s wall at speed 5 (COMPLETED)",
        "eventsDropped: poll 30 s sim = 6 s wall at speed 5 (COMPLETED)",
    ]
    assert rows[0][2] == (
        "between waves [40, -] s sim ([8, -] s wall, p95 8), "
        "last launch->end 10 s sim (2 s wall)"
    )
