"""The local cloud's STS refuses what AWS refuses (issue 15, defect 7a).

Against an in-process moto server patched as the local cloud patches it:
AssumeRole checks that the role exists and that its trust policy admits
the caller with the request's ExternalId.
"""

import json
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from localcloud.stack import account_credentials
from localcloud.sts_trust import trust_allows
from tests.unit.localcloud_stack.moto_server import patched_moto_server

HUB = "111122223333"
SPOKE = "444455556666"
OTHER = "777788889999"
EXTERNAL_ID = "ext-right-1234"
REGION = "us-east-1"


def _trust(principal_account=HUB, condition=True):
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{principal_account}:root"},
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = {
            "StringEquals": {"sts:ExternalId": EXTERNAL_ID}
        }
    return {"Version": "2012-10-17", "Statement": [statement]}


@pytest.fixture(scope="module")
def cloud():
    with patched_moto_server() as endpoint:

        def client(service, account):
            creds = account_credentials(account)
            return boto3.client(
                service,
                region_name=REGION,
                endpoint_url=endpoint,
                aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
            )

        yield client


def _spoke_role(cloud, trust):
    name = f"spoke-{uuid.uuid4().hex[:12]}"
    return cloud("iam", SPOKE).create_role(
        RoleName=name, AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]


def _denied(call):
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response
    assert error["Error"]["Code"] == "AccessDenied"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "sts:AssumeRole" in error["Error"]["Message"]


def test_the_right_external_id_gives_credentials_in_the_spoke(cloud):
    # Given a spoke role trusting the hub with an ExternalId
    role = _spoke_role(cloud, _trust())

    # When the hub assumes it with that ExternalId
    creds = cloud("sts", HUB).assume_role(
        RoleArn=role, RoleSessionName="drill", ExternalId=EXTERNAL_ID
    )["Credentials"]

    # Then the credentials act in the spoke account
    spoke_sts = boto3.client(
        "sts",
        region_name=REGION,
        endpoint_url=cloud("sts", HUB).meta.endpoint_url,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    assert spoke_sts.get_caller_identity()["Account"] == SPOKE


@pytest.mark.parametrize(
    "external_id", ["ext-wrong-1234", None], ids=["wrong", "missing"]
)
def test_a_wrong_or_missing_external_id_is_access_denied(cloud, external_id):
    # Given a spoke role trusting the hub with an ExternalId
    role = _spoke_role(cloud, _trust())
    extra = {"ExternalId": external_id} if external_id else {}

    # When the hub assumes it without the right ExternalId, Then 403
    _denied(
        lambda: cloud("sts", HUB).assume_role(
            RoleArn=role, RoleSessionName="drill", **extra
        )
    )


def test_a_role_that_does_not_exist_is_access_denied(cloud):
    # Given no such role in the spoke account
    missing = f"arn:aws:iam::{SPOKE}:role/missing-{uuid.uuid4().hex[:8]}"

    # When the hub assumes it, Then 403
    _denied(
        lambda: cloud("sts", HUB).assume_role(
            RoleArn=missing, RoleSessionName="drill", ExternalId=EXTERNAL_ID
        )
    )


def test_a_caller_the_role_does_not_trust_is_access_denied(cloud):
    # Given a spoke role trusting the hub only
    role = _spoke_role(cloud, _trust())

    # When another account assumes it with the right ExternalId, Then 403
    _denied(
        lambda: cloud("sts", OTHER).assume_role(
            RoleArn=role, RoleSessionName="drill", ExternalId=EXTERNAL_ID
        )
    )


def test_a_role_without_external_id_condition_needs_none(cloud):
    # Given a spoke role trusting the hub without a condition
    role = _spoke_role(cloud, _trust(condition=False))

    # When the hub assumes it without an ExternalId, Then it gets keys
    creds = cloud("sts", HUB).assume_role(
        RoleArn=role, RoleSessionName="drill"
    )["Credentials"]
    assert creds["AccessKeyId"]


@pytest.mark.parametrize(
    "statements, external_id, allowed",
    [
        # StringLike wildcards
        (
            [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": HUB},
                    "Action": ["sts:AssumeRole", "sts:TagSession"],
                    "Condition": {"StringLike": {"sts:ExternalId": "ext-*"}},
                }
            ],
            "ext-anything",
            True,
        ),
        # a Deny wins over an Allow
        (
            [
                {"Effect": "Allow", "Principal": "*", "Action": "sts:*"},
                {
                    "Effect": "Deny",
                    "Principal": {"AWS": "*"},
                    "Action": "sts:AssumeRole",
                },
            ],
            None,
            False,
        ),
        # a service principal does not admit an IAM caller
        (
            [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
            None,
            False,
        ),
        # an operator on the ExternalId that is not modelled refuses
        (
            [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": HUB},
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "StringNotEquals": {"sts:ExternalId": "other"}
                    },
                }
            ],
            "ext-right-1234",
            False,
        ),
    ],
    ids=["string-like", "deny-wins", "service-principal", "unknown-op"],
)
def test_trust_policy_evaluation(statements, external_id, allowed):
    policy = {"Statement": statements}
    caller = f"arn:aws:iam::{HUB}:user/operator"
    assert trust_allows(policy, HUB, caller, external_id) is allowed
