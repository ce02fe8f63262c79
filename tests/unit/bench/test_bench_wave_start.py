"""Pure parts of the wave start benchmark: which calls are the start's,
and its table rows."""

from bench.wave_start import rows, start_calls


def test_start_calls_end_at_the_last_start_recovery():
    # Given the DRS calls from an execution's start on, polls after it
    operations = [
        "DescribeSourceServers",
        "DescribeJobs",
        "GetLaunchConfiguration",
        "UpdateLaunchConfiguration",
        "StartRecovery",
        "DescribeJobs",
        "DescribeJobLogItems",
    ]
    # When the start's share is taken
    counted = start_calls(operations)
    # Then it stops at StartRecovery, counts one job and the goal
    assert counted["drsCalls"] == 5 and counted["jobs"] == 1
    assert counted["launchConfigCalls"] == 2
    assert counted["byOperation"]["DescribeJobs"] == 1
    assert counted["goal"] == 4 and counted["withinGoal"] is False


def test_start_calls_without_a_start_is_not_a_figure():
    # Given / When an execution that never started a job
    counted = start_calls(["DescribeSourceServers"])
    # Then no figure is made up
    assert counted["drsCalls"] is None and "error" in counted


def test_rows_name_each_start():
    # Given a measured result
    run = start_calls(["DescribeSourceServers", "StartRecovery"])
    run["status"] = "COMPLETED"
    failed = {"drsCalls": None, "error": "no StartRecovery", "status": "X"}
    result = {"servers": 100, "runs": {"first": run, "second": failed}}
    # When rendered
    table = rows(result)
    # Then each start is a row with its figure or its error
    assert table[0][1] == "100 servers, first"
    assert table[0][2].startswith("2 DRS calls (0 launch config, 1 job")
    assert "no StartRecovery" in table[1][2]


def test_start_spans_keep_only_the_calls_inside_wave_starts():
    # Given a DRS call log and a runtime whose invocations make calls
    from bench.counting import DrsCallLog
    from bench.wave_start import StartSpans

    log = DrsCallLog()

    class Runtime:
        def invoke(self, spec, payload):
            log.calls.append((spec, "123456789012", "us-east-1"))

    runtime = Runtime()
    spans = StartSpans(log)
    spans.install(runtime)
    # When a poll, a wave start and another poll are invoked
    runtime.invoke("DescribeJobs", b'{"action": "poll_wave_status"}')
    since = log.mark()
    runtime.invoke("StartRecovery", b'{"action": "start_wave_recovery"}')
    runtime.invoke("DescribeJobs", b"not json")
    # Then only the wave start's call is inside a span
    assert spans.operations(since) == ["StartRecovery"]
    assert spans.operations(since + 1) == []
