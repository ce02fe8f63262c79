"""Blocks of docs/refactoring-summary.md: the parity tests and the
generic-vs-legacy measurement."""

from __future__ import annotations

import ast
import json
from typing import Any, Callable, Dict, List, Optional, Tuple

from docgen.common import (
    MEASUREMENT,
    ROOT,
    table,
)


# -- refactoring summary -----------------------------------------------
def block_parity_tests() -> str:
    """Test modules using ``tests/wave_parity.py`` and their tests."""
    lines = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        text = path.read_text()
        if "wave_parity" not in text:
            continue
        tree = ast.parse(text)
        tests = [
            n.name
            for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            and n.name.startswith("test_")
        ]
        rel = path.relative_to(ROOT)
        lines.append(f"- `{rel}`: " + ", ".join(f"`{t}`" for t in tests))
    return "\n".join(lines) or "(no test uses tests/wave_parity.py)"


def _measurement() -> Optional[Dict[str, Any]]:
    if not MEASUREMENT.is_file():
        return None
    return json.loads(MEASUREMENT.read_text())


def _calls(per_wave: Dict[str, int]) -> int:
    return sum(per_wave.values())


GVL_ROWS: List[Tuple[str, Callable[[Dict[str, Any]], Any]]] = [
    ("status", lambda r: r["status"]),
    (
        "end to end, simulated s (first StartRecovery -> execution end)",
        lambda r: r["simulatedSeconds"],
    ),
    ("end to end, wall s", lambda r: r["wallSeconds"]),
    (
        "StartRecovery of each wave, simulated s",
        lambda r: ", ".join(str(w["startRecovery"]) for w in r["waves"]),
    ),
    (
        "last server LAUNCHED in each wave, simulated s",
        lambda r: ", ".join(str(w["lastLaunched"]) for w in r["waves"]),
    ),
    (
        "gap last launch -> next wave's StartRecovery, simulated s",
        lambda r: ", ".join(str(g) for g in r["gaps"]["betweenWaves"]),
    ),
    (
        "gap last launch -> execution end, simulated s",
        lambda r: r["gaps"]["toEnd"],
    ),
    (
        "Lambda invocations (total)",
        lambda r: sum(r["lambdaInvocations"].values()),
    ),
    (
        "Lambda invocations per function",
        lambda r: ", ".join(
            f"{k.replace('hrp-drs-tech-adapter-', '').replace('-dev', '')}"
            f" {v}"
            for k, v in sorted(r["lambdaInvocations"].items())
        ),
    ),
    (
        "DRS calls per wave (total per wave)",
        lambda r: ", ".join(str(_calls(w)) for w in r["drsCallsPerWave"]),
    ),
    (
        "DescribeJobs calls per wave (poll cycles)",
        lambda r: ", ".join(
            str(w.get("DescribeJobs", 0)) for w in r["drsCallsPerWave"]
        ),
    ),
    ("DRS calls before wave 1 (setup)", lambda r: _calls(r["drsCallsSetup"])),
]


def block_generic_vs_legacy() -> str:
    """The committed ``generic_vs_legacy`` bench measurement."""
    data = _measurement()
    rel = MEASUREMENT.relative_to(ROOT)
    if data is None:
        return f"(no measurement: `{rel}` is missing)"
    figures = data["benchmarks"]["generic_vs_legacy"]
    if "error" in figures:
        return f"(the committed run failed: {figures['error']})"
    rows = [
        [name, str(pick(figures["generic"])), str(pick(figures["legacy"]))]
        for name, pick in GVL_ROWS
    ]
    rows.append(
        [
            "end-to-end ratio legacy / generic",
            str(figures["endToEndRatioLegacyOverGeneric"]),
            "",
        ]
    )
    host = data.get("host", {})
    load = ", ".join(str(round(v, 1)) for v in host.get("loadAverage", []))
    return (
        f"From `{rel}` (`./scripts/bench.sh --only generic_vs_legacy`, run "
        f"started {data.get('startedAt')}; plan {figures.get('plan')}, "
        f"simulation speed {figures.get('speed')}, poll "
        f"{figures.get('simulatedPollSeconds')} s simulated = "
        f"{figures.get('pollWallSeconds')} wall s; host {host.get('cpus')} "
        f"CPUs, Python {host.get('python')}, load average {load}):\n\n"
        + table(["figure", "generic (dr-orch-sf)", "legacy (orch-sf)"], rows)
    )
