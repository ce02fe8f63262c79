"""A poll that cannot read the wave's DRS job (issue 15, fault matrix
``spoke-role-broken``): refused access fails the execution in our words;
throttling and the network stay transient."""

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

import wave_recovery
import wave_observation
import wave_preparation
from tests.helpers import load_handler
from tests.unit.wave_engine_support import HUB, base_state, wave_engine

ONE_WAVE = [
    {"waveNumber": 1, "waveName": "Databases", "protectionGroupId": "pg-db"}
]
AWS_TEXT = "An error occurred ("


@pytest.fixture
def engine(monkeypatch):
    with wave_engine(monkeypatch) as eng:
        yield eng


def _started(engine):
    engine.add_group("pg-db", sourceServerIds=engine.ids("erp-db"))
    engine.add_record("exec-1", total_waves=1)
    state = wave_recovery.start_wave_recovery(base_state(ONE_WAVE), 0)
    assert state["status"] == "running", state.get("error")
    return state


def _refuse(monkeypatch, error):
    def create_drs_client(region=None, context=None, *args, **kwargs):
        raise error

    monkeypatch.setattr(
        wave_observation, "create_drs_client", create_drs_client
    )


def _client_error(code, operation):
    body = {"Error": {"Code": code, "Message": "secret AWS words"}}
    return ClientError(body, operation)


def _poll(state):
    handler = load_handler("query-handler")
    return handler.lambda_handler(
        {"action": "poll_wave_status", "state": state}, None
    )


def _assert_our_words(*texts):
    for text in texts:
        assert AWS_TEXT not in text and "secret AWS words" not in text


def test_a_role_that_cannot_be_assumed_fails_the_execution(
    engine, monkeypatch
):
    # Given a running wave whose account's role no longer trusts the hub
    state = _started(engine)
    _refuse(monkeypatch, _client_error("AccessDenied", "AssumeRole"))
    # When polled
    result = _poll(state)
    # Then the execution fails at once, naming the account, in our words
    assert result["status"] == "failed" and result["wave_completed"]
    assert result["error_code"] == "ACCOUNT_ACCESS_DENIED"
    assert HUB in result["error"]
    assert "Databases" in result["error"]
    wave = engine.record("exec-1")["waves"][0]
    assert wave["status"] == "FAILED"
    assert wave["errorCode"] == "ACCOUNT_ACCESS_DENIED"
    _assert_our_words(result["error"], result["status_reason"], wave["error"])


def test_drs_denying_describe_jobs_fails_the_execution(engine, monkeypatch):
    # Given DRS in the account denies reading the job
    state = _started(engine)
    _refuse(
        monkeypatch, _client_error("AccessDeniedException", "DescribeJobs")
    )
    # When polled
    result = _poll(state)
    # Then the execution fails with the access code, in our words
    assert result["status"] == "failed"
    assert result["error_code"] == "ACCOUNT_ACCESS_DENIED"
    assert HUB in result["error"]
    _assert_our_words(result["error"], result["status_reason"])


@pytest.mark.parametrize(
    "error",
    [
        _client_error("ThrottlingException", "DescribeJobs"),
        _client_error("InternalServerException", "DescribeJobs"),
        EndpointConnectionError(endpoint_url="https://drs.example"),
    ],
    ids=["throttled", "5xx", "network"],
)
def test_a_transient_error_keeps_polling(engine, monkeypatch, error):
    # Given DRS cannot be read for a passing reason
    state = _started(engine)
    _refuse(monkeypatch, error)
    # When polled
    result = _poll(state)
    # Then the wave keeps running, the wait counted, in our words
    assert result["status"] == "running" and not result["wave_completed"]
    assert result["current_wave_total_wait_time"] == 30
    assert "Databases" in result["status_reason"]
    _assert_our_words(result["status_reason"])
    assert engine.record("exec-1")["status"] == "RUNNING"


def test_a_wave_start_whose_role_is_refused_says_so_in_our_words(
    engine, monkeypatch
):
    # Given the account's role no longer trusts the hub when a wave starts
    engine.add_group("pg-db", sourceServerIds=engine.ids("erp-db"))
    engine.add_record("exec-1", total_waves=1)

    def refused(region=None, context=None, *args, **kwargs):
        raise _client_error("AccessDenied", "AssumeRole")

    monkeypatch.setattr(wave_preparation, "create_drs_client", refused)
    # When the wave starts
    result = wave_recovery.start_wave_recovery(base_state(ONE_WAVE), 0)
    # Then it fails as the poll would, naming the account, in our words
    assert result["status"] == "failed"
    assert result["error_code"] == "ACCOUNT_ACCESS_DENIED"
    assert HUB in result["error"]
    wave = engine.record("exec-1")["waves"][0]
    assert wave["errorCode"] == "ACCOUNT_ACCESS_DENIED"
    _assert_our_words(result["error"], wave["error"])
    # And no DRS job was started
    assert engine.sim.jobs(HUB, "us-east-1") == []
