"""Per-server launch configuration: reset to the group defaults (DELETE),
bulk update (validate all, then one save) and each server's audit log
(issue 20)."""

import json

from tests.helpers import api_event
from tests.unit.data_management.conftest import db_group
from tests.unit.data_management.test_group_launch_config import _sg

PG_TABLE = "PROTECTION_GROUPS_TABLE"


def _path(gid, sid=None, tail="launch-config"):
    if sid is None:
        return f"/protection-groups/{gid}/servers/bulk-launch-config"
    return f"/protection-groups/{gid}/servers/{sid}/{tail}"


def _put(dm, gid, sid, template, user="alice@example.com"):
    response = dm.handler(
        api_event(
            "PUT",
            _path(gid, sid),
            {"useGroupDefaults": False, "launchTemplate": template},
            groups=("DRSOperator",),
            user=user,
        ),
        None,
    )
    return response["statusCode"], json.loads(response["body"])


def test_delete_resets_a_server_to_the_group_defaults(dm):
    # Given a server with an override
    group = db_group(dm)
    gid, (first, second) = group["groupId"], group["sourceServerIds"]
    status, _ = _put(dm, gid, first, {"instanceType": "r5.large"})
    assert status == 200
    # When its launch config is deleted (an operator may)
    status, body = dm.rest(
        "DELETE", _path(gid, first), groups=("DRSOperator",)
    )
    # Then it uses the group defaults again, the group's next version
    assert status == 200, body
    assert body["sourceServerId"] == first
    assert "group defaults" in body["message"]
    assert body["version"] == 3
    stored = dm.item(PG_TABLE, "groupId", gid)
    assert stored["servers"] == []
    got = dm.direct(
        "get_server_launch_config", {"groupId": gid, "serverId": first}
    )
    assert got["useGroupDefaults"] is True and got["launchTemplate"] == {}
    # And deleting a server without an override changes nothing
    status, again = dm.rest("DELETE", _path(gid, second))
    assert status == 200 and again["version"] == 3
    assert "already" in again["message"]


def test_delete_refusals(dm):
    group = db_group(dm)
    gid, sid = group["groupId"], group["sourceServerIds"][0]
    other = dm.server_ids("erp-web")[0]
    # Unknown group, server not in the group: 404 NOT_FOUND
    status, body = dm.rest("DELETE", _path("no-such-group", sid))
    assert status == 404 and body["error"] == "NOT_FOUND"
    status, body = dm.rest("DELETE", _path(gid, other))
    assert status == 404 and body["error"] == "NOT_FOUND"
    # A read-only caller: 403
    status, body = dm.rest("DELETE", _path(gid, sid), groups=("DRSReadOnly",))
    assert status == 403
    # Direct invocation names the group and the server in the body
    answer = dm.direct(
        "delete_server_launch_config", {"groupId": gid, "serverId": sid}
    )
    assert answer["sourceServerId"] == sid and answer["version"] == 1


def test_bulk_saves_every_entry_in_one_version(dm):
    # Given a group of two servers and a security group of the subnet
    data = dm.subnet("data")
    sg = _sg(dm, data)
    group = db_group(dm)
    gid, (first, second) = group["groupId"], group["sourceServerIds"]
    template = {"subnetId": data, "securityGroupIds": [sg]}
    # When both get an override in one call
    status, body = dm.rest(
        "POST",
        _path(gid),
        {
            "servers": [
                {
                    "serverId": first,
                    "useGroupDefaults": False,
                    "launchTemplate": {
                        **template,
                        "staticPrivateIp": "10.10.1.60",
                    },
                },
                {"serverId": second, "useGroupDefaults": True},
            ]
        },
        groups=("DRSOperator",),
    )
    # Then both are saved in one group version
    assert status == 200, body
    assert body["totalRequested"] == body["successCount"] == 2
    assert body["failureCount"] == 0 and body["version"] == 2
    assert [r["serverId"] for r in body["results"]] == [first, second]
    assert all(r["success"] for r in body["results"])
    stored = dm.item(PG_TABLE, "groupId", gid)
    by_id = {s["sourceServerId"]: s for s in stored["servers"]}
    assert by_id[first]["launchTemplate"]["staticPrivateIp"] == "10.10.1.60"
    assert by_id[second] == {
        "sourceServerId": second,
        "useGroupDefaults": True,
    }


def test_bulk_validates_every_entry_first_and_saves_nothing(dm):
    group = db_group(dm)
    gid, (first, second) = group["groupId"], group["sourceServerIds"]
    other = dm.server_ids("erp-web")[0]
    # When one entry is malformed, one not in the group, one fine
    status, body = dm.rest(
        "POST",
        _path(gid),
        {
            "servers": [
                {"serverId": first, "launchTemplate": {"bogus": 1}},
                {"serverId": other, "useGroupDefaults": True},
                {"serverId": second, "useGroupDefaults": True},
            ]
        },
    )
    # Then a 400 reports each entry and nothing is saved
    assert status == 400, body
    assert body["error"] == "VALIDATION_ERROR"
    assert body["failureCount"] == 3 and body["successCount"] == 0
    results = body["results"]
    assert results[0]["error"] == "VALIDATION_ERROR"
    assert "servers[0].launchTemplate" in results[0]["message"]
    assert results[1]["error"] == "NOT_FOUND"
    assert results[2]["success"] is False and "error" not in results[2]
    assert dm.item(PG_TABLE, "groupId", gid)["version"] == 1
    # An EC2 refusal of the group as it would be stored names its entry
    status, body = dm.rest(
        "POST",
        _path(gid),
        {
            "servers": [
                {"serverId": first, "useGroupDefaults": True},
                {
                    "serverId": second,
                    "launchTemplate": {"subnetId": "subnet-0123456789abcdef0"},
                },
            ]
        },
    )
    assert status == 400, body
    assert body["results"][1]["error"] == "VALIDATION_ERROR"
    assert "does not exist" in body["results"][1]["message"]
    assert "error" not in body["results"][0]
    assert dm.item(PG_TABLE, "groupId", gid)["version"] == 1


def test_bulk_size_and_shape(dm):
    group = db_group(dm)
    gid, sid = group["groupId"], group["sourceServerIds"][0]
    for servers in ([], None, [{"serverId": sid}] * 201):
        status, body = dm.rest("POST", _path(gid), {"servers": servers})
        assert status == 400 and body["field"] == "servers", body
    status, body = dm.rest(
        "POST", _path(gid), {"servers": [{"serverId": sid}] * 2}
    )
    assert status == 400
    assert "listed twice" in body["results"][1]["message"]
    status, body = dm.rest(
        "POST",
        _path(gid),
        {"servers": [{"serverId": sid, "sourceServerId": "s-other"}]},
    )
    assert status == 400
    assert "sourceServerId" in body["results"][0]["message"]


def test_audit_log_records_who_changed_what(dm):
    # Given a PUT by alice, a bulk change and a reset by the tester
    group = db_group(dm)
    gid, (first, second) = group["groupId"], group["sourceServerIds"]
    _put(dm, gid, first, {"instanceType": "r5.large"})
    dm.rest(
        "POST",
        _path(gid),
        {
            "servers": [
                {
                    "serverId": first,
                    "useGroupDefaults": False,
                    "launchTemplate": {"instanceType": "r5.xlarge"},
                }
            ]
        },
    )
    dm.rest("DELETE", _path(gid, first))
    # When the server's audit log is read
    status, log = dm.rest(
        "GET", _path(gid, first, "audit-log"), groups=("DRSReadOnly",)
    )
    # Then it lists the three changes, oldest first, with the callers
    assert status == 200, log
    assert [e["action"] for e in log] == [
        "UPDATE",
        "BULK_UPDATE",
        "RESET_TO_DEFAULTS",
    ]
    assert [e["user"] for e in log] == [
        "alice@example.com",
        "tester@example.com",
        "tester@example.com",
    ]
    assert all(
        e["protectionGroupId"] == gid and e["serverId"] == first for e in log
    )
    assert {
        "field": "launchTemplate.instanceType",
        "oldValue": None,
        "newValue": "r5.large",
    } in log[0]["changes"]
    assert {
        "field": "useGroupDefaults",
        "oldValue": "true",
        "newValue": "false",
    } in log[0]["changes"]
    assert log[1]["changes"] == [
        {
            "field": "launchTemplate.instanceType",
            "oldValue": "r5.large",
            "newValue": "r5.xlarge",
        }
    ]
    assert {c["newValue"] for c in log[2]["changes"]} >= {None, "true"}
    # And the other server has no history
    status, empty = dm.rest("GET", _path(gid, second, "audit-log"))
    assert status == 200 and empty == []
    # And the audit items never show up as groups
    listed = dm.direct("list_protection_groups")
    assert [g["groupId"] for g in listed["groups"]] == [gid]
    # Direct invocation answers a dict
    answer = dm.direct(
        "get_server_audit_log", {"groupId": gid, "serverId": first}
    )
    assert answer["count"] == 3 and answer["entries"] == log


def test_audit_log_date_filter_and_refusals(dm):
    group = db_group(dm)
    gid, sid = group["groupId"], group["sourceServerIds"][0]
    _put(dm, gid, sid, {"instanceType": "r5.large"})
    stamp = dm.direct(
        "get_server_audit_log", {"groupId": gid, "serverId": sid}
    )["entries"][0]["timestamp"]
    day = stamp[:10]
    for query, count in (
        ({"startDate": day}, 1),
        ({"endDate": day}, 1),
        ({"startDate": "2999-01-01"}, 0),
        ({"endDate": "2000-01-01T00:00:00Z"}, 0),
    ):
        status, log = dm.rest("GET", _path(gid, sid, "audit-log"), query=query)
        assert status == 200 and len(log) == count, (query, log)
    status, body = dm.rest(
        "GET", _path(gid, sid, "audit-log"), query={"startDate": "soon"}
    )
    assert status == 400 and body["field"] == "startDate"
    other = dm.server_ids("erp-web")[0]
    status, body = dm.rest("GET", _path(gid, other, "audit-log"))
    assert status == 404 and body["error"] == "NOT_FOUND"
    status, body = dm.rest("GET", _path("nope", sid, "audit-log"))
    assert status == 404


def test_audit_is_bounded(dm, monkeypatch):
    import server_config_audit

    monkeypatch.setattr(server_config_audit, "MAX_ENTRIES", 3)
    group = db_group(dm)
    gid, sid = group["groupId"], group["sourceServerIds"][0]
    for size in ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge"):
        assert _put(dm, gid, sid, {"instanceType": f"r5.{size}"})[0] == 200
    _, log = dm.rest("GET", _path(gid, sid, "audit-log"))
    assert [e["changes"][-1]["newValue"] for e in log] == [
        "r5.2xlarge",
        "r5.4xlarge",
        "r5.8xlarge",
    ]


def test_bulk_and_import_by_direct_invocation(dm):
    # Given a group
    group = db_group(dm)
    gid, sid = group["groupId"], group["sourceServerIds"][0]
    # When a script sends the bulk body with the group id
    answer = dm.direct(
        "bulk_update_server_launch_config",
        {
            "groupId": gid,
            "servers": [{"serverId": sid, "useGroupDefaults": True}],
        },
    )
    # Then the same answer as REST
    assert answer["successCount"] == 1 and answer["version"] == 2, answer
    # And the import takes the console's envelope too
    manifest = {"version": 1, "protectionGroups": [], "recoveryPlans": []}
    for body in ({"config": manifest, "dryRun": True}, {"manifest": manifest}):
        result = dm.direct("import_configuration", body)
        assert result["success"] is True, result
        assert result["summary"]["protectionGroups"]["created"] == 0
    refused = dm.direct(
        "import_configuration", {"config": manifest, "manifest": {}}
    )
    assert refused["error"] == "VALIDATION_ERROR"
    assert refused["field"] == "config"


def test_bulk_entry_refusals_name_the_consoles_fields(dm):
    # Given a group and entries that fail the per-entry rules
    group = db_group(dm)
    gid, (first, _) = group["groupId"], group["sourceServerIds"]
    servers = [
        "not an object",
        {"useGroupDefaults": True},
        {"serverId": first, "useGroupDefaults": "yes"},
        {"serverId": first},
        {"serverId": first, "launchTemplate": {"copyTags": "x"}},
    ]
    # When they are posted in one bulk call
    status, body = dm.rest("POST", _path(gid), {"servers": servers})
    # Then each entry's refusal names the field as the console sent it
    assert status == 400, body
    messages = [r["message"] for r in body["results"]]
    assert messages[0] == "servers[0] must be an object"
    assert "servers[1].serverId" in messages[1]
    assert "servers[2].useGroupDefaults" in messages[2]
    assert messages[3] == f"servers[3].serverId {first} is listed twice"
    assert messages[4].startswith("servers[4].serverId")
    assert all("sourceServerId" not in m for m in messages)
