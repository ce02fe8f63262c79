"""The fault matrix's table and checks (no local cloud here)."""

from types import SimpleNamespace

import pytest

from localcloud.scenario import FAULT_TYPES, drs_operations
from reliability import fault_matrix, fault_ops
from reliability.fault_ops import CaseFailure

CASES = fault_matrix.cases()


def test_at_least_30_uniquely_named_cases():
    names = [c.name for c in CASES]
    assert len(names) >= 30
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("operation", fault_matrix.DRS_CALLS)
def test_every_drs_call_is_throttled_and_failed_once(operation):
    # Given the DRS operations the engine calls
    kinds = {
        spec["type"]
        for case in CASES
        for spec in case.faults
        if spec.get("operation") == operation and spec.get("nth") == 1
    }
    # Then each has a throttling and a 5xx case, and exists in DRS
    assert {"throttle", "internal_error"} <= kinds
    assert operation in drs_operations()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_each_case_builds_a_valid_scenario(case):
    # When a case's scenario is built
    scenario = fault_matrix._scenario(case)
    # Then its faults are the simulator's kinds, on real operations
    for fault in scenario.faults:
        assert fault.type in FAULT_TYPES
        assert fault.operation in (None,) + tuple(drs_operations())
    assert case.expected and set(case.expected) <= set(fault_ops.TERMINAL)


def test_cancel_and_resume_phases_are_covered():
    names = {c.name for c in CASES}
    for name in (
        "cancel-pending",
        "cancel-starting",
        "cancel-polling",
        "cancel-paused",
        "cancel-between-waves",
        "double-resume",
        "stale-task-token",
        "spoke-role-broken",
        "spoke-role-broken-while-paused",
        "cancel-during-slow-start",
    ):
        assert name in names


def _job(job_id, servers, job_type="LAUNCH"):
    return SimpleNamespace(
        job_id=job_id,
        type=job_type,
        servers={
            sid: SimpleNamespace(launch_status=status, recovery_instance_id=ri)
            for sid, (status, ri) in servers.items()
        },
    )


class _Ctx:
    def __init__(self, jobs):
        self.jobs = jobs

    def drs_jobs(self):
        return self.jobs


def _record(status="LAUNCHED", instance="i-1"):
    return {
        "waves": [
            {
                "waveNumber": 1,
                "jobId": "drsjob-1",
                "servers": [
                    {
                        "sourceServerId": "s-1",
                        "status": status,
                        "recoveryInstanceId": instance,
                    }
                ],
            },
            {"waveNumber": 2, "status": "CANCELLED"},
        ]
    }


def test_record_equal_to_drs_passes():
    ctx = _Ctx([_job("drsjob-1", {"s-1": ("LAUNCHED", "i-1")})])
    fault_ops.check_record_matches_drs(ctx, _record())


@pytest.mark.parametrize(
    "jobs, record, message",
    [
        ([], _record(), "jobs"),
        (
            [_job("drsjob-1", {"s-1": ("LAUNCHED", "i-1")})],
            _record(status="PENDING"),
            "record PENDING != DRS LAUNCHED",
        ),
        (
            [_job("drsjob-1", {"s-1": ("LAUNCHED", "i-1")})],
            _record(instance=None),
            "recovery instance",
        ),
        (
            [
                _job("drsjob-1", {"s-1": ("LAUNCHED", "i-1")}),
                _job("drsjob-9", {"s-1": ("TERMINATED", "i-1")}, "TERMINATE"),
            ],
            _record(),
            "terminations",
        ),
    ],
)
def test_record_different_from_drs_fails(jobs, record, message):
    with pytest.raises(CaseFailure, match=message):
        fault_ops.check_record_matches_drs(_Ctx(jobs), record)


def test_aws_error_text_in_the_record_fails():
    fault_ops.check_our_words({"statusReason": "wave 1 failed"})
    with pytest.raises(CaseFailure):
        fault_ops.check_our_words(
            {"waves": [{"error": "An error occurred (ConflictException)"}]}
        )


def test_notifications_twice_or_missing_fail(monkeypatch):
    # Given a case whose plan got these messages
    ctx = SimpleNamespace(notifications=lambda: counts)
    monkeypatch.setattr(fault_ops.time, "sleep", lambda _s: None)
    counts = {"EXECUTION_STARTED": 1, "EXECUTION_COMPLETED": 1}
    # Then each once passes
    fault_ops.check_notifications(ctx, "COMPLETED", {"EXECUTION_STARTED"}, 0)
    # And a duplicate or a missing terminal event fails
    counts = {"EXECUTION_STARTED": 1, "EXECUTION_COMPLETED": 2}
    with pytest.raises(CaseFailure, match="more than once"):
        fault_ops.check_notifications(ctx, "COMPLETED", set(), 0)
    counts = {"EXECUTION_STARTED": 1}
    with pytest.raises(CaseFailure, match="missing"):
        fault_ops.check_notifications(ctx, "CANCELLED", set(), 0)


def test_a_record_that_catches_up_with_drs_passes(monkeypatch):
    # Given a record read before its cleanup recorded the TERMINATE job
    monkeypatch.setattr(fault_ops.time, "sleep", lambda _s: None)
    jobs = [
        _job("drsjob-1", {"s-1": ("LAUNCHED", "i-1")}),
        _job("drsjob-9", {"s-1": ("TERMINATED", "i-1")}, "TERMINATE"),
    ]
    caught_up = dict(_record(), terminations=[{"jobId": "drsjob-9"}])
    ctx = _Ctx(jobs)
    ctx.details = lambda: caught_up
    # Then the record read again is compared, and matches
    assert fault_ops.check_record_settles_to_drs(ctx, _record()) is caught_up


def test_a_record_that_never_matches_fails_at_the_deadline(monkeypatch):
    # Given a record that keeps its servers PENDING while DRS launched
    monkeypatch.setattr(fault_ops.time, "sleep", lambda _s: None)
    ctx = _Ctx([_job("drsjob-1", {"s-1": ("LAUNCHED", "i-1")})])
    ctx.details = lambda: _record(status="PENDING")
    # Then the last difference is the failure
    with pytest.raises(CaseFailure, match="record PENDING != DRS LAUNCHED"):
        fault_ops.check_record_settles_to_drs(
            ctx, _record(status="PENDING"), timeout=0
        )


def _chunked(servers, job_ids, plan=True):
    """A wave run as several DRS jobs, as the API shows it."""
    wave = {
        "waveNumber": 1,
        "jobIds": job_ids,
        "servers": [
            {"sourceServerId": sid, "status": status, "recoveryInstanceId": ri}
            for sid, (status, ri) in servers.items()
        ],
    }
    if plan:
        wave["jobs"] = [{"chunk": n} for n in range(3)]
    return {"waves": [wave]}


CHUNK_JOBS = [
    _job("drsjob-1", {"s-1": ("LAUNCHED", "i-1")}),
    _job("drsjob-2", {"s-2": ("LAUNCHED", "i-2")}),
]


def test_a_wave_of_several_jobs_equal_to_drs_passes():
    # Given a wave whose two chunks ran, a third still queued
    record = _chunked(
        {
            "s-1": ("LAUNCHED", "i-1"),
            "s-2": ("LAUNCHED", "i-2"),
            "s-3": ("PENDING", None),
        },
        ["drsjob-1", "drsjob-2"],
    )
    # Then every job's servers are compared, the queued one never launched
    fault_ops.check_record_matches_drs(_Ctx(CHUNK_JOBS), record)


@pytest.mark.parametrize(
    "servers, job_ids, plan, message",
    [
        (
            {"s-1": ("LAUNCHED", "i-1"), "s-2": ("LAUNCHED", "i-2")},
            ["drsjob-1"],
            True,
            "jobs",
        ),
        (
            {"s-1": ("LAUNCHED", "i-1"), "s-2": ("PENDING", None)},
            ["drsjob-1", "drsjob-2"],
            True,
            "record PENDING != DRS LAUNCHED",
        ),
        (
            {
                "s-1": ("LAUNCHED", "i-1"),
                "s-2": ("LAUNCHED", "i-2"),
                "s-3": ("LAUNCHED", "i-3"),
            },
            ["drsjob-1", "drsjob-2"],
            True,
            "in no DRS job",
        ),
        (
            {
                "s-1": ("LAUNCHED", "i-1"),
                "s-2": ("LAUNCHED", "i-2"),
                "s-3": ("PENDING", None),
            },
            ["drsjob-1", "drsjob-2"],
            False,
            "servers",
        ),
    ],
    ids=["job-missing", "status", "unstarted-launched", "no-chunk-plan"],
)
def test_a_wave_of_several_jobs_different_from_drs_fails(
    servers, job_ids, plan, message
):
    record = _chunked(servers, job_ids, plan)
    with pytest.raises(CaseFailure, match=message):
        fault_ops.check_record_matches_drs(_Ctx(CHUNK_JOBS), record)
