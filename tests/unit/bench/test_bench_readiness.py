"""The readiness benchmark's table row (the measurement itself runs in
``./scripts/bench.sh --only readiness``)."""

from bench import readiness


def test_row_names_size_median_goal_and_status():
    # Given a measured result
    result = {
        "servers": 1000,
        "waves": 10,
        "medianSeconds": 3.73,
        "goalSeconds": 10.0,
        "statuses": ["READY", "READY", "READY"],
    }
    # When it is rendered
    rows = readiness.rows(result)
    # Then one row says what was measured against the goal
    assert rows == [
        (
            "plan readiness",
            "1000 servers, 10 waves",
            "median 3.73 s (goal 10 s), READY",
        )
    ]
