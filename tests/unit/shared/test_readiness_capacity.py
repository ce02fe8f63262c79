"""The capacity check's quota rules on a synthetic plan (no AWS)."""

from shared.readiness_checks import (
    PlanView,
    check_capacity,
    duration_seconds,
)
from shared.readiness_inventory import Inventory, WaveMembers
from shared.wave_schedule import Quotas

KEY = ("111111111111", "us-east-1")


def view(wave_sizes, running_jobs, recovery_instances=0):
    """A plan of waves of the given sizes in one account/region where
    ``running_jobs`` one-server jobs of other servers run."""
    members = []
    servers = {}
    for number, size in enumerate(wave_sizes, start=1):
        ids = [f"s-{number}-{i}" for i in range(size)]
        servers.update({i: {"sourceServerID": i} for i in ids})
        members.append(WaveMembers(number, "", {}, KEY, ids))
    jobs = [
        {
            "jobID": f"drsjob-{i}",
            "status": "STARTED",
            "participatingServers": [{"sourceServerID": f"s-out-{i}"}],
        }
        for i in range(running_jobs)
    ]
    inventory = Inventory(
        KEY[0], KEY[1], None, servers, jobs, recovery_instances
    )
    return PlanView(members, {KEY: inventory})


def test_a_plan_that_fits_is_ready():
    assert check_capacity(view([100, 50], running_jobs=18))["status"] == (
        "READY"
    )


def test_a_wave_that_would_queue_warns():
    # Given 19 running jobs and a wave of 150 servers (2 jobs)
    result = check_capacity(view([150], running_jobs=19))
    # Then it warns that its chunks would queue
    assert result["status"] == "WARNING"
    assert "150 servers, 2 job(s)" in result["message"]


def test_no_free_job_slot_is_not_ready():
    result = check_capacity(view([5], running_jobs=20))
    assert result["status"] == "NOT_READY"
    assert "20/20 jobs" in result["message"]


def test_recovery_instance_limit_is_not_ready():
    result = check_capacity(view([10], 0, recovery_instances=3995))
    assert result["status"] == "NOT_READY"
    assert "3995 recovery instances plus 10 planned" in result["message"]


def test_lag_durations_parse():
    assert duration_seconds("PT0S") == 0
    assert duration_seconds("PT1M30S") == 90
    assert duration_seconds("P1DT1H") == 90000
    assert duration_seconds("garbage") is None
    assert duration_seconds(None) is None


def test_a_150_server_wave_is_ready_as_two_jobs():
    # Given a wave of 150 servers and nothing running (2 jobs of 75)
    result = check_capacity(view([150], running_jobs=0))
    # Then its size alone refuses nothing
    assert result["status"] == "READY", result


def test_a_plan_that_can_never_run_under_the_quotas_is_not_ready():
    # Given deployment quotas of 300 servers per job but 250 in all jobs
    plan = view([260], running_jobs=0)
    plan.quotas = Quotas(max_servers_per_job=300, max_servers_in_all_jobs=250)
    # When the capacity is checked
    result = check_capacity(plan)
    # Then the wave's single job can never start: NOT_READY, named
    assert result["status"] == "NOT_READY"
    assert "wave 1: a job of 260 servers exceeds 250" in result["message"]
