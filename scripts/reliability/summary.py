"""The reliability run's outputs: ``summary.json`` and ``report.md``.

``summary.json`` holds exactly the six figures of issue 15; the detail
of each part is in ``rbac.json``, ``fuzz.json``, ``faults.json`` and the
readable ``report.md`` beside it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional

SUMMARY_KEYS = (
    "faultCases",
    "faultPassed",
    "fuzzCases",
    "fuzzServerErrors",
    "rbacCases",
    "rbacPassed",
)


def summarize(
    rbac: List[Dict[str, Any]],
    fuzz: Optional[Dict[str, Any]],
    faults: List[Dict[str, Any]],
) -> Dict[str, int]:
    """The six figures from each part's case dictionaries (a part that
    did not run counts 0 cases)."""
    fuzz = fuzz or {}
    return {
        "faultCases": len(faults),
        "faultPassed": sum(1 for c in faults if c.get("passed")),
        "fuzzCases": int(fuzz.get("cases", 0)),
        "fuzzServerErrors": int(fuzz.get("serverErrors", 0)),
        "rbacCases": len(rbac),
        "rbacPassed": sum(1 for c in rbac if c.get("passed")),
    }


def _percent(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f} %" if whole else "n/a"


def _rbac_section(cases: List[Dict[str, Any]]) -> List[str]:
    lines = ["## RBAC matrix", ""]
    if not cases:
        return lines + ["Not run.", ""]
    passed = sum(1 for c in cases if c["passed"])
    endpoints = len({c["operation"] for c in cases})
    identities = len({c["identity"] for c in cases})
    lines += [
        f"{endpoints} endpoints × {identities} identities = {len(cases)} "
        f"cases; {passed} as CONTRACTS §6 says "
        f"({_percent(passed, len(cases))}).",
        "",
    ]
    failed = [c for c in cases if not c["passed"]]
    if failed:
        lines += [
            "| identity | endpoint | expected | got |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {c['identity']} | {c['method']} {c['path']} | "
            f"{c['expected']} | {c['status']} {c.get('error') or ''} |"
            for c in failed
        ]
        lines.append("")
    return lines


def _fuzz_section(fuzz: Optional[Dict[str, Any]]) -> List[str]:
    lines = ["## API fuzzing (schemathesis)", ""]
    if not fuzz:
        return lines + ["Not run.", ""]
    lines += [
        f"{fuzz.get('cases', 0)} generated cases over "
        f"{fuzz.get('operations', 0)} operations "
        f"(schemathesis {fuzz.get('version', '?')}, seed "
        f"{fuzz.get('seed')}); server errors (5xx): "
        f"{fuzz.get('serverErrors', 0)}; responses not matching their "
        f"schema: {fuzz.get('schemaMismatches', 0)}; other failed checks: "
        f"{fuzz.get('otherFailures', 0)}.",
        "",
    ]
    for failure in fuzz.get("failures", []):
        lines.append(
            f"- `{failure.get('check')}` {failure.get('operation')}: "
            f"{failure.get('detail', '')}"
        )
    if fuzz.get("failures"):
        lines.append("")
    reproduce = fuzz.get("reproduce") or []
    if reproduce:
        lines += ["Failing requests (as schemathesis printed them):", ""]
        lines += [f"    {line}" for line in reproduce[:50]]
        lines.append("")
    return lines


def _fault_section(cases: List[Dict[str, Any]]) -> List[str]:
    lines = ["## Fault matrix", ""]
    if not cases:
        return lines + ["Not run.", ""]
    passed = sum(1 for c in cases if c["passed"])
    lines += [
        f"{passed} of {len(cases)} cases passed "
        f"({_percent(passed, len(cases))}).",
        "",
        "| case | fault | expected | got | seconds | result |",
        "|---|---|---|---|---|---|",
    ]
    for case in cases:
        result = (
            "pass"
            if case["passed"]
            else "FAIL: " + "; ".join(case.get("failures") or ["?"])
        )
        lines.append(
            f"| {case['name']} | {case.get('fault', '')} | "
            f"{case.get('expected', '')} | {case.get('status', '')} | "
            f"{case.get('seconds', '')} | {result} |"
        )
    lines.append("")
    return lines


def render_report(
    summary: Dict[str, int],
    rbac: List[Dict[str, Any]],
    fuzz: Optional[Dict[str, Any]],
    faults: List[Dict[str, Any]],
    seconds: Dict[str, float],
) -> str:
    """The readable report (Markdown)."""
    lines = [
        "# Reliability report",
        "",
        "Written by `./scripts/reliability.sh` (issue 15). Figures:",
        "",
        "```json",
        json.dumps(summary, indent=2),
        "```",
        "",
        "Wall seconds per part: "
        + ", ".join(f"{k} {v:.0f}" for k, v in seconds.items()),
        "",
    ]
    lines += _fault_section(faults)
    lines += _fuzz_section(fuzz)
    lines += _rbac_section(rbac)
    return "\n".join(lines)


def write_outputs(
    out_dir: Path,
    rbac: List[Dict[str, Any]],
    fuzz: Optional[Dict[str, Any]],
    faults: List[Dict[str, Any]],
    seconds: Dict[str, float],
) -> Dict[str, int]:
    """Write summary.json, report.md and each part's cases; return the
    summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summarize(rbac, fuzz, faults)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    details = {"rbac.json": rbac, "fuzz.json": fuzz, "faults.json": faults}
    for name, value in details.items():
        (out_dir / name).write_text(json.dumps(value, indent=2, default=str))
    (out_dir / "report.md").write_text(
        render_report(summary, rbac, fuzz, faults, seconds)
    )
    return summary


MIN_FAULT_CASES = 30
MIN_FUZZ_CASES = 2000


def all_met(
    figures: Dict[str, int], parts: Any, endpoints: Optional[int] = None
) -> bool:
    """Whether the goals of issue 15 hold for the parts that ran: every
    fault case of at least 30 passed, no 5xx in at least 2,000 fuzz
    cases, the whole RBAC matrix (``endpoints`` × 7) as the contract
    says."""
    met = True
    if "faults" in parts:
        met &= figures["faultCases"] >= MIN_FAULT_CASES
        met &= figures["faultPassed"] == figures["faultCases"]
    if "fuzz" in parts:
        met &= figures["fuzzCases"] >= MIN_FUZZ_CASES
        met &= figures["fuzzServerErrors"] == 0
    if "rbac" in parts:
        if endpoints is not None:
            met &= figures["rbacCases"] == endpoints * 7
        met &= figures["rbacPassed"] == figures["rbacCases"] > 0
    return bool(met)
