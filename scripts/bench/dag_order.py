"""Benchmark dag, ``order``: which ready wave's chunks go first when the
DRS quotas bind (issue 17): the lower ``waveNumber``, or the wave on the
longest chain (critical path first)?

One graph, ERP db -> (report | application -> web), on the shipped
``scripts/scenarios/three-tier.yaml`` hub, as a DRILL with the deployed
functions' ``DRS_MAX_SERVERS_IN_ALL_JOBS`` set to 3 (so the report wave
(2 servers) and the application wave (2 servers) cannot run together,
while the report wave and the web wave (1 server) can). Two layouts of
the same graph, each from a freshly loaded scenario (the same seeded
durations):

- ``numberFirst``: report is wave 2, application wave 3 (the lower
  ``waveNumber`` is off the critical path);
- ``chainFirst``: application is wave 2, report wave 3.

Under a waveNumber-first rule the two layouts are the two orders; under
the critical-path-first rule both take the application first. From the
simulator's LAUNCH jobs (simulated seconds): ``makespanSeconds`` (first
job created -> last job ended), ``criticalPathSeconds`` (the longest
chain of measured wave durations) and each wave's span.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List

import yaml

from .cloud_run import BenchCloud
from .dag import POLL_WALL_SECONDS, SPEED, drill_schedule
from .scenarios import REGION

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scripts/scenarios/three-tier.yaml"
SERVERS_IN_ALL_JOBS = 3
QUOTA_VARIABLE = "DRS_MAX_SERVERS_IN_ALL_JOBS"
GROUPS = {
    "db": ["erp-db-01", "erp-db-02"],
    "report": ["erp-app-03", "erp-web-03"],
    "application": ["erp-app-01", "erp-app-02"],
    "web": ["erp-web-01"],
}
# The graph by role: what each waits for.
NEEDS = {
    "db": [],
    "report": ["db"],
    "application": ["db"],
    "web": ["application"],
}
LAYOUTS = {
    "numberFirst": ["db", "report", "application", "web"],
    "chainFirst": ["db", "application", "report", "web"],
}


def definition(layout: str) -> Dict[str, Any]:
    """The plan of one layout (waves numbered 1..4 in list order)."""
    roles = LAYOUTS[layout]
    number = {role: i for i, role in enumerate(roles, start=1)}
    return {
        "protectionGroups": [
            {
                "key": role,
                "groupName": f"order-{role}",
                "region": REGION,
                "hostnames": hosts,
            }
            for role, hosts in GROUPS.items()
        ],
        "planName": f"dag-order-{layout}",
        "waves": [
            {
                "waveName": role,
                "protectionGroup": role,
                "dependsOnWaves": [number[n] for n in NEEDS[role]],
            }
            for role in roles
        ],
    }


def set_quota(bench: BenchCloud, value: int) -> Dict[str, Dict[str, str]]:
    """Set the quota on every deployed function that reads it; returns
    the environments to restore."""
    lam = bench.cloud.client("lambda")
    saved = {}
    for name in bench.cloud.function_names:
        config = lam.get_function_configuration(FunctionName=name)
        env = dict((config.get("Environment") or {}).get("Variables", {}))
        if QUOTA_VARIABLE in env:
            saved[name] = env
            lam.update_function_configuration(
                FunctionName=name,
                Environment={"Variables": {**env, QUOTA_VARIABLE: str(value)}},
            )
    return saved


def _role_of(layout: str) -> Callable[[int], str]:
    """waveNumber -> its role in ``layout`` (waves numbered 1..4)."""
    roles = LAYOUTS[layout]
    return lambda number: roles[number - 1]


def measure() -> Dict[str, Any]:
    """Both layouts on one bench cloud with the quota binding."""
    scenario = yaml.safe_load(SCENARIO.read_text())
    with BenchCloud(scenario, SPEED, POLL_WALL_SECONDS) as bench:
        set_quota(bench, SERVERS_IN_ALL_JOBS)
        runs = {
            layout: drill_schedule(
                bench, definition(layout), 900, _role_of(layout)
            )
            for layout in LAYOUTS
        }
    number, chain = runs["numberFirst"], runs["chainFirst"]
    return {
        "maxServersInAllJobs": SERVERS_IN_ALL_JOBS,
        "numberFirstMakespanSeconds": number["makespanSeconds"],
        "chainFirstMakespanSeconds": chain["makespanSeconds"],
        "shorter": (
            "chainFirst"
            if chain["makespanSeconds"] < number["makespanSeconds"]
            else "numberFirst"
        ),
        "runs": runs,
        "method": __doc__.strip(),
    }


def rows(result: Dict[str, Any]) -> List[tuple]:
    """Table rows of the order comparison."""
    out = []
    for layout, run in result["runs"].items():
        order = " ".join(
            f"{role}@{w['startSeconds']}-{w['endSeconds']}"
            for role, w in sorted(
                run["waves"].items(), key=lambda i: i[1]["waveNumber"]
            )
        )
        out.append(
            (
                "dag",
                f"order {layout} ({run['status']})",
                f"makespan {run['makespanSeconds']} s sim (servers in all "
                f"jobs {result['maxServersInAllJobs']}); {order}",
            )
        )
    return out


if __name__ == "__main__":  # pragma: no cover - manual run
    import json
    import sys

    json.dump(measure(), sys.stdout, indent=2)
