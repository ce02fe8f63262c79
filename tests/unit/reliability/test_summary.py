"""The reliability run's summary writer and its goals."""

import json

from reliability import summary


def _cases(passed, failed):
    return [{"passed": True}] * passed + [{"passed": False}] * failed


def test_summary_has_exactly_the_six_figures(tmp_path):
    # Given the cases of each part
    rbac = [
        {
            "passed": True,
            "operation": "op",
            "identity": "DRSReadOnly",
            "method": "GET",
            "path": "/x",
            "expected": "allowed",
            "status": 200,
        }
    ]
    fuzz = {"cases": 2100, "serverErrors": 2, "failures": []}
    faults = [
        {"name": "a", "passed": True},
        {"name": "b", "passed": False, "failures": ["status FAILED"]},
    ]
    # When the outputs are written
    figures = summary.write_outputs(tmp_path, rbac, fuzz, faults, {"x": 1.0})
    # Then summary.json holds the six figures of issue 15, counted
    written = json.loads((tmp_path / "summary.json").read_text())
    assert (
        written
        == figures
        == {
            "faultCases": 2,
            "faultPassed": 1,
            "fuzzCases": 2100,
            "fuzzServerErrors": 2,
            "rbacCases": 1,
            "rbacPassed": 1,
        }
    )
    assert tuple(written) == summary.SUMMARY_KEYS
    # And the report names the failing fault case and its reason
    report = (tmp_path / "report.md").read_text()
    assert "| b |" in report and "FAIL: status FAILED" in report
    for name in ("rbac.json", "fuzz.json", "faults.json"):
        assert (tmp_path / name).exists()


def test_a_part_not_run_counts_zero_cases():
    # When nothing ran
    figures = summary.summarize([], None, [])
    # Then every figure is 0
    assert set(figures.values()) == {0}


def test_goals_of_each_part():
    met = {
        "faultCases": 30,
        "faultPassed": 30,
        "fuzzCases": 2000,
        "fuzzServerErrors": 0,
        "rbacCases": 14,
        "rbacPassed": 14,
    }
    # Then the goals hold only at 100 % of >= 30 faults, 0 5xx in
    # >= 2,000 fuzz cases and endpoints x 7 RBAC cases all passed
    assert summary.all_met(met, ("faults", "fuzz", "rbac"), endpoints=2)
    assert not summary.all_met({**met, "faultPassed": 29}, ("faults",))
    assert not summary.all_met({**met, "faultCases": 29}, ("faults",))
    assert not summary.all_met({**met, "fuzzServerErrors": 1}, ("fuzz",))
    assert not summary.all_met({**met, "fuzzCases": 1999}, ("fuzz",))
    assert not summary.all_met(met, ("rbac",), endpoints=3)
    assert not summary.all_met({**met, "rbacPassed": 13}, ("rbac",))
    # And a part that did not run is not judged
    assert summary.all_met({**met, "fuzzCases": 0}, ("rbac",), endpoints=2)
