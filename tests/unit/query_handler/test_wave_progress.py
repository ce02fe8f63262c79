"""What DescribeJobs alone says of a wave (``wave_progress``): pure."""

from wave_progress import assess_from_drs

NOW = 1_800_000_000.0


def _chunk(number, count, status="STARTED", job=None, **extra):
    entry = {"chunk": number, "offset": 0, "count": count, "status": status}
    if job:
        entry["jobId"] = job
    entry.update(extra)
    return entry


def _job(job_id, status, *servers):
    return {
        "jobID": job_id,
        "status": status,
        "participatingServers": [
            {"sourceServerID": sid, "launchStatus": launch}
            for sid, launch in servers
        ],
    }


def test_every_planned_server_launched_is_complete():
    # Given two started chunks whose jobs launched all their servers
    jobs = [_chunk(0, 2, job="j-1"), _chunk(1, 1, job="j-2")]
    described = {
        "j-1": _job(
            "j-1", "COMPLETED", ("s-1", "LAUNCHED"), ("s-2", "LAUNCHED")
        ),
        "j-2": _job("j-2", "COMPLETED", ("s-3", "LAUNCHED")),
    }
    # When assessed from DRS alone
    found = assess_from_drs(jobs, described, NOW)
    # Then the wave is complete, nothing running
    assert found.complete and not found.running and not found.broken
    assert found.total == 3


def test_a_queued_chunk_keeps_the_wave_open_and_is_startable():
    # Given one job done and a chunk waiting for capacity
    jobs = [_chunk(0, 2, job="j-1"), _chunk(1, 2, status="QUEUED")]
    described = {
        "j-1": _job(
            "j-1", "COMPLETED", ("s-1", "LAUNCHED"), ("s-2", "LAUNCHED")
        ),
    }
    found = assess_from_drs(jobs, described, NOW)
    # Then not complete (4 planned, 2 launched); the chunk may start
    assert not found.complete and found.total == 4
    assert found.startable == [1]


def test_a_deferred_chunk_is_not_startable_before_its_time():
    jobs = [
        _chunk(0, 1, job="j-1"),
        _chunk(1, 1, status="QUEUED", notBefore=NOW + 60),
    ]
    described = {"j-1": _job("j-1", "STARTED", ("s-1", "IN_PROGRESS"))}
    found = assess_from_drs(jobs, described, NOW)
    assert found.startable == [] and found.queued == [1]
    assert found.active_jobs == ["j-1"]


def test_a_failed_server_breaks_the_wave_while_jobs_run():
    jobs = [_chunk(0, 2, job="j-1")]
    described = {
        "j-1": _job(
            "j-1", "STARTED", ("s-1", "FAILED"), ("s-2", "IN_PROGRESS")
        )
    }
    found = assess_from_drs(jobs, described, NOW)
    assert found.broken and found.running and not found.complete
    assert [s["sourceServerId"] for s in found.failed] == ["s-1"]


def test_a_wave_without_chunk_counts_is_never_complete_here():
    # Given a wave recorded before job packing (no planned count known)
    jobs = [
        {
            "chunk": 0,
            "offset": 0,
            "count": 0,
            "status": "STARTED",
            "jobId": "j-1",
        }
    ]
    described = {"j-1": _job("j-1", "COMPLETED", ("s-1", "LAUNCHED"))}
    # Then DRS alone does not complete it (the records decide)
    assert not assess_from_drs(jobs, described, NOW).complete
