"""Pure parts of the benchmarks (no benchmark runs here): wave gaps,
DynamoDB item size, payload sizes, call counting, scenarios, output."""

import json
from types import SimpleNamespace

from bench.counting import (
    DrsCallLog,
    InvocationCounter,
    delta,
    per_cycle,
    split_by_marker,
    split_waves,
)
from bench.results import (
    item_size,
    payload_sizes,
    render_table,
    wave_gaps,
    write_results,
)
from bench.big_waves import size_label, size_rows
from bench.scenarios import HUB, REGION, plan_definition, scenario_dict
from localcloud.drs.testing import simulated_drs
from localcloud.drill.plan_setup import check_plan
from localcloud.scenario import scenario_from_dict


def test_wave_gaps_between_waves_and_to_end():
    # Given three waves and an end time (simulated seconds)
    waves = [
        {"startRecovery": 0, "lastLaunched": 100},
        {"startRecovery": 130, "lastLaunched": 250},
        {"startRecovery": 260, "lastLaunched": 400},
    ]
    # When the gaps are computed
    gaps = wave_gaps(waves, end=445.04)
    # Then each gap is next start - last launch, and end - last launch
    assert gaps == {
        "betweenWaves": [30, 10],
        "meanBetweenWaves": 20,
        "toEnd": 45.0,
    }


def test_wave_gaps_unknown_launch_and_end():
    # Given a wave that never launched and no end time
    waves = [
        {"startRecovery": 0, "lastLaunched": None},
        {"startRecovery": 50, "lastLaunched": None},
    ]
    # When / Then nothing is invented
    assert wave_gaps(waves, end=None) == {
        "betweenWaves": [None],
        "meanBetweenWaves": None,
        "toEnd": None,
    }


def test_item_size_follows_dynamodb_rules():
    # Given an item with a string, a number, a bool, a list and a map
    item = {
        "id": {"S": "abc"},  # 2 + 3
        "n": {"N": "12345"},  # 1 + (5 + 1) // 2 + 1 = 5
        "ok": {"BOOL": True},  # 2 + 1
        "l": {"L": [{"S": "x"}, {"N": "1"}]},  # 1 + 3 + (1+1) + (2+1)
        "m": {"M": {"k": {"S": "vv"}}},  # 1 + 3 + (1 + 2 + 1)
    }
    # When its size is computed
    # Then it matches the documented arithmetic
    assert item_size(item) == 5 + 5 + 3 + 9 + 8


def test_payload_sizes_picks_largest_input_or_output():
    # Given history events with inputs and outputs of different sizes
    events = [
        {
            "type": "ExecutionStarted",
            "executionStartedEventDetails": {"input": "{}"},
        },
        {
            "type": "TaskStateExited",
            "stateExitedEventDetails": {
                "name": "Poll",
                "output": json.dumps({"a": "é" * 10}),
            },
        },
        {
            "type": "TaskStateEntered",
            "stateEnteredEventDetails": {"name": "Start", "input": '{"b": 1}'},
        },
        {
            "type": "TaskSucceeded",
            "taskSucceededEventDetails": {"output": json.dumps({"c": "x"})},
        },
    ]
    # When the largest payload is found
    best = payload_sizes(events)
    # Then it is the UTF-8 byte size of the Poll output
    assert best == {
        "bytes": len(json.dumps({"a": "é" * 10}).encode()),
        "event": "TaskStateExited",
        "state": "Poll",
    }
    # And a nameless task event belongs to the last state entered
    events[1]["stateExitedEventDetails"]["output"] = "{}"
    assert payload_sizes(events) == {
        "bytes": len(json.dumps({"c": "x"})),
        "event": "TaskSucceeded",
        "state": "Start",
    }


def test_split_by_marker_segments_setup_and_waves():
    # Given DRS calls of a two-wave execution
    ops = [
        "DescribeSourceServers",
        "StartRecovery",
        "DescribeJobs",
        "DescribeJobs",
        "DescribeSourceServers",
        "StartRecovery",
        "DescribeJobs",
    ]
    # When split at each StartRecovery
    setup, first, second = split_by_marker(ops)
    # Then setup precedes the first start; each wave owns its start
    assert setup == {"DescribeSourceServers": 1}
    assert first == {
        "DescribeJobs": 2,
        "DescribeSourceServers": 1,
        "StartRecovery": 1,
    }
    assert second == {"DescribeJobs": 1, "StartRecovery": 1}


def test_split_waves_moves_next_wave_discovery_to_that_wave():
    # Given a limit check, wave 1's discovery, its start and polls, then
    # wave 2's discovery and start
    ops = [
        "DescribeJobs",
        "DescribeSourceServers",
        "GetLaunchConfiguration",
        "StartRecovery",
        "DescribeJobs",
        "DescribeJobLogItems",
        "DescribeSourceServers",
        "GetLaunchConfiguration",
        "GetLaunchConfiguration",
        "StartRecovery",
        "DescribeJobs",
    ]
    # When attributed to waves
    setup, first, second = split_waves(
        ops, ["DescribeJobs", "DescribeJobLogItems"]
    )
    # Then each wave holds its own discovery, start and polls
    assert setup == {"DescribeJobs": 1}
    assert first == {
        "DescribeJobLogItems": 1,
        "DescribeJobs": 1,
        "DescribeSourceServers": 1,
        "GetLaunchConfiguration": 1,
        "StartRecovery": 1,
    }
    assert second == {
        "DescribeJobs": 1,
        "DescribeSourceServers": 1,
        "GetLaunchConfiguration": 2,
        "StartRecovery": 1,
    }


def test_per_cycle_and_delta():
    # Given counts of a wave with 4 poll cycles
    counts = {"DescribeJobs": 4, "DescribeJobLogItems": 8, "StartRecovery": 1}
    # When divided per cycle excluding the start
    # Then each operation and the total are per cycle
    assert per_cycle(counts, 4, exclude=["StartRecovery"]) == {
        "DescribeJobLogItems": 2.0,
        "DescribeJobs": 1.0,
        "total": 3.0,
    }
    assert per_cycle(counts, 0) == {}
    assert delta({"a": 3, "b": 1}, {"a": 1, "b": 1, "c": 2}) == {
        "a": 2,
        "c": -2,
    }


def test_counters_wrap_instances_and_still_call_through():
    # Given a runtime and a simulator (plain objects with the methods)
    calls = []
    runtime = SimpleNamespace(
        invoke=lambda spec, payload: calls.append(("sync", spec.name)),
        invoke_async=lambda spec, payload: calls.append(("event", spec.name)),
    )
    simulator = SimpleNamespace(
        handle=lambda op, params, account, region: {"op": op}
    )
    invocations, drs = InvocationCounter(), DrsCallLog()
    invocations.install(runtime)
    drs.install(simulator)
    # When they are used
    spec = SimpleNamespace(name="fn")
    runtime.invoke(spec, b"{}")
    runtime.invoke_async(spec, b"{}")
    mark = drs.mark()
    answer = simulator.handle("DescribeJobs", {}, "1", "us-east-1")
    simulator.handle(
        "DescribeSourceServers", {"maxResults": 200}, "1", "us-east-1"
    )
    # Then the originals ran and every call was counted
    assert calls == [("sync", "fn"), ("event", "fn")]
    assert answer == {"op": "DescribeJobs"}
    assert invocations.snapshot() == {"fn": 2}
    assert drs.operations(mark) == ["DescribeJobs", "DescribeSourceServers"]


def test_generated_scenario_and_plan_are_valid():
    # Given a generated scenario and plan definition
    scenario = scenario_from_dict(scenario_dict([2, 3], extra_untagged=4))
    definition = plan_definition("p", 2)
    # When / Then the loaders accept them with the requested sizes
    servers = scenario.hub.regions[0].source_servers
    assert len(servers) == 9
    assert {s.tags["Tier"] for s in servers} == {"tier01", "tier02", "none"}
    check_plan(definition)
    assert [w["protectionGroup"] for w in definition["waves"]] == [
        "tier01",
        "tier02",
    ]


def test_write_results_and_table(tmp_path):
    # Given a result and table rows
    result = {"benchmarks": {"x": {"value": 1.5}}}
    # When written and rendered
    paths = write_results(result, tmp_path / "bench", "20260101T000000Z")
    table = render_table([("bench", "figure", 1.5), ("b", "list", [1, None])])
    # Then both files hold the JSON and the table is aligned
    for path in paths.values():
        assert json.loads(path.read_text()) == result
    assert paths["run"].name == "20260101T000000Z.json"
    assert paths["latest"].name == "latest.json"
    lines = table.splitlines()
    assert lines[0].split() == ["benchmark", "figure", "value"]
    assert lines[2] == "bench      figure  1.5"
    assert lines[3] == "b          list    1, -"


def test_five_thousand_generated_servers_load_with_own_addresses():
    # Given the 500-per-wave x 10-wave scenario (more than a /20 holds)
    scenario = scenario_from_dict(scenario_dict([500] * 10))
    # When the simulator loads it
    with simulated_drs(scenario) as sim:
        servers = sim.servers(HUB, REGION)
    # Then every server is created with its own private IP
    assert len(servers) == 5000
    assert len({s.private_ip for s in servers}) == 5000


def test_state_size_rows_label_servers_per_wave_and_total():
    # Given a measured plan and a refused one
    result = {
        "50x10": {
            "accepted": True,
            "status": "COMPLETED",
            "largestStepFunctionsPayload": {"bytes": 1200},
            "executionRecordBytes": 3400,
        },
        "500x10": {
            "accepted": False,
            "operation": "create_recovery_plan",
            "status": 400,
            "errorCode": "WAVE_SIZE_LIMIT_EXCEEDED",
        },
    }
    # When rendered / Then per-wave size, waves and total are explicit
    assert size_label("50x10") == "50 srv/wave x 10 waves (500 srv)"
    assert size_rows(result) == [
        (
            "state size",
            "50 srv/wave x 10 waves (500 srv)",
            "COMPLETED: largest SFN payload 1200 B, record 3400 B",
        ),
        (
            "state size",
            "500 srv/wave x 10 waves (5000 srv)",
            "refused by create_recovery_plan: 400 WAVE_SIZE_LIMIT_EXCEEDED",
        ),
    ]


def test_refusal_reports_a_function_failure_as_not_measured(monkeypatch):
    # Given plan creation whose function fails (e.g. times out)
    from bench import big_waves
    from localcloud.drill.invoker import FunctionFailed

    def failing(*args, **kwargs):
        raise FunctionFailed("create_recovery_plan: function error: timed out")

    monkeypatch.setattr(big_waves, "setup_plans", failing)
    bench = SimpleNamespace(
        load=lambda scenario: None,
        api=lambda: None,
        cloud=SimpleNamespace(scenario=None),
    )
    # When the refusal case runs
    entry = big_waves._refusal(bench, 500, 10)
    # Then it is reported as not measured, with the error, not raised
    assert entry["accepted"] is None
    assert "timed out" in entry["functionError"]
    ((_, label, value),) = size_rows({"500x10": entry})
    assert label == "500 srv/wave x 10 waves (5000 srv)"
    assert value.startswith("not measured: create_recovery_plan")
