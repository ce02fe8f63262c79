"""Pure parts of the local-runtime cold start figures: the harmless
request, how an answer is named, the timed pair and its table rows."""

from bench.cold_start import runtime_rows
from bench.first_invoke import outcome, probe_event, timed_pair


def test_probe_event_is_an_unknown_action_or_operation():
    # Given / When / Then orchestration functions get an unknown action,
    # the others an unknown operation
    assert probe_event("dr-orchestration-stepfunction") == {
        "action": "bench_cold_start_probe"
    }
    assert probe_event("query-handler") == {
        "operation": "bench_cold_start_probe"
    }


def test_outcome_names_function_errors_and_status_codes():
    # Given a function error, an error body and a plain answer
    raised = {"FunctionError": "Unhandled", "body": {"errorType": "X"}}
    bare = {"FunctionError": "Unhandled", "body": None}
    refused = {"FunctionError": None, "body": {"statusCode": 400}}
    # When / Then each is named as answered
    assert outcome(raised) == "FunctionError: X"
    assert outcome(bare) == "FunctionError: Unhandled"
    assert outcome(refused) == "statusCode 400"
    assert outcome({"FunctionError": None, "body": [1]}) == "ok"


def test_timed_pair_invokes_twice_and_reports_both():
    # Given an invoke that records its calls
    calls = []

    def invoke(name, event):
        calls.append((name, event))
        return {"FunctionError": None, "body": {"statusCode": 400}}

    # When a pair is timed
    figures = timed_pair(invoke, "fn", {"operation": "x"})
    # Then the function ran twice with the same event, both are reported
    assert calls == [("fn", {"operation": "x"})] * 2
    assert figures["firstOutcome"] == figures["secondOutcome"]
    assert figures["firstOutcome"] == "statusCode 400"
    assert figures["firstMinusSecondMs"] == round(
        figures["firstMs"] - figures["secondMs"], 1
    )


def test_runtime_rows_label_local_runtime_and_errors():
    # Given local runtime figures and a failed measurement
    runtime = {
        "functions": {
            "query-handler": {
                "firstMs": 700.0,
                "secondMs": 6.5,
                "secondOutcome": "statusCode 400",
            }
        }
    }
    # When rendered
    rows = runtime_rows(runtime)
    failed = runtime_rows({"error": "RuntimeError: no port"})
    # Then rows say they are local runtime figures, errors are shown
    assert rows == [
        (
            "cold start",
            "query-handler local runtime",
            "1st invoke 700.0 ms, 2nd 6.5 ms (statusCode 400)",
        )
    ]
    assert failed == [
        ("cold start", "local runtime", "ERROR RuntimeError: no port")
    ]
