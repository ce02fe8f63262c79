"""The HTTP endpoint: unmodified boto3 and the AWS CLI."""

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from localcloud.drs import DrsHttpServer

from .conftest import REGION

AWS_CLI = Path(sys.executable).parent / "aws"


@pytest.fixture
def endpoint(drs_sim):
    server = DrsHttpServer(drs_sim)
    url = server.start()
    yield url
    server.stop()


def test_boto3_client_via_endpoint_url(drs_sim, endpoint, monkeypatch):
    # Given a client configured only through AWS_ENDPOINT_URL_DRS
    monkeypatch.setenv("AWS_ENDPOINT_URL_DRS", endpoint)
    drs = boto3.session.Session().client("drs", region_name=REGION)
    assert drs.meta.endpoint_url == endpoint
    # When it lists servers, starts a drill and hits an error
    servers = drs.describe_source_servers(maxResults=5)
    job = drs.start_recovery(
        sourceServers=[
            {"sourceServerID": servers["items"][0]["sourceServerID"]}
        ],
        isDrill=True,
    )["job"]
    with pytest.raises(drs.exceptions.ConflictException):
        drs.start_recovery(
            sourceServers=[
                {"sourceServerID": servers["items"][0]["sourceServerID"]}
            ]
        )
    arn = job["arn"]
    drs.tag_resource(resourceArn=arn, tags={"via": "http"})
    # Then everything went over HTTP to the simulator
    assert len(servers["items"]) == 5 and "nextToken" in servers
    headers = servers["ResponseMetadata"]["HTTPHeaders"]
    assert headers["server"].startswith("LocalDRS")
    assert drs.list_tags_for_resource(resourceArn=arn)["tags"] == {
        "via": "http"
    }
    assert drs_sim.call_count("StartRecovery") == 2


def test_http_refuses_non_loopback_binding(drs_sim):
    # When / Then
    with pytest.raises(ValueError):
        DrsHttpServer(drs_sim, host="0.0.0.0")


@pytest.mark.skipif(not AWS_CLI.exists(), reason="AWS CLI not installed")
def test_aws_cli_describe_source_servers(drs_sim, endpoint):
    # Given the AWS CLI with env credentials
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }
    env.pop("AWS_SESSION_TOKEN", None)
    env.pop("AWS_SECURITY_TOKEN", None)
    # When it calls the endpoint
    out = subprocess.run(  # nosec B603 - fixed argv, local endpoint
        [
            str(AWS_CLI),
            "drs",
            "describe-source-servers",
            "--endpoint-url",
            endpoint,
            "--output",
            "json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    # Then it lists the hub's servers
    items = json.loads(out.stdout)["items"]
    assert len(items) == 8
    assert {i["tags"]["Application"] for i in items} == {"ERP"}
