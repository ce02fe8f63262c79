"""A multi-job wave under DRS faults on the local cloud (issue 16): a
chunk whose StartRecovery is throttled, and a cancel while chunks wait
in the execution's queue. What DRS did is read from the simulator.
"""

import uuid
from typing import Any, Dict, List, Optional

from bench.scenarios import REGION, plan_definition
from localcloud.drill.invoker import Invoker
from localcloud.drill.plan_setup import setup_plans

from tests.integration.test_big_waves import (
    LONG,
    RUN_TIMEOUT,
    SHORT,
    _item,
    _launch_jobs,
    _until_ended,
)
from tests.integration import test_big_waves

# The fixtures of the big-wave tests, shared by name.
big_cloud = test_big_waves.big_cloud
servers_per_job = test_big_waves.servers_per_job

# Attempts per call of the functions' DRS client (shared.aws_clients:
# max_attempts 5 are retries after the first): the engine sees a
# throttle only once every attempt of a call was refused.
ATTEMPTS = 6


def _start_drill(cloud) -> tuple:
    """Create the one-wave plan by tags and start a DRILL; the invoker
    and the execution id."""
    api = Invoker(cloud.client("lambda"), caller="test_chunk_faults")
    definition = plan_definition(f"chunks-{uuid.uuid4().hex[:6]}", 1)
    setup = setup_plans(api, definition, cloud.scenario, "")[0]
    started = api.execution(
        "execute_recovery_plan",
        {"planId": setup.plan_id, "executionType": "DRILL"},
    )
    return api, started["executionId"]


def _throttles(calls: List[int]) -> List[Dict[str, Any]]:
    return [
        {
            "type": "throttle",
            "operation": "StartRecovery",
            "nth": n,
            "retry_after_seconds": 1,
        }
        for n in calls
    ]


def test_a_throttled_chunk_is_deferred_starts_once_and_completes(
    big_cloud, servers_per_job, wait_until
):
    # Given 30 servers in 3 jobs of 10, and the last chunk's StartRecovery
    # throttled through every attempt of one call: the engine defers it
    # (each attempt is a throttle DRS answered; the client's backoff
    # between them makes this test take 15-30 s)
    third = 3
    refused = list(range(third, third + ATTEMPTS))
    cloud = big_cloud(30, SHORT, _throttles(refused))
    servers_per_job(10)
    # When a one-wave drill of the tier runs
    _, execution_id = _start_drill(cloud)
    record = _until_ended(cloud, execution_id, wait_until)
    # Then the wave completed in exactly the 3 jobs it planned: the
    # throttled chunk was deferred, not failed, and never started twice
    assert record["status"] == "COMPLETED", record.get("error")
    (wave,) = record["waves"]
    assert len(wave["jobs"]) == 3
    assert {j["status"] for j in wave["jobs"]} == {"STARTED"}
    jobs = _launch_jobs(cloud)
    assert len(jobs) == 3
    launched = {
        sid: s.launch_status for j in jobs for sid, s in j.servers.items()
    }
    assert len(launched) == 30 and set(launched.values()) == {"LAUNCHED"}
    # And DRS saw every refused attempt and one accepted call per job
    starts = cloud.simulator.call_count("StartRecovery")
    assert starts == 3 + len(refused)
    # And the throttled chunk was started by two calls of the engine
    last = max(wave["jobs"], key=lambda j: j["offset"])
    assert int(last.get("attempts") or 0) == 2


def test_cancel_while_chunks_are_queued_starts_none_of_them(
    big_cloud, servers_per_job, wait_until
):
    # Given 22 servers in 22 jobs of 1 and long launches, so 2 chunks
    # wait behind DRS's quota of 20 active jobs (few servers: each poll
    # of the wave is quick)
    cloud = big_cloud(22, LONG)
    servers_per_job(1)
    api, execution_id = _start_drill(cloud)

    def queued() -> Optional[List[Dict[str, Any]]]:
        waves = _item(cloud, execution_id).get("waves") or []
        chunks = [j for w in waves for j in w.get("jobs") or []]
        waiting = [j for j in chunks if j.get("status") == "QUEUED"]
        started = [j for j in chunks if j.get("status") == "STARTED"]
        return waiting if waiting and len(started) == 20 else None

    waiting = wait_until(
        queued, timeout=RUN_TIMEOUT, message="chunks queued behind quota"
    )
    assert len(waiting) == 2
    # When the drill is cancelled while they wait
    api.execution("cancel_execution", {"executionId": execution_id})
    record = _until_ended(cloud, execution_id, wait_until)
    # Then it ended CANCELLED and DRS never got a 21st LAUNCH job
    assert record["status"] == "CANCELLED"
    assert len(_launch_jobs(cloud)) == 20
    (wave,) = record["waves"]
    statuses = [j["status"] for j in wave["jobs"]]
    assert statuses.count("STARTED") == 20
    assert statuses.count("QUEUED") == 0
    # And no recovery instance of the drill is left once cleanup ends
    state = cloud.simulator.regions[(cloud.hub_account, REGION)]
    wait_until(
        lambda: not state.recovery_instances,
        timeout=RUN_TIMEOUT,
        message="every launched recovery instance terminated",
    )
    assert len(_launch_jobs(cloud)) == 20
