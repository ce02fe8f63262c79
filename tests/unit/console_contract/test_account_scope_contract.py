"""Console contract: the account selector scopes the group and plan
lists (``?accountId=``)."""

from tests.helpers import REGION
from tests.unit.data_management.conftest import HUB, SPOKE, db_group


def _two_accounts(dm):
    """A hub group and plan, a spoke group and plan: their ids."""
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
    plans = {}
    for name, group in (("Hub plan", hub_group), ("Spoke plan", spoke_group)):
        wave = {"waveNumber": 1, "waveName": "w", "protectionGroupId": group}
        plans[name] = dm.direct(
            "create_recovery_plan", {"planName": name, "waves": [wave]}
        )["planId"]
    return hub_group, spoke_group, plans


def test_group_and_plan_lists_of_one_account(dm):
    # Given groups and plans in the hub and in the spoke
    hub_group, spoke_group, plans = _two_accounts(dm)
    # When the console lists them for each selected account
    lists = {
        account: (
            dm.rest("GET", "/protection-groups", query={"accountId": account}),
            dm.rest("GET", "/recovery-plans", query={"accountId": account}),
        )
        for account in (HUB, SPOKE)
    }
    # Then each list holds that account's items only
    (g_status, hub_groups), (p_status, hub_plans) = lists[HUB]
    assert (g_status, p_status) == (200, 200)
    assert [g["groupId"] for g in hub_groups["groups"]] == [hub_group]
    assert [p["planId"] for p in hub_plans["recoveryPlans"]] == [
        plans["Hub plan"]
    ]
    (_, spoke_groups), (_, spoke_plans) = lists[SPOKE]
    assert [g["groupId"] for g in spoke_groups["groups"]] == [spoke_group]
    assert [p["planId"] for p in spoke_plans["recoveryPlans"]] == [
        plans["Spoke plan"]
    ]
    # And without the parameter every item is listed
    _, everything = dm.rest("GET", "/protection-groups")
    assert everything["count"] == 2


def test_a_malformed_account_filter_is_400(dm):
    # When the list is asked for something that is not an account id
    status, error = dm.rest(
        "GET", "/recovery-plans", query={"accountId": "12"}
    )
    # Then 400 names the parameter
    assert (status, error["field"]) == (400, "accountId"), error
