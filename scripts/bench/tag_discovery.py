"""Benchmark 3b: tag discovery (``query_drs_servers_by_tags`` of
``lambda/query-handler/server_discovery.py``) over 1,000 and 4,000 source
servers, in-process against the DRS simulator (``mock_aws`` and its
interception): DRS calls and wall time of one discovery. 10% of the
servers carry the searched tag."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence

from localcloud.drs.testing import simulated_drs
from localcloud.scenario import scenario_from_dict

from .scenarios import REGION, scenario_dict

LAMBDA_DIR = Path(__file__).resolve().parents[2] / "lambda"
SIZES = (1000, 4000)
REPEAT = 3
FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


def _discovery() -> Any:
    for path in (LAMBDA_DIR, LAMBDA_DIR / "query-handler"):
        if str(path) not in sys.path:
            sys.path.append(str(path))
    import server_discovery

    return server_discovery.query_drs_servers_by_tags


def measure(sizes: Sequence[int] = SIZES) -> Dict[str, Any]:
    """Per size: servers found, DRS calls, wall ms (median of 3)."""
    import boto3

    for key, value in FAKE_ENV.items():
        os.environ.setdefault(key, value)
    discover = _discovery()
    results: Dict[str, Any] = {}
    for size in sizes:
        matching = size // 10
        scenario = scenario_from_dict(
            scenario_dict([matching], extra_untagged=size - matching)
        )
        loaded = time.perf_counter()
        with simulated_drs(scenario) as sim:
            load_s = time.perf_counter() - loaded
            drs = boto3.client("drs", region_name=REGION)
            walls: List[float] = []
            calls: List[int] = []
            found: List[str] = []
            for _ in range(REPEAT):
                before = sim.call_count("DescribeSourceServers")
                started = time.perf_counter()
                found = discover(REGION, {"Tier": "tier01"}, drs_client=drs)
                walls.append(time.perf_counter() - started)
                calls.append(sim.call_count("DescribeSourceServers") - before)
        walls.sort()
        results[str(size)] = {
            "sourceServers": size,
            "matched": len(found),
            "describeSourceServersCalls": calls[0],
            "wallMs": round(walls[len(walls) // 2] * 1000, 1),
            "scenarioLoadSeconds": round(load_s, 1),
        }
    return {"repeat": REPEAT, "sizes": results, "method": __doc__.strip()}


def rows(result: Dict[str, Any]) -> List[tuple]:
    """Table rows of this benchmark."""
    return [
        (
            "tag discovery",
            f"{entry['sourceServers']} source servers",
            f"{entry['describeSourceServersCalls']} DescribeSourceServers "
            f"calls, {entry['wallMs']} ms, {entry['matched']} matched",
        )
        for entry in result["sizes"].values()
    ]
