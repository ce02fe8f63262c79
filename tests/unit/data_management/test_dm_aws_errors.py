"""AWS errors of data-management operations become API errors
(shared.aws_errors): uninitialized DRS 409, unassumable role 403,
persistent throttling 429 -- over REST and direct invocation."""

import pytest
from botocore.awsrequest import AWSResponse

from localcloud.drs.faults import FaultInjector
from localcloud.scenario import FaultSpec
from shared import aws_clients
from tests.helpers import REGION
from tests.unit.data_management.conftest import (
    SPOKE,
    SPOKE_EXTERNAL_ID,
    SPOKE_ROLE,
)

UNINITIALIZED = "us-west-2"
PG_TABLE = "PROTECTION_GROUPS_TABLE"


def _both_shapes(dm, operation, method, path, body):
    """(status, body) of a REST call then of a direct call."""
    status, rest = dm.rest(method, path, body)
    direct = dm.direct(operation, body)
    return [(status, rest), (direct.get("statusCode"), direct)]


@pytest.fixture
def refusing_sts():
    """STS answers AccessDenied to every AssumeRole (role not trusted)."""

    def refuse(params, **_):
        error = {
            "Error": {
                "Code": "AccessDenied",
                "Message": "not authorized to perform sts:AssumeRole",
            },
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }
        return AWSResponse("sts", 403, {}, None), error

    events = aws_clients._base_session().events
    events.register("before-call.sts.AssumeRole", refuse)
    yield
    events.unregister("before-call.sts.AssumeRole", refuse)


def _register_spoke(dm):
    dm.tables["TARGET_ACCOUNTS_TABLE"].put_item(
        Item={
            "accountId": SPOKE,
            "accountName": "portal",
            "roleArn": SPOKE_ROLE,
            "externalId": SPOKE_EXTERNAL_ID,
            "isCurrentAccount": False,
        }
    )


def test_group_in_uninitialized_region_is_409_not_500(dm):
    # Given a region where DRS was never initialized
    for body in (
        {
            "groupName": "West ids",
            "region": UNINITIALIZED,
            "sourceServerIds": dm.server_ids("erp-db"),
        },
        {
            "groupName": "West tags",
            "region": UNINITIALIZED,
            "serverSelectionTags": {"Tier": "Web"},
        },
    ):
        # When a group is created there (REST, then direct)
        answers = _both_shapes(
            dm,
            "create_protection_group",
            "POST",
            "/protection-groups",
            body,
        )
        # Then both answer 409 DRS_NOT_INITIALIZED naming the region
        for status, answer in answers:
            assert status == 409, answer
            assert answer["error"] == "INVALID_STATE"
            assert answer["reason"] == "DRS_NOT_INITIALIZED"
            assert UNINITIALIZED in answer["message"]
    # And nothing was stored
    assert dm.scan(PG_TABLE) == []


def test_resolve_tags_and_tag_sync_in_uninitialized_region_are_409(dm):
    # When tags are resolved / tags synced where DRS is not initialized
    resolved = _both_shapes(
        dm,
        "resolve_protection_group_tags",
        "POST",
        "/protection-groups/resolve",
        {"region": UNINITIALIZED, "serverSelectionTags": {"Tier": "Web"}},
    )
    synced = _both_shapes(
        dm,
        "handle_drs_tag_sync",
        "POST",
        "/drs/tag-sync",
        {"regions": [UNINITIALIZED]},
    )
    # Then each answer is a 409 INVALID_STATE, not a 500
    for status, answer in resolved + synced:
        assert (status, answer["error"]) == (409, "INVALID_STATE"), answer
        assert answer["reason"] == "DRS_NOT_INITIALIZED"


def test_unassumable_spoke_role_is_403(dm, refusing_sts):
    # Given the spoke registered but its role refusing the hub
    _register_spoke(dm)
    # When a group in the spoke is created and its tags resolved
    created = _both_shapes(
        dm,
        "create_protection_group",
        "POST",
        "/protection-groups",
        {
            "groupName": "Portal",
            "region": REGION,
            "accountId": SPOKE,
            "serverSelectionTags": {"Application": "Portal"},
        },
    )
    resolved = _both_shapes(
        dm,
        "resolve_protection_group_tags",
        "POST",
        "/protection-groups/resolve",
        {
            "region": REGION,
            "accountId": SPOKE,
            "serverSelectionTags": {"Application": "Portal"},
        },
    )
    # Then a 403 says the role cannot be assumed and names the account
    for status, answer in created + resolved:
        assert status == 403, answer
        assert answer["error"] == "FORBIDDEN"
        assert answer["reason"] == "ASSUME_ROLE_DENIED"
        assert answer["accountId"] == SPOKE
    # And no DRS call reached the spoke; nothing was stored
    assert dm.sim.call_count(account=SPOKE) == 0
    assert dm.scan(PG_TABLE) == []


def test_persistent_throttling_is_429(dm, fast_retries):
    # Given DRS throttling every DescribeSourceServers
    dm.sim.faults = FaultInjector(
        [FaultSpec(type="throttle", operation="DescribeSourceServers")]
    )
    # When a group is created and tags are resolved
    created = _both_shapes(
        dm,
        "create_protection_group",
        "POST",
        "/protection-groups",
        {
            "groupName": "ERP Database",
            "region": REGION,
            "sourceServerIds": dm.server_ids("erp-db"),
        },
    )
    resolved = _both_shapes(
        dm,
        "resolve_protection_group_tags",
        "POST",
        "/protection-groups/resolve",
        {"region": REGION, "serverSelectionTags": {"Tier": "Web"}},
    )
    # Then, after the client's retries, the caller gets a 429
    for status, answer in created + resolved:
        assert status == 429, answer
        assert answer["error"] == "DRS_LIMIT_EXCEEDED"
        assert "throttled" in answer["message"]
    assert dm.scan(PG_TABLE) == []


def test_transient_throttling_is_retried(dm, fast_retries):
    # Given DRS throttling the first DescribeSourceServers only
    dm.sim.faults = FaultInjector(
        [FaultSpec(type="throttle", operation="DescribeSourceServers", nth=1)]
    )
    # When a group is created
    status, created = dm.rest(
        "POST",
        "/protection-groups",
        {
            "groupName": "ERP Database",
            "region": REGION,
            "sourceServerIds": dm.server_ids("erp-db"),
        },
    )
    # Then the retry succeeded
    assert status == 201, created
