"""Client factory: one config, cross-account sessions with ExternalId."""

import boto3
import pytest

from shared import aws_clients, clock

SPOKE = "210987654321"


@pytest.fixture
def assume_calls(mocked_aws):
    """Record every AssumeRole request the factory sends."""
    calls = []

    def capture(params, **_):
        calls.append(dict(params))

    aws_clients._base_session().events.register(
        "before-parameter-build.sts.AssumeRole", capture
    )
    return calls


def spoke_context(**extra):
    context = {
        "accountId": SPOKE,
        "assumeRoleName": "DRSOrchestrationCrossAccountRole",
        "externalId": "ext-123",
        "isCurrentAccount": False,
    }
    context.update(extra)
    return context


def test_client_config_bounds_retries_and_timeouts(mocked_aws):
    # Given a client from the factory
    client = aws_clients.get_client("dynamodb")
    config = client.meta.config
    # Then retries are adaptive and bounded (botocore counts the first
    # call: 5 retries = 6 attempts), timeouts are set
    assert config.retries == {"mode": "adaptive", "total_max_attempts": 6}
    assert config.connect_timeout == 5
    assert config.read_timeout == 60


def test_cross_account_client_assumes_role_with_external_id(assume_calls):
    # Given a spoke account context
    # When a DRS-account client is created for it
    client = aws_clients.create_client_for_account(
        "sts", "us-east-1", spoke_context(), session_name="exec-42"
    )
    # Then the role was assumed with the account's ExternalId
    assert assume_calls == [
        {
            "RoleArn": f"arn:aws:iam::{SPOKE}:role/"
            "DRSOrchestrationCrossAccountRole",
            "RoleSessionName": "exec-42",
            "DurationSeconds": 3600,
            "ExternalId": "ext-123",
        }
    ]
    # And the client really acts in the spoke account
    assert client.get_caller_identity()["Account"] == SPOKE


def test_explicit_role_arn_wins(assume_calls):
    # Given a context carrying a full role ARN
    arn = f"arn:aws:iam::{SPOKE}:role/Custom"
    # When a client is created
    aws_clients.create_drs_client("us-east-1", spoke_context(roleArn=arn))
    # Then that role is assumed
    assert assume_calls[0]["RoleArn"] == arn


def test_session_cached_until_shortly_before_expiry(assume_calls):
    # Given a fixed clock
    now = [clock.epoch_float()]
    clock.set_time_source(lambda: now[0])
    # When two clients are created for the same account
    aws_clients.create_drs_client("us-east-1", spoke_context())
    aws_clients.create_ec2_client("us-west-2", spoke_context())
    # Then the role was assumed once
    assert len(assume_calls) == 1
    # When time passes to within the refresh margin of expiry (moto dates
    # the expiry by the real clock: a minute absorbs a slow machine)
    now[0] += 3600 - aws_clients.REFRESH_MARGIN_SECONDS + 60
    aws_clients.create_drs_client("us-east-1", spoke_context())
    # Then fresh credentials are obtained
    assert len(assume_calls) == 2


def test_session_name_is_sanitized_and_bounded(assume_calls):
    # When the session name has characters STS refuses and is long
    aws_clients.create_drs_client(
        "us-east-1", spoke_context(), session_name="exec id/" + "x" * 80
    )
    # Then a valid name is sent
    name = assume_calls[0]["RoleSessionName"]
    assert name.startswith("exec-id-") and len(name) == 64


@pytest.mark.parametrize(
    "context",
    [None, {}, {"accountId": "123456789012", "isCurrentAccount": True}],
)
def test_local_credentials_without_assume(assume_calls, context):
    # When a client is created for the current account or no account
    client = aws_clients.create_drs_client("us-east-1", context)
    # Then no role is assumed
    assert assume_calls == []
    assert client.meta.region_name == "us-east-1"


def test_region_defaults_to_function_region(mocked_aws, monkeypatch):
    # Given the function runs in eu-west-1
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    from shared.config import reset_settings

    reset_settings()
    # Then clients without an explicit region use it
    assert aws_clients.get_client("sts").meta.region_name == "eu-west-1"
    assert isinstance(aws_clients._base_session(), boto3.Session)
