"""Unknown or malformed regions are the caller's mistake: 400, never 500
(issue 15, defect 7d)."""

import pytest
from botocore.exceptions import EndpointConnectionError

from shared.aws_errors import aws_errors
from shared.aws_regions import known_regions, service_regions
from shared.errors import ValidationError
from shared.validation import validate_region


@pytest.mark.parametrize(
    "region", ["us-east-1", "eu-west-3", "us-gov-west-1", "cn-north-1"]
)
def test_regions_of_every_partition_are_valid(region):
    assert validate_region(region) == region


@pytest.mark.parametrize(
    "value, message",
    [
        ("zz-nowhere-9", "region zz-nowhere-9 is not an AWS region"),
        ("us-east-1\n", "region must be an AWS region"),
        ("US-EAST-1", "region must be an AWS region"),
        ("nowhere", "region must be an AWS region"),
        (5, "region must be an AWS region"),
    ],
    ids=["unknown", "trailing-newline", "upper", "malformed", "number"],
)
def test_unknown_or_malformed_regions_are_400_naming_the_field(value, message):
    # When the value is validated, Then a 400 names the field
    with pytest.raises(ValidationError) as raised:
        validate_region(value)
    assert raised.value.status == 400
    assert raised.value.details["field"] == "region"
    assert raised.value.message.startswith(message)


def _unreachable(region):
    return EndpointConnectionError(
        endpoint_url=f"https://drs.{region}.amazonaws.com/"
    )


def test_no_drs_endpoint_in_a_region_is_400_on_region():
    # Given a region AWS has but where DRS has no endpoint
    region = sorted(known_regions() - service_regions("drs"))[0]

    # When DRS cannot be reached there
    with pytest.raises(ValidationError) as raised:
        with aws_errors("DRS", account_id="123456789012", region=region):
            raise _unreachable(region)

    # Then the caller gets a 400 naming the region
    error = raised.value
    assert (error.status, error.details["field"]) == (400, "region")
    assert error.details["reason"] == "SERVICE_NOT_IN_REGION"
    assert region in error.message


@pytest.mark.parametrize("service", ["DRS", "IAM"])
def test_a_network_failure_where_the_service_exists_stays_an_error(service):
    # When DRS (regional) or IAM (global) cannot be reached in us-east-1
    # Then the connection error propagates (a 500, not a 4xx)
    with pytest.raises(EndpointConnectionError):
        with aws_errors(service, region="us-east-1"):
            raise _unreachable("us-east-1")
