"""Recovery plans: CRUD, wave validation, conflicts, RBAC."""

from localcloud.drs.testing import simulated_drs
from localcloud.scenario import scenario_from_dict
from tests.helpers import REGION
from tests.unit.data_management.conftest import (
    SPOKE,
    db_group,
)

RP_TABLE = "RECOVERY_PLANS_TABLE"


def _tag_group(dm, name, tier):
    created = dm.direct(
        "create_protection_group",
        {
            "groupName": name,
            "region": REGION,
            "serverSelectionTags": {"Tier": tier, "Application": "ERP"},
        },
    )
    return created["groupId"]


def _three_tier(dm):
    return [
        db_group(dm)["groupId"],
        _tag_group(dm, "App", "Application"),
        _tag_group(dm, "Web", "Web"),
    ]


def _waves(ids):
    return [
        {
            "waveNumber": 1,
            "waveName": "Database Tier",
            "protectionGroupId": ids[0],
        },
        {
            "waveNumber": 2,
            "waveName": "Application Tier",
            "protectionGroupId": ids[1],
            "dependsOnWaves": [1],
            "pauseBeforeWave": True,
        },
        {
            "waveNumber": 3,
            "waveName": "Web Tier",
            "protectionGroupId": ids[2],
            "dependsOnWaves": [2],
        },
    ]


def test_example_2_create_plan_direct_answers_documented_fields(dm):
    # Given three groups (seeds/004 Example 2)
    ids = _three_tier(dm)
    # When the three-wave plan is created directly
    created = dm.direct(
        "create_recovery_plan",
        {
            "planName": "Production DR Plan",
            "description": "Multi-wave production recovery",
            "waves": _waves(ids),
        },
    )
    # Then the documented fields come back
    for key in ("planId", "planName", "waves", "createdDate", "version"):
        assert key in created, created
    assert created["version"] == 1
    assert [w["waveNumber"] for w in created["waves"]] == [1, 2, 3]
    assert created["waves"][1]["pauseBeforeWave"] is True
    assert created["waves"][0]["pauseBeforeWave"] is False
    assert created["waves"][2]["dependsOnWaves"] == [2]
    assert "accountId" not in created
    # And it is readable over REST by a read-only user
    status, got = dm.rest(
        "GET",
        f"/recovery-plans/{created['planId']}",
        groups=("DRSReadOnly",),
    )
    assert status == 200 and got["planName"] == "Production DR Plan"
    status, listed = dm.rest("GET", "/recovery-plans")
    assert listed["count"] == 1


INVALID_WAVES = [
    (lambda w: [], "waves"),
    (lambda w: w[:1] + [dict(w[1], waveNumber=1)], "waves[1].waveNumber"),
    (lambda w: [dict(w[0], waveName="")], "waves[0].waveName"),
    (
        lambda w: [dict(w[0], protectionGroupId="nope")],
        "waves[0].protectionGroupId",
    ),
    (
        lambda w: [dict(w[0], dependsOnWaves=[7])],
        "waves[0].dependsOnWaves",
    ),
    (
        lambda w: [dict(w[0], dependsOnWaves=[3])] + w[1:],
        "waves[1].dependsOnWaves",
    ),
    (lambda w: [dict(w[0], color="red")], "color"),
    (lambda w: [dict(w[0], pauseBeforeWave="yes")], None),
]


def test_invalid_waves_are_400_naming_the_field(dm):
    # Given valid groups
    ids = _three_tier(dm)
    for mutate, field in INVALID_WAVES:
        # When a plan with a broken wave list is posted
        waves = mutate(_waves(ids))
        status, answer = dm.rest(
            "POST", "/recovery-plans", {"planName": "P", "waves": waves}
        )
        # Then 400 VALIDATION_ERROR names the field; nothing stored
        assert status == 400, (field, answer)
        assert answer["error"] == "VALIDATION_ERROR"
        if field:
            assert answer["field"] == field, answer
    assert dm.direct("list_recovery_plans")["count"] == 0


def test_cycle_is_reported(dm):
    ids = _three_tier(dm)
    waves = _waves(ids)
    waves[0]["dependsOnWaves"] = [3]
    answer = dm.direct(
        "create_recovery_plan", {"planName": "P", "waves": waves}
    )
    assert answer["error"] == "VALIDATION_ERROR"
    assert "cycle" in answer["message"]
    assert answer["cycle"][0] == answer["cycle"][-1]


def test_name_conflict_and_update_version_and_404(dm):
    ids = _three_tier(dm)
    plan = dm.direct(
        "create_recovery_plan", {"planName": "DR", "waves": _waves(ids)}
    )
    # Same name in other case -> 409
    answer = dm.direct(
        "create_recovery_plan", {"planName": "dr", "waves": _waves(ids)}
    )
    assert answer["error"] == "NAME_CONFLICT" and answer["statusCode"] == 409
    # Update with the right version -> version 2 (operator may modify)
    status, updated = dm.rest(
        "PUT",
        f"/recovery-plans/{plan['planId']}",
        {"waves": _waves(ids)[:1], "version": 1},
        groups=("DRSOperator",),
    )
    assert status == 200, updated
    assert updated["version"] == 2 and len(updated["waves"]) == 1
    # Stale version -> 409 VERSION_CONFLICT
    answer = dm.direct(
        "update_recovery_plan",
        {"planId": plan["planId"], "description": "x", "version": 1},
    )
    assert answer["error"] == "VERSION_CONFLICT"
    # Unknown plan -> 404
    status, answer = dm.rest(
        "DELETE", "/recovery-plans/00000000-0000-4000-8000-000000000000"
    )
    assert status == 404 and answer["error"] == "NOT_FOUND"


def test_active_execution_blocks_update_and_delete(dm):
    ids = _three_tier(dm)
    plan = dm.direct(
        "create_recovery_plan", {"planName": "DR", "waves": _waves(ids)}
    )
    table = dm.tables["EXECUTION_HISTORY_TABLE"]
    table.put_item(
        Item={
            "executionId": "e-1",
            "planId": plan["planId"],
            "status": "PAUSED",
            "startTime": 1,
        }
    )
    table.put_item(
        Item={
            "executionId": "e-0",
            "planId": plan["planId"],
            "status": "COMPLETED",
            "startTime": 0,
        }
    )
    answer = dm.direct("delete_recovery_plan", {"planId": plan["planId"]})
    assert answer["error"] == "EXECUTION_CONFLICT", answer
    assert answer["executions"] == [{"executionId": "e-1", "status": "PAUSED"}]
    status, answer = dm.rest(
        "PUT", f"/recovery-plans/{plan['planId']}", {"description": "x"}
    )
    assert status == 409 and answer["error"] == "EXECUTION_CONFLICT"
    # Once finished, delete works
    table.update_item(
        Key={"executionId": "e-1"},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": "CANCELLED"},
    )
    status, answer = dm.rest("DELETE", f"/recovery-plans/{plan['planId']}")
    assert status == 200 and answer["deleted"] is True


def test_group_in_a_plan_cannot_be_deleted(dm):
    ids = _three_tier(dm)
    plan = dm.direct(
        "create_recovery_plan", {"planName": "DR", "waves": _waves(ids)}
    )
    status, answer = dm.rest("DELETE", f"/protection-groups/{ids[0]}")
    assert status == 409 and answer["error"] == "INVALID_STATE"
    assert answer["usedBy"] == [{"planId": plan["planId"], "planName": "DR"}]
    assert "DR" in answer["message"]


def test_rbac_operator_cannot_delete_plan_readonly_cannot_create(dm):
    ids = _three_tier(dm)
    plan = dm.direct(
        "create_recovery_plan", {"planName": "DR", "waves": _waves(ids)}
    )
    status, _ = dm.rest(
        "DELETE", f"/recovery-plans/{plan['planId']}", groups=("DRSOperator",)
    )
    assert status == 403
    status, _ = dm.rest(
        "POST",
        "/recovery-plans",
        {"planName": "X", "waves": _waves(ids)},
        groups=("DRSReadOnly",),
    )
    assert status == 403
    assert dm.item(RP_TABLE, "planId", plan["planId"]) is not None


def test_one_account_per_plan(dm):
    dm.register_spoke()
    spoke_group = dm.direct(
        "create_protection_group",
        {
            "groupName": "Portal",
            "region": REGION,
            "accountId": SPOKE,
            "serverSelectionTags": {"Application": "Portal"},
        },
    )["groupId"]
    hub_group = db_group(dm)["groupId"]
    waves = [
        {"waveNumber": 1, "waveName": "a", "protectionGroupId": hub_group},
        {"waveNumber": 2, "waveName": "b", "protectionGroupId": spoke_group},
    ]
    answer = dm.direct(
        "create_recovery_plan", {"planName": "X", "waves": waves}
    )
    assert answer["error"] == "VALIDATION_ERROR" and answer["field"] == "waves"
    # A spoke-only plan records its account
    ok = dm.direct(
        "create_recovery_plan", {"planName": "Y", "waves": waves[1:]}
    )
    assert ok["accountId"] == SPOKE


BIG = {
    "seed": 1,
    "accounts": [
        {
            "id": "123456789012",
            "name": "hub",
            "regions": {
                REGION: {
                    "source_servers": [
                        {
                            "hostname": "big-{i:03d}",
                            "count": 150,
                            "tags": {"Tier": "Big"},
                        }
                    ]
                }
            },
        }
    ],
}


def _big_plan():
    """Create a group of the 150 tagged servers and a one-wave plan of
    it: (group, the plan's answer)."""
    from tests.helpers import create_tables, load_handler
    import boto3

    with simulated_drs(scenario_from_dict(BIG)):
        create_tables(boto3.resource("dynamodb", region_name=REGION))
        handler = load_handler("data-management-handler").lambda_handler
        group = handler(
            {
                "operation": "create_protection_group",
                "body": {
                    "groupName": "Big",
                    "region": REGION,
                    "serverSelectionTags": {"Tier": "Big"},
                },
            },
            None,
        )
        wave = {
            "waveNumber": 1,
            "waveName": "all",
            "protectionGroupId": group["groupId"],
        }
        answer = handler(
            {
                "operation": "create_recovery_plan",
                "body": {"planName": "Big", "waves": [wave]},
            },
            None,
        )
    return group, answer


def test_wave_of_150_servers_is_accepted():
    # Given 150 servers selected by one tag group
    # When a plan puts it in one wave
    group, answer = _big_plan()
    # Then the plan is created: the wave runs as 2 DRS jobs (issue 16)
    assert "planId" in answer, answer
    assert answer["waves"][0]["protectionGroupId"] == group["groupId"]


def test_plan_that_can_never_run_is_refused(monkeypatch):
    # Given a deployment whose DRS quota allows 50 servers in all jobs
    # and 150 servers selected by one tag group (jobs of 75)
    from tests.helpers import reset_shared_caches

    monkeypatch.setenv("DRS_MAX_SERVERS_IN_ALL_JOBS", "50")
    reset_shared_caches()
    # When a plan puts it in one wave
    _, answer = _big_plan()
    # Then WAVE_SIZE_LIMIT_EXCEEDED names the wave and why it never runs
    assert answer["error"] == "WAVE_SIZE_LIMIT_EXCEEDED", answer
    assert answer["statusCode"] == 400
    assert answer["limit"] == 50
    (error,) = answer["errors"]
    assert (error["waveNumber"], error["serverCount"]) == (1, 150)
    assert "a job of 75 servers exceeds 50" in answer["message"]
