"""Benchmark dag ``order``'s pure parts: two layouts of one graph (the
wave off the critical path numbered before, or after, the chain)."""

from bench.dag import graph_of
from bench.dag_order import LAYOUTS, definition, rows


def _by_role(layout):
    plan = definition(layout)
    names = [w["waveName"] for w in plan["waves"]]
    return {
        names[n - 1]: sorted(names[d - 1] for d in needs)
        for n, needs in graph_of(plan).items()
    }


def test_both_layouts_are_the_same_graph_numbered_differently():
    # Given the two layouts
    # When their graphs are read by the engine's rule, by role
    number_first, chain_first = (_by_role(k) for k in LAYOUTS)
    # Then they are the same graph: report and application fork after
    # db, web follows application
    assert (
        number_first
        == chain_first
        == {
            "db": [],
            "report": ["db"],
            "application": ["db"],
            "web": ["application"],
        }
    )
    # And only the numbering differs: report is wave 2 in numberFirst
    assert definition("numberFirst")["waves"][1]["waveName"] == "report"
    assert definition("chainFirst")["waves"][1]["waveName"] == "application"


def test_rows_give_each_layouts_makespan_and_wave_spans():
    # Given a result
    run = {
        "status": "COMPLETED",
        "makespanSeconds": 100.0,
        "waves": {
            "db": {"waveNumber": 1, "startSeconds": 0, "endSeconds": 40},
            "web": {"waveNumber": 2, "startSeconds": 50, "endSeconds": 100},
        },
    }
    result = {"maxServersInAllJobs": 3, "runs": {"numberFirst": run}}
    # Then the row names the layout, the makespan and the spans in order
    (row,) = rows(result)
    assert row[1] == "order numberFirst (COMPLETED)"
    assert "makespan 100.0 s sim" in row[2]
    assert row[2].endswith("db@0-40 web@50-100")
