"""The fault case of a spoke role broken mid-drill (no local cloud here):
the break denies DRS to sessions assumed before, the operator's way out
(restore, then terminate-instances) and the EC2 side of "no drill
instance left"."""

from types import SimpleNamespace

import pytest

from localcloud.drs.errors import DrsError
from reliability import fault_actions, fault_matrix, fault_ops
from reliability.fault_ops import CaseFailure

SPOKE = "210987654321"
PENDING = (
    "terminating the drill's recovery instances failed: access to account "
    f"{SPOKE} is denied (...): run POST /executions/e-1/terminate-instances"
)


class _Sim:
    def handle(self, operation, params, caller, region):
        return {"operation": operation, "caller": caller}


def test_the_case_expects_our_failure_and_the_operator_action():
    (case,) = [
        c for c in fault_matrix.cases() if c.name == "spoke-role-broken"
    ]
    assert case.expected == ("FAILED",)
    assert case.error_code == "ACCOUNT_ACCESS_DENIED"
    assert case.after is fault_actions.clean_up_after_role_restored


def test_denied_drs_refuses_the_account_until_allowed():
    # Given the simulator with DRS denied in the spoke account
    sim = _Sim()
    fault_actions._deny_drs(sim, SPOKE, "Role")
    # Then the spoke's calls are refused, another account's are served
    with pytest.raises(DrsError) as refused:
        sim.handle("DescribeJobs", {}, SPOKE, "us-east-1")
    assert refused.value.code == "AccessDeniedException"
    assert sim.handle("DescribeJobs", {}, "123456789012", "us-east-1")
    # And once allowed again the spoke is served
    fault_actions.release_drs(sim)
    assert sim.handle("DescribeJobs", {}, SPOKE, "x")["caller"] == SPOKE


class _Ctx:
    """A case whose terminate-instances answers ``answers`` in turn."""

    def __init__(self, answers, record=None):
        self.account = SPOKE
        self.notes = []
        self.answers = list(answers)
        self.calls = 0
        self.record = record or {"drillCleanupError": PENDING}

    def wait(self, predicate, what, timeout=0):
        assert predicate(self.record), what
        return self.record

    def control(self, operation):
        assert operation == "terminate_recovery_instances"
        self.calls += 1
        return self.answers.pop(0)

    def details(self):
        return {"status": "FAILED"}


@pytest.fixture
def quiet(monkeypatch):
    monkeypatch.setattr(fault_actions, "restore_spoke_role", lambda c: None)
    monkeypatch.setattr(fault_actions.time, "sleep", lambda _s: None)


FORBIDDEN = {
    "error": "FORBIDDEN",
    "message": f"access to account {SPOKE} is denied: run "
    "POST /executions/e-1/terminate-instances",
}
LAUNCHING = {"error": "INVALID_STATE", "activeJobs": ["drsjob-1"]}
STARTED = {"terminateJobs": [{"jobId": "drsjob-2"}], "count": 2}


def test_the_operator_retries_while_the_job_launches(quiet):
    # Given a pending cleanup, refused while denied, then a job launching
    ctx = _Ctx([FORBIDDEN, LAUNCHING, LAUNCHING, STARTED])
    # When the case runs the operator's way out
    record = fault_actions.clean_up_after_role_restored(ctx, {})
    # Then terminate-instances ran until it started the termination
    assert ctx.calls == 4
    assert record == {"status": "FAILED"}
    assert "409 (job launching) 2 time(s), then 2 instance(s)" in ctx.notes[-1]


@pytest.mark.parametrize(
    "answers, record, message",
    [
        ([FORBIDDEN], {"drillCleanupError": "failed"}, "does not name"),
        ([STARTED], None, "terminate-instances while denied"),
        ([FORBIDDEN, {"error": "INTERNAL_ERROR"}], None, "INTERNAL_ERROR"),
        ([FORBIDDEN, {"count": 0}], None, "nothing terminated"),
    ],
    ids=["vague-pending", "not-refused", "error", "nothing"],
)
def test_the_way_out_fails_when_a_step_is_wrong(
    quiet, answers, record, message
):
    ctx = _Ctx(answers, record)
    with pytest.raises(CaseFailure, match=message):
        fault_actions.clean_up_after_role_restored(ctx, {})


def test_a_running_ec2_drill_instance_fails_the_case():
    # Given DRS has no recovery instance left but EC2 still runs one
    ctx = SimpleNamespace(
        drill_instances=lambda: [], drill_ec2_running=lambda: ["i-1"]
    )
    # Then "no drill instance left" does not hold
    with pytest.raises(CaseFailure, match="EC2 running"):
        fault_ops.check_no_drill_instance(ctx, timeout=0)
