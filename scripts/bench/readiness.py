"""Benchmark: plan readiness (``get_plan_readiness`` of the packaged
query-handler) of a 1,000-server plan on the local cloud — 10 waves of
100 tag-selected servers, each group with a subnet, a security group of
its VPC and an instance type. Goal (issue 19): at most 10 s."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from typing import Any, Dict, List

from localcloud.drill.invoker import Invoker
from localcloud.drill.plan_setup import setup_plans
from localcloud.scenario import scenario_from_dict

from .cloud_run import BenchCloud
from .scenarios import plan_definition, scenario_dict

WAVES = 10
PER_WAVE = 100
REPEAT = 3
GOAL_SECONDS = 10.0


def _launch_config(cloud: Any) -> Dict[str, Any]:
    """The bench network's subnet, a security group of its VPC."""
    ec2 = cloud.client("ec2")
    subnet = next(
        s
        for s in ec2.describe_subnets()["Subnets"]
        if s["CidrBlock"] == "10.50.0.0/16"
    )
    group = next(
        g
        for g in ec2.describe_security_groups()["SecurityGroups"]
        if g.get("VpcId") == subnet["VpcId"]
    )
    return {
        "subnetId": subnet["SubnetId"],
        "securityGroupIds": [group["GroupId"]],
        "instanceType": "t3.medium",
    }


def measure() -> Dict[str, Any]:
    """Wall seconds of each readiness call (median of 3), its status and
    the DRS calls of one call."""
    scenario = scenario_dict([PER_WAVE] * WAVES)
    with BenchCloud(scenario, speed=60.0, poll_interval=1) as bench:
        cloud = bench.cloud
        api = Invoker(cloud.client("lambda"))
        definition = plan_definition("readiness-bench", WAVES)
        config = _launch_config(cloud)
        for group in definition["protectionGroups"]:
            group["launchConfig"] = dict(config)
        setup = setup_plans(
            api, definition, scenario_from_dict(scenario), "-bench"
        )[0]
        walls: List[float] = []
        statuses: List[str] = []
        calls: Dict[str, int] = {}
        for _ in range(REPEAT):
            mark = bench.drs_calls.mark()
            began = time.perf_counter()
            report = api.query("get_plan_readiness", {"planId": setup.plan_id})
            walls.append(time.perf_counter() - began)
            statuses.append(report["status"])
            calls = dict(Counter(bench.drs_calls.operations(mark)))
    median = statistics.median(walls)
    return {
        "servers": WAVES * PER_WAVE,
        "waves": WAVES,
        "wallSeconds": [round(w, 2) for w in walls],
        "medianSeconds": round(median, 2),
        "goalSeconds": GOAL_SECONDS,
        "withinGoal": median <= GOAL_SECONDS,
        "statuses": statuses,
        "drsCallsPerEvaluation": calls,
    }


def rows(result: Dict[str, Any]) -> List[tuple]:
    """Table rows of this benchmark."""
    return [
        (
            "plan readiness",
            f"{result['servers']} servers, {result['waves']} waves",
            f"median {result['medianSeconds']} s (goal "
            f"{result['goalSeconds']:g} s), {result['statuses'][-1]}",
        )
    ]
