"""A drill that failed because its account's role can no longer be
assumed (issue 15, fault matrix ``spoke-role-broken``): its cleanup
cannot follow the jobs either, so it records at once, in our words, that
the instances were not terminated (not after the settle deadline)."""

from botocore.exceptions import ClientError

from tests.unit.execution_lifecycle.test_drill_cleanup_follow import (
    CLEANUP,
    _ended_while_launching,
)

AWS_TEXT = "An error occurred ("


def _role_refused(monkeypatch):
    import execution_drs

    def create_drs_client(*_args, **_kwargs):
        raise ClientError(
            {"Error": {"Code": "AccessDenied", "Message": "not trusted"}},
            "AssumeRole",
        )

    monkeypatch.setattr(execution_drs, "create_drs_client", create_drs_client)


def test_a_refused_account_records_the_cleanup_error_at_once(lc, monkeypatch):
    # Given a drill that failed while its job launches; the account's
    # role can no longer be assumed
    execution_id, _job_id = _ended_while_launching(lc, "FAILED")
    _role_refused(monkeypatch)
    # When the engine asks for the drill cleanup
    answer = lc.handler(
        {"action": CLEANUP, "execution_id": execution_id}, None
    )
    # Then a worker is queued to try again until the role is restored
    # (or its deadline): a drill never leaves an instance behind
    assert answer["cleanedUp"] is True
    (worker,) = [c for c in lc.async_calls if c["action"] == CLEANUP]
    assert worker["deadline"] > 0
    # And the record says the instances were not terminated, in our words
    record = lc.record(execution_id)
    assert "terminations" not in record
    error = record["drillCleanupError"]
    assert "terminate-instances" in error and AWS_TEXT not in error
    assert "not trusted" not in error
    assert record["status"] == "FAILED"
