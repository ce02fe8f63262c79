"""Console contract: the recovery plan list and the plan dialog."""

from tests.unit.data_management.conftest import HUB, SPOKE, db_group

EXECUTIONS = "EXECUTION_HISTORY_TABLE"


def _console_wave(group, number=0, **extra):
    """A wave as the wave editor sends it (one group, all its servers)."""
    return {
        "waveNumber": number,
        "waveName": f"Wave {number + 1}",
        "waveDescription": "database tier",
        "protectionGroupIds": [group["groupId"]],
        "protectionGroupId": group["groupId"],
        "serverIds": list(group["sourceServerIds"]),
        "pauseBeforeWave": False,
        "dependsOnWaves": [],
        **extra,
    }


def _console_plan(group, name="ERP DR", **extra):
    """The body the plan dialog posts."""
    return {
        "name": name,
        "description": "ERP recovery",
        "accountId": HUB,
        "assumeRoleName": "",
        "notificationEmail": "dr-team@example.com",
        "waves": [_console_wave(group)],
        **extra,
    }


def _assert_console_plan(plan, group):
    """Every field the plan screens read of a plan."""
    assert plan["planId"] and plan["name"] == plan["planName"]
    assert isinstance(plan["version"], int)
    assert isinstance(plan["hasServerConflict"], bool)
    for wave in plan["waves"]:
        assert wave["protectionGroupIds"] == [group["groupId"]]
        assert wave["protectionGroupId"] == group["groupId"]
        assert sorted(wave["serverIds"]) == sorted(group["sourceServerIds"])
        assert wave["serverCount"] == len(group["sourceServerIds"])
        assert isinstance(wave["waveName"], str)


def test_plan_dialog_creates_and_reads_back_a_plan(dm):
    # Given a protection group
    group = db_group(dm)
    # When the plan dialog posts its body
    status, created = dm.rest("POST", "/recovery-plans", _console_plan(group))
    # Then the plan is created with the console's fields kept
    assert status == 201, created
    _assert_console_plan(created, group)
    assert created["planName"] == "ERP DR"
    assert created["notificationEmail"] == "dr-team@example.com"
    assert created["waves"][0]["waveDescription"] == "database tier"
    assert "assumeRoleName" not in created and "accountId" not in created
    # And the console reads it back with the same fields
    _, got = dm.rest("GET", f"/recovery-plans/{created['planId']}")
    _assert_console_plan(got, group)


def test_plan_dialog_updates_a_plan(dm):
    # Given a plan created by the console
    group = db_group(dm)
    _, created = dm.rest("POST", "/recovery-plans", _console_plan(group))
    # When the dialog saves it renamed, with its version
    body = _console_plan(group, name="ERP DR v2", version=created["version"])
    status, updated = dm.rest(
        "PUT", f"/recovery-plans/{created['planId']}", body
    )
    # Then the new name is answered under both names
    assert status == 200, updated
    assert updated["name"] == updated["planName"] == "ERP DR v2"
    _assert_console_plan(updated, group)


def test_list_carries_recovery_plans_last_status_and_conflicts(dm):
    # Given two plans on one group, the second one running
    group = db_group(dm)
    _, first = dm.rest("POST", "/recovery-plans", _console_plan(group))
    _, second = dm.rest(
        "POST", "/recovery-plans", _console_plan(group, name="ERP DR 2")
    )
    dm.tables[EXECUTIONS].put_item(
        Item={
            "executionId": "e-1",
            "planId": second["planId"],
            "planName": "ERP DR 2",
            "status": "RUNNING",
            "startTime": 100,
            "waves": [{"serverIds": list(group["sourceServerIds"])}],
        }
    )
    # When the console lists the plans
    status, listed = dm.rest("GET", "/recovery-plans", groups=("DRSReadOnly",))
    # Then it reads recoveryPlans beside the seeds' plans
    assert status == 200
    assert listed["recoveryPlans"] == listed["plans"]
    assert listed["count"] == 2
    by_id = {p["planId"]: p for p in listed["recoveryPlans"]}
    for plan in by_id.values():
        _assert_console_plan(plan, group)
    # And the running plan shows its status, the other one the conflict
    running, idle = by_id[second["planId"]], by_id[first["planId"]]
    assert running["lastExecutionStatus"] == "RUNNING"
    assert running["lastExecutionId"] == "e-1"
    assert running["hasServerConflict"] is False
    assert "lastExecutionStatus" not in idle
    assert idle["hasServerConflict"] is True
    assert idle["conflictInfo"]["conflictingExecutionId"] == "e-1"
    assert sorted(idle["conflictInfo"]["conflictingServers"]) == sorted(
        group["sourceServerIds"]
    )


def test_direct_list_keeps_plans_and_count(dm):
    # Given a plan
    group = db_group(dm)
    dm.rest("POST", "/recovery-plans", _console_plan(group))
    # When a script lists plans by direct invocation
    listed = dm.direct("list_recovery_plans")
    # Then the seeds' envelope is there
    assert listed["count"] == 1 and len(listed["plans"]) == 1


def test_a_wave_of_several_groups_is_saved_and_read_back(dm):
    # Given two groups in one wave, as the wave editor sends them
    db = db_group(dm)
    app = db_group(dm, "ERP App", sourceServerIds=dm.server_ids("erp-app"))
    ids = [db["groupId"], app["groupId"]]
    servers = list(db["sourceServerIds"]) + list(app["sourceServerIds"])
    wave = _console_wave(db, protectionGroupIds=ids, serverIds=servers)
    wave.pop("protectionGroupId")
    # When the plan is posted
    status, plan = dm.rest(
        "POST", "/recovery-plans", _console_plan(db, waves=[wave])
    )
    # Then the wave keeps both groups, the first as protectionGroupId,
    # and answers the union of their servers
    assert status == 201, plan
    answered = plan["waves"][0]
    assert answered["protectionGroupIds"] == ids
    assert answered["protectionGroupId"] == db["groupId"]
    assert sorted(answered["serverIds"]) == sorted(servers)
    assert answered["serverCount"] == len(servers)
    # And a plan listing its groups' servers without one is refused
    wave["serverIds"] = servers[1:]
    status, error = dm.rest(
        "POST", "/recovery-plans", _console_plan(db, "Other", waves=[wave])
    )
    assert status == 400 and error["missingServerIds"] == servers[:1]


def test_a_wave_of_groups_in_two_regions_is_refused(dm):
    # Given two groups of one wave in different regions (the second
    # written straight to the table: DRS here has servers in one region)
    db = db_group(dm)
    west = {**db, "groupId": "pg-west", "groupName": "West"}
    west["region"] = "us-west-2"
    dm.tables["PROTECTION_GROUPS_TABLE"].put_item(Item=west)
    wave = _console_wave(
        db, protectionGroupIds=[db["groupId"], west["groupId"]]
    )
    wave.pop("serverIds")
    # When the plan is posted
    status, error = dm.rest(
        "POST", "/recovery-plans", _console_plan(db, waves=[wave])
    )
    # Then 400 names the mixed regions and nothing is stored
    assert status == 400, error
    assert error["reason"] == "MIXED_WAVE_LOCATIONS"
    assert error["field"] == "waves[0].protectionGroupIds"
    assert dm.scan("RECOVERY_PLANS_TABLE") == []


def test_a_protection_group_id_outside_the_list_is_refused(dm):
    # Given a wave naming a group apart from its protectionGroupIds
    db = db_group(dm)
    app = db_group(dm, "ERP App", sourceServerIds=dm.server_ids("erp-app"))
    wave = _console_wave(app, protectionGroupId=db["groupId"])
    wave.pop("serverIds")
    # When the plan is posted
    status, error = dm.rest(
        "POST", "/recovery-plans", _console_plan(db, waves=[wave])
    )
    # Then 400 names the field
    assert status == 400, error
    assert error["field"] == "waves[0].protectionGroupId"


def test_a_subset_of_the_group_servers_is_refused(dm):
    # Given a wave listing one of its group's two servers
    group = db_group(dm)
    wave = _console_wave(group, serverIds=group["sourceServerIds"][:1])
    # When the plan is posted
    status, error = dm.rest(
        "POST", "/recovery-plans", _console_plan(group, waves=[wave])
    )
    # Then 400 names the wave's serverIds and the missing server
    assert status == 400, error
    assert error["field"] == "waves[0].serverIds"
    assert error["missingServerIds"] == group["sourceServerIds"][1:]


def test_an_account_other_than_the_groups_is_refused(dm):
    # Given a group of the hub and a plan naming the spoke
    group = db_group(dm)
    body = _console_plan(group, accountId=SPOKE)
    # When it is posted
    status, error = dm.rest("POST", "/recovery-plans", body)
    # Then 400 names accountId
    assert (status, error["field"]) == (400, "accountId"), error


def test_a_malformed_notification_email_is_refused(dm):
    # Given a plan body whose email is not an address
    group = db_group(dm)
    body = _console_plan(group, notificationEmail="not-an-address")
    # When it is posted
    status, error = dm.rest("POST", "/recovery-plans", body)
    # Then 400 names it
    assert (status, error["field"]) == (400, "notificationEmail"), error
