"""Updating a protection group re-validates the recovery plans using it:
refused with the plan validation's error, naming the plan; nothing
written."""

import boto3

from localcloud.drs.testing import simulated_drs
from localcloud.scenario import scenario_from_dict
from tests.helpers import REGION, create_tables
from tests.unit.data_management.conftest import (
    HUB,
    SPOKE,
    DataManagement,
    db_group,
)

PG_TABLE = "PROTECTION_GROUPS_TABLE"
RP_TABLE = "RECOVERY_PLANS_TABLE"


def _wave(number, group_id):
    return {
        "waveNumber": number,
        "waveName": f"wave {number}",
        "protectionGroupId": group_id,
    }


def test_moving_a_group_to_another_account_than_its_plan_is_refused(dm):
    # Given a plan over two hub groups, and the spoke registered
    db = db_group(dm)
    web = dm.direct(
        "create_protection_group",
        {
            "groupName": "Web",
            "region": REGION,
            "serverSelectionTags": {"Tier": "Web"},
        },
    )
    plan = dm.direct(
        "create_recovery_plan",
        {
            "planName": "ERP",
            "waves": [_wave(1, db["groupId"]), _wave(2, web["groupId"])],
        },
    )
    assert "planId" in plan, plan
    dm.register_spoke()
    move = {
        "accountId": SPOKE,
        "serverSelectionTags": {"Application": "Portal"},
        "version": 1,
    }
    # When the web group is moved to the spoke (REST, then direct)
    status, rest = dm.rest("PUT", f"/protection-groups/{web['groupId']}", move)
    direct = dm.direct(
        "update_protection_group", dict(move, groupId=web["groupId"])
    )
    # Then both are refused as the plan validation refuses mixed accounts
    for code, answer in ((status, rest), (direct["statusCode"], direct)):
        assert (code, answer["error"]) == (400, "VALIDATION_ERROR"), answer
        assert answer["field"] == "waves"
        assert answer["planId"] == plan["planId"]
        assert "ERP" in answer["message"]
    # And the group is unchanged
    stored = dm.item(PG_TABLE, "groupId", web["groupId"])
    assert stored["version"] == 1 and "accountId" not in stored
    # And a change that keeps the plan valid is accepted
    status, updated = dm.rest(
        "PUT",
        f"/protection-groups/{web['groupId']}",
        {"description": "web tier", "version": 1},
    )
    assert status == 200 and updated["version"] == 2, updated


TIERED = {
    "seed": 5,
    "accounts": [
        {
            "id": HUB,
            "name": "hub",
            "regions": {
                REGION: {
                    "source_servers": [
                        {
                            "hostname": "big-{i:03d}",
                            "count": 100,
                            "tags": {"Tier": "Big"},
                        },
                        {
                            "hostname": "late-{i}",
                            "count": 1,
                            "tags": {"Tier": "Big"},
                        },
                    ]
                }
            },
        }
    ],
}


def test_growing_a_wave_past_what_drs_can_run_is_refused(monkeypatch):
    # Given a deployment whose DRS quotas allow a job of 200 servers but
    # 100 servers in all jobs: a 101-server wave can never run
    from tests.helpers import reset_shared_caches

    monkeypatch.setenv("DRS_MAX_SERVERS_PER_JOB", "200")
    monkeypatch.setenv("DRS_MAX_SERVERS_IN_ALL_JOBS", "100")
    reset_shared_caches()
    with simulated_drs(scenario_from_dict(TIERED)) as sim:
        tables = create_tables(boto3.resource("dynamodb", region_name=REGION))
        dm = DataManagement(sim, tables)
        # Given a group of 100 servers (by id) in a one-wave plan
        group = dm.direct(
            "create_protection_group",
            {
                "groupName": "Big",
                "region": REGION,
                "sourceServerIds": dm.server_ids("big-"),
            },
        )
        plan = dm.direct(
            "create_recovery_plan",
            {"planName": "Big", "waves": [_wave(1, group["groupId"])]},
        )
        assert "planId" in plan, plan
        # When the group switches to tags matching 101 servers
        answer = dm.direct(
            "update_protection_group",
            {
                "groupId": group["groupId"],
                "serverSelectionTags": {"Tier": "Big"},
                "version": 1,
            },
        )
        # Then the plan validation's wave size error names the plan
        assert answer["statusCode"] == 400, answer
        assert answer["error"] == "WAVE_SIZE_LIMIT_EXCEEDED"
        (error,) = answer["errors"]
        assert (error["waveNumber"], error["serverCount"]) == (1, 101)
        assert answer["planName"] == "Big"
        # And nothing was written
        stored = dm.item(PG_TABLE, "groupId", group["groupId"])
        assert stored["version"] == 1 and "serverSelectionTags" not in stored
