"""Fault actions that need no local cloud: a case's leftover execution is
cancelled, and a deferred start must be visible on the record."""

from types import SimpleNamespace

from reliability import fault_actions


class _Ctx:
    def __init__(self, records, calls=0):
        self.execution_id = "e-1"
        self.notes = []
        self.problems = []
        self.records = list(records)
        self.controls = []
        self.cloud = SimpleNamespace(
            simulator=SimpleNamespace(call_count=lambda _op: calls)
        )

    def details(self):
        return (
            self.records.pop(0) if len(self.records) > 1 else self.records[0]
        )

    def control(self, operation):
        self.controls.append(operation)
        return {"status": "CANCELLING"}

    def wait_terminal(self, timeout):
        return {"status": "CANCELLED"}


def test_an_ended_execution_is_left_alone():
    ctx = _Ctx([{"status": "COMPLETED"}])
    assert fault_actions.abandon(ctx) == "COMPLETED"
    assert ctx.controls == []


def test_an_active_execution_is_cancelled_before_the_next_case():
    # Given a case that failed while its execution still runs
    ctx = _Ctx([{"status": "RUNNING"}])
    # When the case is cleaned up
    status = fault_actions.abandon(ctx)
    # Then the execution was cancelled and ended
    assert (ctx.controls, status) == (["cancel_execution"], "CANCELLED")
    assert "abandoned while RUNNING" in ctx.notes[0]


# The first StartRecovery of the deferred chunk's retry (a call makes
# CLIENT_ATTEMPTS attempts: botocore's max_attempts 5 is 5 retries).
RETRIED = fault_actions.CLIENT_ATTEMPTS + 1


def test_one_call_makes_six_attempts():
    from shared.aws_clients import BOTO_CONFIG

    # botocore rewrites the shared Config's max_attempts (retries) as
    # total_max_attempts once a client is made from it in this process.
    retries = BOTO_CONFIG.retries
    total = retries.get("total_max_attempts") or retries["max_attempts"] + 1
    assert fault_actions.CLIENT_ATTEMPTS == total == 6


def _deferred(reason):
    wave = {"status": "QUEUED", "jobs": [{"status": "QUEUED"}]}
    return {"status": "RUNNING", "statusReason": reason, "waves": [wave]}


def test_a_deferred_start_the_record_explains_is_no_problem():
    ctx = _Ctx(
        [_deferred("wave 1: DRS throttled the start; retrying")], RETRIED
    )
    fault_actions.cancel_while_start_deferred(ctx)
    assert ctx.controls == ["cancel_execution"]
    assert ctx.problems == []


def test_a_silent_deferred_start_is_a_problem_but_still_cancelled():
    ctx = _Ctx([_deferred(None)], RETRIED)
    fault_actions.cancel_while_start_deferred(ctx)
    assert ctx.controls == ["cancel_execution"]
    assert "does not say why it waits" in ctx.problems[0]
