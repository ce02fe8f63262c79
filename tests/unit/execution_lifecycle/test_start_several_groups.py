"""The start of a plan whose wave has several protection groups (issue
20): the wave's servers are the union of its groups' servers, resolved
once and recorded with the group of each; conflicts and the dry run see
the union."""

from tests.helpers import REGION

START = "execute_recovery_plan"


def _two_group_plan(lc, plan_id, db, app):
    """A plan of one wave on groups gdb and gapp."""
    lc.group("gdb", db)
    lc.group("gapp", app)
    lc.tables["RECOVERY_PLANS_TABLE"].put_item(
        Item={
            "planId": plan_id,
            "planName": f"Plan {plan_id}",
            "version": 1,
            "waves": [
                {
                    "waveNumber": 1,
                    "waveName": "ERP",
                    "protectionGroupId": "gdb",
                    "protectionGroupIds": ["gdb", "gapp"],
                    "pauseBeforeWave": False,
                }
            ],
        }
    )


def test_the_start_records_the_union_with_each_servers_group(lc):
    # Given one wave on two groups of 2 and 1 servers
    servers = lc.servers(3)
    db, app = servers[:2], servers[2:]
    _two_group_plan(lc, "p1", db, app)
    # When it is started
    answer = lc.direct(START, {"planId": "p1"})
    # Then the wave records the union, its groups and each server's group
    assert answer.get("status") == "PENDING", answer
    (wave,) = lc.record(answer["executionId"])["waves"]
    assert wave["serverIds"] == db + app
    assert wave["protectionGroupIds"] == ["gdb", "gapp"]
    assert wave["protectionGroupId"] == "gdb"
    assert wave["groupServerIds"] == {"gdb": db, "gapp": app}
    assert wave["region"] == REGION
    assert answer["waves"][0]["serverCount"] == 3


def test_a_dry_run_shows_the_groups_and_the_union(lc):
    # Given one wave on two groups
    servers = lc.servers(3)
    _two_group_plan(lc, "p1", servers[:1], servers[1:])
    # When it is dry-run
    answer = lc.direct(START, {"planId": "p1", "dryRun": True})
    # Then the report names both groups and the three servers
    (wave,) = answer["waves"]
    assert wave["protectionGroupIds"] == ["gdb", "gapp"]
    assert wave["serverIds"] == servers and wave["serverCount"] == 3
    assert answer["preflight"]["status"] in ("READY", "WARNING"), answer


def test_a_server_of_the_second_group_in_use_is_a_conflict(lc):
    # Given another plan running a server of the wave's second group
    servers = lc.servers(3)
    lc.plan("other", ("gother", servers[2:]))
    lc.start("other")
    _two_group_plan(lc, "p1", servers[:2], servers[2:])
    # When the two-group plan is started
    answer = lc.direct(START, {"planId": "p1"})
    # Then 409 SERVER_CONFLICT names that server
    assert answer["error"] == "SERVER_CONFLICT", answer
    assert answer["serverIds"] == servers[2:]
