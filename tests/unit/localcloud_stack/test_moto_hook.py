"""moto's Lambda invoke routed to the local runtime (in-process moto)."""

import json

import boto3
import pytest
from moto import mock_aws

from localcloud import lambda_runtime
from localcloud.lambda_runtime import LambdaRuntime, make_zip

SOURCE = """
import os


def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"got": event, "stage": os.environ["STAGE"]}
"""


@pytest.fixture
def lambda_client(tmp_path):
    runtime = LambdaRuntime(tmp_path / "work", tmp_path / "logs")
    lambda_runtime.install(runtime)
    config = {"lambda": {"use_docker": False}}
    try:
        with mock_aws(config=config):
            iam = boto3.client("iam", region_name="us-east-1")
            role = iam.create_role(
                RoleName="fn-role", AssumeRolePolicyDocument="{}"
            )["Role"]["Arn"]
            client = boto3.client("lambda", region_name="us-east-1")
            client.create_function(
                FunctionName="hooked",
                Runtime="python3.12",
                Role=role,
                Handler="index.handler",
                Code={"ZipFile": make_zip({"index.py": SOURCE})},
                Timeout=5,
                Environment={"Variables": {"STAGE": "unit"}},
            )
            yield client, runtime
    finally:
        lambda_runtime.uninstall()
        runtime.stop()


def test_invoke_runs_registered_code_with_its_environment(lambda_client):
    client, _ = lambda_client

    # When the registered function is invoked through boto3
    response = client.invoke(FunctionName="hooked", Payload=b'{"x": 1}')

    # Then its code ran with its declared environment
    assert "FunctionError" not in response
    body = json.loads(response["Payload"].read())
    assert body == {"got": {"x": 1}, "stage": "unit"}


def test_exception_is_function_error_with_lambda_payload(lambda_client):
    client, _ = lambda_client

    # When the function raises
    response = client.invoke(FunctionName="hooked", Payload=b'{"fail": 1}')

    # Then the caller sees FunctionError and the Lambda error payload
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "asked to fail"
    assert isinstance(error["stackTrace"], list)


def test_event_invocation_is_accepted_and_runs(lambda_client):
    client, runtime = lambda_client

    # When invoked asynchronously
    response = client.invoke(
        FunctionName="hooked", InvocationType="Event", Payload=b"{}"
    )

    # Then Lambda answers 202 at once and the invocation completes
    assert response["StatusCode"] == 202
    assert runtime.wait_async(10)
    assert "START RequestId" in (runtime.log_dir / "hooked.log").read_text()


def test_unknown_function_is_resource_not_found(lambda_client):
    client, _ = lambda_client

    # When a function that is not registered is invoked
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.invoke(FunctionName="nope", Payload=b"{}")
