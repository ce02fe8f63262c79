"""The execution id names the STS session of cross-account calls."""

from shared import aws_clients
from shared.account_context import get_account_context

SPOKE = "210987654321"
EXECUTION_ID = "6f1c2a9e-0b7d-4c1e-9a55-3f2d8e7b1c40"


def _context(**extra):
    context = {
        "accountId": SPOKE,
        "assumeRoleName": "DRSOrchestrationCrossAccountRole",
        "externalId": "ext-1",
        "isCurrentAccount": False,
    }
    context.update(extra)
    return context


def test_the_assumed_role_session_names_the_execution(mocked_aws):
    # Given the state of an execution acting in a spoke account
    state = {"execution_id": EXECUTION_ID, "accountContext": _context()}
    # When a client is created for its account context
    sts = aws_clients.create_client_for_account(
        "sts", "us-east-1", get_account_context(state)
    )
    # Then the assumed-role ARN carries the execution id
    arn = sts.get_caller_identity()["Arn"]
    assert arn.endswith(f"/drs-{EXECUTION_ID}")
    assert ":assumed-role/DRSOrchestrationCrossAccountRole/" in arn


def test_both_spellings_get_the_session_name_and_stay_unchanged():
    # Given a first-input state (camelCase) and a resumed one (snake_case)
    camel = {"execution_id": "ex-1", "accountContext": _context()}
    snake = {"execution_id": "ex-2", "account_context": _context()}
    # When their contexts are read
    # Then each names its execution, and the states are left as they are
    assert get_account_context(camel)["sessionName"] == "drs-ex-1"
    assert get_account_context(snake)["sessionName"] == "drs-ex-2"
    assert "sessionName" not in camel["accountContext"]
    assert "sessionName" not in snake["account_context"]


def test_a_given_session_name_is_kept():
    state = {"execution_id": "ex-1", "accountContext": _context()}
    state["accountContext"]["sessionName"] = "query-handler"
    assert get_account_context(state)["sessionName"] == "query-handler"


def test_the_session_name_is_valid_for_sts():
    # Given an execution id with characters STS refuses, and too long
    state = {"executionId": "ex 1/é" + "x" * 80, "accountContext": _context()}
    # When the context is read
    name = get_account_context(state)["sessionName"]
    # Then the name is bounded and made of allowed characters only
    assert name.startswith("drs-ex-1--")
    assert len(name) == 64
    assert all(c.isascii() and (c.isalnum() or c in "_+=,.@-") for c in name)


def test_the_cancel_check_names_the_execution(monkeypatch):
    # Given a cancelled execution's record with a job in a spoke account
    import execution_drs

    contexts = []

    def client_for(region, context, client=None):
        contexts.append(context)
        return None

    monkeypatch.setattr(execution_drs, "drs_client_for", client_for)
    monkeypatch.setattr(execution_drs, "describe_jobs", lambda *a: [])
    record = {
        "executionId": "ex-5",
        "accountContext": _context(),
        "waves": [{"jobId": "drsjob-1", "region": "us-east-1"}],
    }
    # When its DRS jobs are checked
    assert execution_drs.unsettled_jobs(record) == []
    # Then the account's session names the execution
    assert contexts[0]["sessionName"] == "drs-ex-5"
