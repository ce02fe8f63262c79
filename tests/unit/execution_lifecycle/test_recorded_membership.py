"""An execution recovers the servers it validated at start (issue 15,
defect 1): a group edited while the execution is active changes nothing
for it, and the server-conflict check sees its recorded servers."""

from typing import Any, Dict, List

from tests.helpers import HUB_ACCOUNT, REGION
from tests.unit.execution_lifecycle.test_start_tag_groups import (
    tag_plan,
    tag_servers,
)

from shared.server_records import delete_execution_servers
from shared.wave_plan_store import with_planned

START = "execute_recovery_plan"


def _edit_group(lc, group_id: str, **fields: Any) -> None:
    """Replace a group's membership as PUT /protection-groups does."""
    table = lc.tables["PROTECTION_GROUPS_TABLE"]
    group = table.get_item(Key={"groupId": group_id})["Item"]
    group.pop("sourceServerIds", None)
    group.pop("serverSelectionTags", None)
    group.update(fields, version=int(group["version"]) + 1)
    table.put_item(Item=group)


def _start_wave(lc, execution_id: str, index: int) -> Dict[str, Any]:
    """The wave engine's start of wave ``index`` of a RUNNING execution."""
    import wave_recovery
    from shared.orchestration_core import build_state

    record = lc.record(execution_id)
    plan = lc.tables["RECOVERY_PLANS_TABLE"].get_item(
        Key={"planId": record["planId"]}
    )["Item"]
    state = build_state(
        {
            "executionId": execution_id,
            "plan": plan,
            "isDrill": True,
            "accountContext": record.get("accountContext"),
        }
    )
    return wave_recovery.start_wave_recovery(state, index)


def _job_servers(lc, job_id: str) -> List[str]:
    """The servers of a job, from the DRS simulator's own records."""
    jobs = lc.sim.jobs(HUB_ACCOUNT, REGION)
    (job,) = [j for j in jobs if j.job_id == job_id]
    return sorted(job.servers)


def test_an_edited_group_does_not_change_an_active_execution(lc):
    # Given plan B (two waves) started: its record holds each wave's
    # servers, and it is running before wave 2
    first, second, new = lc.servers(2), lc.servers(2, 2), lc.servers(1, 4)
    lc.plan("pb", ("g1", first), ("g2", second))
    execution_id = lc.start("pb")
    record = lc.record(execution_id)
    assert [w["serverIds"] for w in record["waves"]] == [first, second]
    lc.set_record(execution_id, status="RUNNING")
    # When wave 2's group is edited to one of its servers and a new one
    _edit_group(lc, "g2", sourceServerIds=[second[0], new[0]])
    # Then a second plan on that group is refused: its server second[0]
    # is recorded by the active execution
    lc.tables["RECOVERY_PLANS_TABLE"].put_item(
        Item={
            "planId": "pc",
            "planName": "Plan pc",
            "version": 1,
            "waves": [
                {"waveNumber": 1, "waveName": "W", "protectionGroupId": "g2"}
            ],
        }
    )
    body = lc.direct(START, {"planId": "pc"})
    assert (body["statusCode"], body["error"]) == (409, "SERVER_CONFLICT")
    assert body["serverIds"] == [second[0]]
    assert body["conflictingExecutionId"] == execution_id
    # When plan B's wave 2 starts
    state = _start_wave(lc, execution_id, 1)
    # Then DRS recovers the servers recorded at start, not the group's
    assert state["status"] == "running", state.get("error")
    assert _job_servers(lc, state["job_id"]) == sorted(second)
    wave = lc.record(execution_id)["waves"][1]
    assert sorted(s["sourceServerId"] for s in wave["servers"]) == sorted(
        second
    )
    assert wave["serverIds"] == second
    # And the group keeps the edit for later executions
    group = lc.tables["PROTECTION_GROUPS_TABLE"].get_item(
        Key={"groupId": "g2"}
    )["Item"]
    assert group["sourceServerIds"] == [second[0], new[0]]


def test_a_tag_group_recovers_what_its_tags_selected_at_start(lc):
    # Given a two-wave plan of tag groups, started while Tier=app
    # selected two servers
    web, app, later = lc.servers(1), lc.servers(2, 1), lc.servers(1, 3)
    tag_servers(lc, web, {"Tier": "web"})
    tag_servers(lc, app, {"Tier": "app"})
    tag_plan(lc, "pt", {"Tier": "web"}, {"Tier": "app"})
    execution_id = lc.start("pt")
    assert sorted(lc.record(execution_id)["waves"][1]["serverIds"]) == app
    lc.set_record(execution_id, status="RUNNING")
    # When a third server is tagged Tier=app and the group's tags change
    tag_servers(lc, later, {"Tier": "app"})
    _edit_group(lc, "tg2", serverSelectionTags={"Tier": "db"})
    # And wave 2 starts
    state = _start_wave(lc, execution_id, 1)
    # Then DRS recovers the two servers selected at start
    assert state["status"] == "running", state.get("error")
    assert _job_servers(lc, state["job_id"]) == sorted(app)


def test_a_refused_start_recovery_is_recorded_in_our_words(lc):
    # Given a running execution whose wave-1 servers are meanwhile in a
    # DRS job started outside the orchestrator
    ids = lc.servers(2)
    lc.plan("pd", ("g1", ids))
    execution_id = lc.start("pd")
    lc.set_record(execution_id, status="RUNNING")
    outside = lc.drs().start_recovery(
        isDrill=True, sourceServers=[{"sourceServerID": ids[1]}]
    )["job"]
    # When wave 1 starts
    state = _start_wave(lc, execution_id, 0)
    # Then the wave failed SERVER_CONFLICT naming the busy server, with
    # no AWS text on the record
    assert (state["status"], state["error_code"]) == (
        "failed",
        "SERVER_CONFLICT",
    )
    wave = lc.record(execution_id)["waves"][0]
    assert wave["errorCode"] == "SERVER_CONFLICT"
    assert f"server(s) {ids[1]} are already in an active DRS job" in (
        wave["error"]
    )
    assert "An error occurred" not in wave["error"]
    assert "StartRecovery operation" not in state["status_reason"]
    # And DRS has only the outside job
    jobs = lc.sim.jobs(HUB_ACCOUNT, REGION)
    assert [j.job_id for j in jobs] == [outside["jobID"]]


def test_the_planned_servers_are_kept_outside_the_item(lc):
    # Given a plan of two waves started
    first, second = lc.servers(2), lc.servers(3, 2)
    lc.plan("pe", ("g1", first), ("g2", second))
    execution_id = lc.start("pe")
    # Then the item counts each wave's parts and holds no server id
    raw = lc.raw_record(execution_id)
    assert [w.get("serverIdsParts") for w in raw["waves"]] == [1, 1]
    assert not any("serverIds" in w for w in raw["waves"])
    # And the readers see the recorded servers
    assert [w["serverIds"] for w in with_planned(raw)["waves"]] == [
        first,
        second,
    ]


def test_a_start_that_loses_the_plan_lock_leaves_no_planned_servers(
    lc, monkeypatch
):
    # Given a plan whose record write is refused (another start of the
    # plan took its lock between the checks and the write)
    import execution_start
    from shared.errors import ExecutionConflictError

    lc.plan("pf", ("g1", lc.servers(2)))

    def lost_race(record, table=None):
        assert _plan_parts(lc), "the parts are written before the record"
        raise ExecutionConflictError("plan pf already has an execution")

    monkeypatch.setattr(execution_start, "create_execution", lost_race)
    # When it is started
    body = lc.direct(START, {"planId": "pf"})
    # Then it is refused and no part of the refused execution is left
    assert (body["statusCode"], body["error"]) == (409, "EXECUTION_CONFLICT")
    assert _plan_parts(lc) == []


def test_a_wave_resolved_at_its_start_records_its_servers(lc):
    # Given a running execution whose record names no servers (a state
    # machine started without execute_recovery_plan's resolution)
    ids = lc.servers(2)
    lc.plan("pg", ("g1", ids))
    execution_id = lc.start("pg")
    waves = lc.raw_record(execution_id)["waves"]
    for wave in waves:
        wave.pop("serverIdsParts")
    delete_execution_servers(execution_id)
    lc.set_record(execution_id, status="RUNNING", waves=waves)
    # When wave 1 starts
    state = _start_wave(lc, execution_id, 0)
    # Then it resolved its group and recorded the servers outside the item
    assert state["status"] == "running", state.get("error")
    assert _job_servers(lc, state["job_id"]) == sorted(ids)
    raw = lc.raw_record(execution_id)
    assert raw["waves"][0]["serverIdsParts"] == 1
    assert "serverIds" not in raw["waves"][0]
    assert with_planned(raw)["waves"][0]["serverIds"] == ids


def _plan_parts(lc) -> List[str]:
    """The keys of every plan part in the servers table."""
    items = lc.tables["EXECUTION_SERVERS_TABLE"].scan()["Items"]
    return sorted(
        f"{i['executionId']}/{i['serverKey']}"
        for i in items
        if i["serverKey"].startswith("plan#")
    )
