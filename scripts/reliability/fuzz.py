"""API fuzzing: schemathesis against the local REST API.

The REST API serves ``docs/openapi.json`` (``GET /openapi.json``) and
takes every request as ``DRSOrchestrationAdmin`` (its default identity,
so nothing is refused for lack of permission and the functions see the
input). schemathesis generates valid and invalid requests (``--mode
all``: its examples, coverage and fuzzing phases) and checks each answer:
no 5xx, a documented status, JSON, the documented schema. Its JSON
report gives the counts.
"""

from __future__ import annotations

import json
import re

# The pinned schemathesis CLI runs as a child process.
import subprocess  # nosec B404
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
# Path ids drawn from records made before the run (probability 0.7),
# else generated: deeper paths than 404s only, and still the 404s.
SEEDED_PATHS = (
    (
        r"^/protection-groups/\{id\}/servers/",
        {"path.id": "groups", "path.serverId": "servers"},
    ),
    (r"^/protection-groups/\{id\}", {"path.id": "groups"}),
    (r"^/recovery-plans/\{id\}", {"path.id": "plans"}),
    (r"^/executions/\{id\}", {"path.id": "executions"}),
    (r"^/accounts/targets/\{id\}", {"path.id": "accounts"}),
)
SEED_PROBABILITY = 0.7
ADMIN = "DRSOrchestrationAdmin"
FUZZ_USER = "fuzz@example.com"


def seed_records(cloud: Any) -> Dict[str, List[str]]:
    """A group, a plan, a finished drill and the spoke account: ids the
    fuzzer may use in paths."""
    from reliability.fault_actions import register_spoke
    from reliability.fault_ops import Ctx

    ctx = Ctx(cloud)
    ctx.make_plan("fuzz-seed", [("Database", False)])
    ctx.start()
    ctx.wait_terminal()
    register_spoke(ctx)
    record = ctx.details()
    return {
        "groups": [w["protectionGroupId"] for w in record["waves"]],
        "servers": ctx.servers("Database"),
        "plans": [ctx.plan_id],
        "executions": [ctx.execution_id],
        "accounts": [ctx.account],
    }


def config_toml(dictionaries: Dict[str, List[str]]) -> str:
    """schemathesis.toml: the seeded ids as dictionaries bound to the
    path parameters of the operations that take them."""
    lines = []
    for name, values in dictionaries.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}"]
    for regex, bindings in SEEDED_PATHS:
        # The first matching entry configures an operation.
        lines += ["[[operations]]", f"include-path-regex = '{regex}'"]
        for parameter, dictionary in bindings.items():
            lines.append(
                f'parameters."{parameter}" = {{ dictionary = '
                f'"{dictionary}", probability = {SEED_PROBABILITY} }}'
            )
    return "\n".join(lines) + "\n"


def command(
    schema_url: str,
    base_url: str,
    examples: int,
    seed: int,
    out: Path,
    config: Optional[Path] = None,
) -> List[str]:
    """The schemathesis command line of one run."""
    head = [str(Path(sys.executable).with_name("schemathesis"))]
    if config is not None:
        head += ["--config-file", str(config)]
    return head + [
        "run",
        schema_url,
        "--url",
        base_url,
        "--checks",
        ",".join(CHECKS),
        "--mode",
        "all",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(examples),
        "--seed",
        str(seed),
        "--workers",
        "2",
        "--continue-on-failure",
        "--suppress-health-check",
        "all",
        "--request-timeout",
        "60",
        "--report",
        "json",
        "--report-json-path",
        str(out),
    ]


SERVER_ERROR = "ST101"
SCHEMA_MISMATCH = "ResponseSchemaConformance"
HEADER = re.compile(r"^_+ (\S+ \S+) _+$")


def parse_report(report: Dict[str, Any]) -> Dict[str, Any]:
    """Counts and failures from schemathesis' JSON run report: one
    failure entry per failure type, with its count and operations."""
    failures = [
        {
            "check": f"{f.get('code')} {f.get('title')}",
            "type": f.get("type"),
            "count": int(f.get("count", 0)),
            "operation": ", ".join(f.get("operations") or []),
        }
        for f in report.get("failures") or []
    ]
    server = sum(
        f["count"] for f in failures if f["check"].startswith(SERVER_ERROR)
    )
    schema = sum(f["count"] for f in failures if f["type"] == SCHEMA_MISMATCH)
    total = sum(f["count"] for f in failures)
    cases = report.get("test_cases") or {}
    return {
        "version": report.get("schemathesis_version"),
        "cases": int(cases.get("generated", 0)),
        "casesWithFailures": int(cases.get("with_failures", 0)),
        "operations": (report.get("operations") or {}).get("tested", 0),
        "serverErrors": server,
        "schemaMismatches": schema,
        "otherFailures": total - server - schema,
        "errors": len(report.get("errors") or []),
        "failures": failures,
        "seconds": round(float(report.get("running_time") or 0), 1),
    }


def reproductions(log_text: str) -> List[str]:
    """``METHOD PATH: curl ...`` of each failure the CLI printed."""
    found, current = [], ""
    for line in log_text.splitlines():
        header = HEADER.match(line.strip())
        if header:
            current = header.group(1)
        elif line.strip().startswith("curl ") and current:
            found.append(f"{current}: {line.strip()}")
    return found


def run_fuzz(
    cloud: Any, out_dir: Path, examples: int, seed: int
) -> Dict[str, Any]:
    """Serve the REST API as an admin and run schemathesis against it."""
    from localcloud.rest_api import serve_for

    cloud.reset()
    config = out_dir / "schemathesis.toml"
    out_dir.mkdir(parents=True, exist_ok=True)
    config.write_text(config_toml(seed_records(cloud)))
    api = serve_for(cloud, default_groups=[ADMIN], default_user=FUZZ_USER)
    report_path = out_dir / "schemathesis-report.json"
    try:
        cmd = command(
            api.url + "/openapi.json",
            api.url,
            examples,
            seed,
            report_path,
            config,
        )
        log = out_dir / "schemathesis.log"
        with log.open("w") as stream:
            finished = subprocess.run(  # nosec B603
                cmd, stdout=stream, stderr=subprocess.STDOUT, check=False
            )
    finally:
        api.stop()
        cloud.api_url = None
    report = json.loads(report_path.read_text())
    result = parse_report(report)
    result["exitCode"] = finished.returncode
    result["reproduce"] = reproductions(log.read_text())[:200]
    result["seed"] = seed
    return result
