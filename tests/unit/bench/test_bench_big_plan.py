"""The big_plan benchmark's lower bound and its 4,000-server estimate
(the measurement itself runs in ``./scripts/bench.sh --only big_plan``)."""

from bench import big_plan

QUOTAS = {
    "maxServersPerJob": 100,
    "maxConcurrentJobs": 20,
    "maxServersInAllJobs": 500,
}


def test_bound_of_ten_jobs_of_100_is_two_rounds_of_500_servers():
    # Given ten jobs of 100 servers lasting 700 s each
    jobs = [(100, 700.0)] * 10
    # When the quotas bound them (500 servers in active jobs)
    bound = big_plan.lower_bound(jobs, QUOTAS)
    # Then no schedule beats two rounds
    assert bound == 1400.0


def test_bound_is_the_longest_job_when_everything_fits():
    # Given three jobs that fit the quotas together
    jobs = [(84, 650.0), (83, 700.0), (83, 690.0)]
    # When bounded / Then the longest job is the bound
    assert big_plan.lower_bound(jobs, QUOTAS) == 700.0


def test_bound_counts_concurrent_jobs_when_jobs_are_small():
    # Given 40 jobs of 5 servers (200 servers: under 500)
    jobs = [(5, 100.0)] * 40
    # When bounded / Then 20 jobs at a time make two rounds
    assert big_plan.lower_bound(jobs, QUOTAS) == 200.0


def test_no_estimate_from_a_run_that_did_not_complete():
    # Given a 1,000-server run that failed at start
    measured = {"status": "FAILED", "maxItemBytes": 21516}
    # When the 4,000-server plan is estimated
    estimate = big_plan.big_plan_estimate(measured)
    # Then it says why it is not run and estimates nothing
    assert estimate["measured"] is False
    assert "estimatedItemBytes" not in estimate


def test_estimate_scales_the_measured_bytes_per_server():
    # Given a completed run whose item was 234,000 bytes
    measured = {"status": "COMPLETED", "maxItemBytes": 234000}
    # When the 4,000-server plan is estimated
    estimate = big_plan.big_plan_estimate(measured)
    # Then four times the item, over DynamoDB's 400 KB
    assert estimate["estimatedItemBytes"] == 936000
    assert estimate["wouldFit"] is False


def test_a_linear_plan_is_bounded_wave_after_wave():
    # Given two waves of the same four 100-server jobs of 100 s
    from datetime import datetime, timedelta
    from types import SimpleNamespace

    start = datetime(2026, 1, 1)

    def job(wave):
        return SimpleNamespace(
            tags={"DRSOrchWave": str(wave)},
            servers=dict.fromkeys(range(100)),
            created=start,
            ended=start + timedelta(seconds=100),
        )

    jobs = [job(w) for w in (1, 2) for _ in range(4)]
    # When bounded / Then each wave's bound, one after the other
    assert big_plan._waves_bound(jobs, QUOTAS) == 200.0


def test_rows_report_the_measured_4000_server_plan():
    result = {
        "servers": 1000,
        "status": "COMPLETED",
        "goalRatio": 1.05,
        "wallSeconds": 100,
        "maxStatePayloadBytes": 1000,
        "maxItemBytes": 20000,
        "drsCallsPerPollCycle": {"total": 9.0},
        "plan4000x10": {
            "servers": 4000,
            "waves": 10,
            "status": "COMPLETED",
            "maxItemBytes": 86000,
            "maxStatePayloadBytes": 5000,
            "dynamodbItemLimitBytes": 409600,
            "wallSeconds": 700,
        },
    }
    (last,) = [r for r in big_plan.rows(result) if "4000" in r[1]]
    assert "item 86000 B" in last[2] and "wall 700 s" in last[2]
