"""A recovery plan's optional ``rpoTargetSeconds`` (issue 19): the RPO
the readiness checks hold replication lag to; a positive, bounded
integer, cleared with null."""

import pytest

from plan_validation import MAX_RPO_TARGET_SECONDS, validate_plan_shape
from shared.errors import ValidationError
from tests.unit.data_management.conftest import db_group

WAVES = [{"waveNumber": 1, "waveName": "db", "protectionGroupId": "g1"}]


def test_a_plan_without_a_target_has_none():
    plan = validate_plan_shape({"planName": "P", "waves": WAVES})
    assert "rpoTargetSeconds" not in plan


@pytest.mark.parametrize("value", [1, 900, MAX_RPO_TARGET_SECONDS])
def test_a_positive_bounded_target_is_kept(value):
    plan = validate_plan_shape(
        {"planName": "P", "waves": WAVES, "rpoTargetSeconds": value}
    )
    assert plan["rpoTargetSeconds"] == value


def test_null_clears_the_target():
    plan = validate_plan_shape(
        {"planName": "P", "waves": WAVES, "rpoTargetSeconds": None}
    )
    assert "rpoTargetSeconds" not in plan


@pytest.mark.parametrize(
    "value", [0, -5, MAX_RPO_TARGET_SECONDS + 1, True, "900", 1.5]
)
def test_a_bad_target_is_refused(value):
    with pytest.raises(ValidationError) as caught:
        validate_plan_shape(
            {"planName": "P", "waves": WAVES, "rpoTargetSeconds": value}
        )
    assert caught.value.details["field"] == "rpoTargetSeconds"


def test_update_keeps_then_clears_the_target(dm):
    # Given a plan created with an RPO target of 15 minutes
    group = db_group(dm)
    waves = [dict(WAVES[0], protectionGroupId=group["groupId"])]
    plan = dm.direct(
        "create_recovery_plan",
        {"planName": "ERP", "waves": waves, "rpoTargetSeconds": 900},
    )
    assert plan["rpoTargetSeconds"] == 900, plan
    # When it is renamed, the target is kept
    renamed = dm.direct(
        "update_recovery_plan",
        {"planId": plan["planId"], "planName": "ERP 2", "version": 1},
    )
    assert renamed["rpoTargetSeconds"] == 900, renamed
    # When the target is set to null, it is cleared
    cleared = dm.direct(
        "update_recovery_plan",
        {"planId": plan["planId"], "rpoTargetSeconds": None, "version": 2},
    )
    assert "rpoTargetSeconds" not in cleared, cleared
