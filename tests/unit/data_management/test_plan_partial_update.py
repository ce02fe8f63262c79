"""Issue 15, defect 5: a partial plan update keeps the stored waves.

``PUT /recovery-plans/{id}`` with only ``planName`` or ``description``
was refused (``waves[0].waveNumber must be an integer``) because the
stored waves come back from DynamoDB with Decimal numbers.
"""

from decimal import Decimal

import pytest

from tests.helpers import REGION
from tests.unit.data_management.conftest import db_group

RP_TABLE = "RECOVERY_PLANS_TABLE"


def _plan(dm):
    """A two-wave plan (wave 2 depends on wave 1), stored."""
    first = db_group(dm)["groupId"]
    second = dm.direct(
        "create_protection_group",
        {
            "groupName": "App",
            "region": REGION,
            "sourceServerIds": dm.server_ids("erp-app"),
        },
    )["groupId"]
    created = dm.direct(
        "create_recovery_plan",
        {
            "planName": "ERP",
            "description": "before",
            "waves": [
                {
                    "waveNumber": 1,
                    "waveName": "DB",
                    "protectionGroupId": first,
                },
                {
                    "waveNumber": 2,
                    "waveName": "App",
                    "protectionGroupId": second,
                    "dependsOnWaves": [1],
                    "pauseBeforeWave": True,
                },
            ],
        },
    )
    assert "planId" in created, created
    return created


@pytest.mark.parametrize(
    "change",
    [{"planName": "ERP renamed"}, {"description": "after"}],
    ids=["planName", "description"],
)
def test_rest_partial_update_keeps_the_stored_waves(dm, change):
    # Given a stored plan (its numbers are Decimal in DynamoDB)
    plan = _plan(dm)
    stored = dm.item(RP_TABLE, "planId", plan["planId"])
    assert isinstance(stored["waves"][0]["waveNumber"], Decimal)
    # When only its name or description is changed over REST
    status, body = dm.rest(
        "PUT",
        f"/recovery-plans/{plan['planId']}",
        {**change, "version": 1},
        groups=("DRSOperator",),
    )
    # Then it is updated, the waves unchanged
    assert status == 200, body
    for key, value in change.items():
        assert body[key] == value
    assert body["version"] == 2
    assert body["waves"] == plan["waves"]
    after = dm.item(RP_TABLE, "planId", plan["planId"])
    assert after["waves"] == stored["waves"]
    assert [w["waveNumber"] for w in after["waves"]] == [1, 2]
    assert after["waves"][1]["dependsOnWaves"] == [1]


def test_direct_partial_update_keeps_the_stored_waves(dm):
    plan = _plan(dm)
    body = dm.direct(
        "update_recovery_plan",
        {"planId": plan["planId"], "description": "after", "version": 1},
    )
    assert body.get("description") == "after", body
    assert body["waves"] == plan["waves"]


def test_a_partial_update_still_validates_what_it_changes(dm):
    # Given a stored plan
    plan = _plan(dm)
    before = dm.item(RP_TABLE, "planId", plan["planId"])
    # When the name alone is changed to something invalid
    status, body = dm.rest(
        "PUT",
        f"/recovery-plans/{plan['planId']}",
        {"planName": "bad\u202ename", "version": 1},
    )
    # Then 400 names the field and nothing changed
    assert (status, body["error"], body["field"]) == (
        400,
        "VALIDATION_ERROR",
        "planName",
    )
    assert dm.item(RP_TABLE, "planId", plan["planId"]) == before
