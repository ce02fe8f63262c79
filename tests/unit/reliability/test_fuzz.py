"""Reading schemathesis' report (no schemathesis run here)."""

from pathlib import Path

from reliability import fuzz

REPORT = {
    "schemathesis_version": "4.32.5",
    "running_time": 12.34,
    "operations": {"tested": 48},
    "test_cases": {"generated": 2479, "with_failures": 3},
    "failures": [
        {
            "type": "ServerError",
            "code": "ST101",
            "title": "Server error",
            "count": 2,
            "operations": ["POST /x", "GET /y"],
        },
        {
            "type": "ResponseSchemaConformance",
            "code": "ST102",
            "title": "Response violates schema",
            "count": 1,
            "operations": ["GET /z"],
        },
    ],
    "errors": [],
}


def test_parse_report_counts_cases_and_failures_by_kind():
    # When a JSON run report is read
    result = fuzz.parse_report(REPORT)
    # Then cases, 5xx and schema mismatches are counted apart
    assert result["cases"] == 2479
    assert result["serverErrors"] == 2
    assert result["schemaMismatches"] == 1
    assert result["otherFailures"] == 0
    assert result["operations"] == 48


def test_reproductions_pair_each_curl_with_its_operation():
    log = (
        "______ POST /x ______\n"
        "1. Server error\n"
        "    curl -X POST -d '{}' http://h/x\n"
        "______ GET /y ______\n"
        "    curl -X GET http://h/y\n"
    )
    assert fuzz.reproductions(log) == [
        "POST /x: curl -X POST -d '{}' http://h/x",
        "GET /y: curl -X GET http://h/y",
    ]


def test_command_runs_the_pinned_cli_with_the_checks(tmp_path):
    argv = fuzz.command("http://h/openapi.json", "http://h", 5, 7, tmp_path)
    assert Path(argv[0]).name == "schemathesis"
    assert argv[argv.index("--checks") + 1] == ",".join(fuzz.CHECKS)
    assert "not_a_server_error" in fuzz.CHECKS
    assert argv[argv.index("--seed") + 1] == "7"


def test_config_binds_seeded_ids_to_path_parameters():
    import tomllib

    # Given ids of seeded records
    ids = {
        "groups": ["g-1"],
        "servers": ["s-1"],
        "plans": ["p-1"],
        "executions": ["e-1"],
        "accounts": ["210987654321"],
    }
    # When the schemathesis config is written
    config = tomllib.loads(fuzz.config_toml(ids))
    # Then every binding names a defined dictionary, with a probability
    # below 1 (generated ids are still sent)
    assert config["dictionaries"]["groups"]["values"] == ["g-1"]
    bound = set()
    for entry in config["operations"]:
        for name, binding in entry["parameters"].items():
            assert binding["dictionary"] in config["dictionaries"]
            assert 0 < binding["probability"] < 1
            bound.add((entry["include-path-regex"], name))
    assert len(bound) == 6
    # And the server path, listed first, binds both of its parameters
    first = config["operations"][0]
    assert set(first["parameters"]) == {"path.id", "path.serverId"}
