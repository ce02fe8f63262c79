"""Fixtures shared by every test.

Unit tests run under moto (no network); integration tests get the local
cloud from ``tests/integration/conftest.py``.
"""

import os

import pytest

from tests import botocore_models
from tests.helpers import (
    REGION,
    TABLE_ENV,
    add_code_paths,
    create_tables,
    reset_shared_caches,
    table_name,
)

add_code_paths()
botocore_models.install()

_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "PROJECT_NAME": "hrp-drs-tech-adapter",
    "ENVIRONMENT": "dev",
    "POWERTOOLS_SERVICE_NAME": "tests",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    # No X-Ray daemon in tests (tracing is on only in Lambda anyway).
    "POWERTOOLS_TRACE_DISABLED": "true",
    # moto's EC2 would load thousands of public AMIs per backend: slow, and
    # no test uses them (the DRS simulator brings its own image).
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
}


@pytest.fixture(autouse=True)
def aws_env(monkeypatch):
    """Fake credentials, default names, no endpoint overrides."""
    for key in list(os.environ):
        if key.startswith("AWS_ENDPOINT_URL") or key == "AWS_PROFILE":
            monkeypatch.delenv(key, raising=False)
    for key, value in _AWS_ENV.items():
        monkeypatch.setenv(key, value)
    for env, slug in TABLE_ENV.items():
        monkeypatch.setenv(env, table_name(slug))
    reset_shared_caches()
    yield
    reset_shared_caches()


@pytest.fixture
def mocked_aws():
    """Every AWS service moto offers, in-process."""
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def ddb_tables(mocked_aws):
    """The five tables of CONTRACTS §4, created from the template."""
    import boto3

    return create_tables(boto3.resource("dynamodb", region_name=REGION))


@pytest.fixture
def fast_retries(monkeypatch):
    """Scale the AWS clients' retry waits to zero: no back-off sleep and
    no adaptive token-bucket pacing. The attempts themselves stay real."""
    from botocore.retries import bucket, standard

    monkeypatch.setattr(
        standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0
    )
    monkeypatch.setattr(
        bucket.TokenBucket, "acquire", lambda self, *a, **k: True
    )
