"""/drs/* and /ec2/* answer 400 naming ``region`` for a region that does
not exist (issue 15, defect 7d: the local cloud answered 500)."""

import json

import pytest

from tests.helpers import api_event


@pytest.mark.parametrize(
    "path, query",
    [
        ("/drs/source-servers", {}),
        ("/drs/quotas", {}),
        ("/ec2/subnets", {"vpcId": "vpc-12345678"}),
        ("/ec2/security-groups", {"vpcId": "vpc-12345678"}),
        ("/ec2/instance-types", {}),
        ("/ec2/instance-profiles", {}),
    ],
)
@pytest.mark.parametrize("region", ["zz-nowhere-9", "us_east_1"])
def test_unknown_region_is_400_naming_it(bare_handler, path, query, region):
    # When a query names a region AWS does not have
    event = api_event(
        "GET", path, query={**query, "region": region}, groups=("DRSOperator",)
    )
    response = bare_handler.handler(event, None)

    # Then 400 VALIDATION_ERROR on region, before any AWS call
    body = json.loads(response["body"])
    assert response["statusCode"] == 400, body
    assert (body["error"], body["field"]) == ("VALIDATION_ERROR", "region")
