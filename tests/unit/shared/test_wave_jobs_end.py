"""A cancelled wave's chunk entries (``shared.wave_jobs``)."""

from shared.wave_jobs import plan_jobs, without_queued


def test_a_cancelled_wave_shows_no_chunk_waiting_to_start():
    # Given a wave of 25 chunks: 20 started, 1 starting, 4 queued
    jobs = plan_jobs(250, 10)
    for job in jobs[:20]:
        job.update(status="STARTED", jobId=f"drsjob-{job['chunk']}")
    jobs[20]["status"] = "STARTING"
    # When the wave ends cancelled
    ended = without_queued(jobs)
    # Then the queued chunks are SKIPPED; the others keep their status
    statuses = [j["status"] for j in ended]
    assert statuses == ["STARTED"] * 20 + ["STARTING"] + ["SKIPPED"] * 4
    assert [j.get("jobId") for j in ended[:20]] == [
        f"drsjob-{n}" for n in range(20)
    ]
    # And the entries given are left as they were
    assert [j["status"] for j in jobs[21:]] == ["QUEUED"] * 4
