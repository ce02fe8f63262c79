"""shared.aws_errors: botocore errors -> domain errors, in one place."""

import pytest
from botocore.exceptions import ClientError

from shared.aws_errors import aws_errors, translate_client_error
from shared.errors import (
    DrsLimitExceededError,
    ForbiddenError,
    InvalidStateError,
    NotFoundError,
)


def client_error(code, operation="DescribeSourceServers"):
    return ClientError({"Error": {"Code": code, "Message": "m"}}, operation)


@pytest.mark.parametrize(
    "code, operation, expected, reason",
    [
        ("AccessDenied", "AssumeRole", ForbiddenError, "ASSUME_ROLE_DENIED"),
        ("AccessDeniedException", "DescribeJobs", ForbiddenError, None),
        ("ThrottlingException", "DescribeJobs", DrsLimitExceededError, None),
        (
            "RequestLimitExceeded",
            "DescribeSubnets",
            DrsLimitExceededError,
            None,
        ),
        (
            "UninitializedAccountException",
            "DescribeJobs",
            InvalidStateError,
            "DRS_NOT_INITIALIZED",
        ),
        ("InvalidVpcID.NotFound", "DescribeSubnets", NotFoundError, None),
    ],
)
def test_mapped_codes(code, operation, expected, reason):
    # When a botocore error with this code is translated
    error = translate_client_error(
        client_error(code, operation), "DRS", "210987654321", "us-east-1"
    )
    # Then it becomes the domain error of CONTRACTS §7 naming the account
    assert type(error) is expected
    assert error.details["accountId"] == "210987654321"
    if reason:
        assert error.details["reason"] == reason


def test_unmapped_errors_propagate_unchanged():
    # Given an error the caller cannot act on
    original = client_error("InternalServerException")
    # When it is raised inside the boundary
    with pytest.raises(ClientError) as raised:
        with aws_errors("DRS"):
            raise original
    # Then it propagates as is (a 500 without AWS internals)
    assert raised.value is original


def test_boundary_raises_the_domain_error_from_the_original():
    with pytest.raises(DrsLimitExceededError) as raised:
        with aws_errors("DRS", region="us-east-1"):
            raise client_error("ThrottlingException")
    assert raised.value.status == 429
    assert "us-east-1" in raised.value.message
    assert isinstance(raised.value.__cause__, ClientError)
