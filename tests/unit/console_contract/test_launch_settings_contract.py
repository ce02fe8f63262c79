"""Console contract: the per-server launch settings dialog's reset,
bulk edit and change history (``deleteServerLaunchConfig``,
``bulkUpdateServerConfigs``, ``getServerConfigHistory``) and the
settings page's configuration import (``importConfiguration``)."""

import json

from tests.helpers import api_event, load_handler
from tests.unit.data_management.conftest import db_group

GROUPS = "/protection-groups"


def _override(dm, gid, sid, instance_type):
    status, body = dm.rest(
        "PUT",
        f"{GROUPS}/{gid}/servers/{sid}/launch-config",
        {
            "useGroupDefaults": False,
            "launchTemplate": {"instanceType": instance_type},
        },
    )
    assert status == 200, body
    return body


def test_dialog_save_reads_the_saved_server_and_a_message(dm):
    # Given a server of a group
    group = db_group(dm)
    gid, sid = group["groupId"], group["sourceServerIds"][0]
    # When the dialog saves its own instance type
    body = _override(dm, gid, sid, "r5.large")
    # Then it reads the server, its settings and a message to show
    assert body["sourceServerId"] == sid
    assert body["useGroupDefaults"] is False
    assert body["launchTemplate"]["instanceType"] == "r5.large"
    assert isinstance(body["message"], str) and body["message"]


def test_dialog_resets_a_server_to_the_group_defaults(dm):
    # Given a server with its own instance type
    group = db_group(dm)
    gid, sid = group["groupId"], group["sourceServerIds"][0]
    _override(dm, gid, sid, "r5.large")
    # When the dialog's "use group defaults" deletes its launch config
    status, body = dm.rest(
        "DELETE", f"{GROUPS}/{gid}/servers/{sid}/launch-config"
    )
    # Then it reads message and sourceServerId
    assert status == 200, body
    assert isinstance(body["message"], str) and body["message"]
    assert body["sourceServerId"] == sid


def test_bulk_edit_reads_counts_and_per_server_results(dm):
    # Given a group of two servers
    group = db_group(dm)
    gid, servers = group["groupId"], group["sourceServerIds"]
    # When the console applies one configuration to both
    configs = [
        {
            "serverId": sid,
            "useGroupDefaults": False,
            "launchTemplate": {"instanceType": "r5.large"},
        }
        for sid in servers
    ]
    status, body = dm.rest(
        "POST",
        f"{GROUPS}/{gid}/servers/bulk-launch-config",
        {"servers": configs},
    )
    # Then it reads the message, the counts and each server's result
    assert status == 200, body
    assert isinstance(body["message"], str)
    assert body["totalRequested"] == 2
    assert body["successCount"] == 2 and body["failureCount"] == 0
    assert [r["serverId"] for r in body["results"]] == servers
    for result in body["results"]:
        assert result["success"] is True
        assert isinstance(result["message"], str)


def test_bulk_edit_failure_is_an_error_with_a_message(dm):
    # Given a group and a server of another group
    group = db_group(dm)
    gid = group["groupId"]
    stranger = dm.server_ids("erp-web")[0]
    # When the bulk edit names a server outside the group
    status, body = dm.rest(
        "POST",
        f"{GROUPS}/{gid}/servers/bulk-launch-config",
        {"servers": [{"serverId": stranger, "useGroupDefaults": True}]},
    )
    # Then the console's error path reads message (and the results)
    assert status == 400
    assert isinstance(body["message"], str)
    assert body["results"][0]["serverId"] == stranger
    assert body["results"][0]["success"] is False
    assert isinstance(body["results"][0]["error"], str)


def test_history_reads_an_array_of_changes(dm):
    # Given two changes of a server
    group = db_group(dm)
    gid, sid = group["groupId"], group["sourceServerIds"][0]
    _override(dm, gid, sid, "r5.large")
    _override(dm, gid, sid, "r5.xlarge")
    # When the history tab asks with its date range
    day = dm.direct("get_server_audit_log", {"groupId": gid, "serverId": sid})[
        "entries"
    ][0]["timestamp"][:10]
    status, body = dm.rest(
        "GET",
        f"{GROUPS}/{gid}/servers/{sid}/audit-log",
        query={"startDate": day, "endDate": day},
        groups=("DRSReadOnly",),
    )
    # Then it reads a JSON array, oldest first, every field typed
    assert status == 200, body
    assert isinstance(body, list) and len(body) == 2
    assert body[0]["timestamp"] <= body[1]["timestamp"]
    for entry in body:
        assert isinstance(entry["timestamp"], str)
        assert entry["user"] == "tester@example.com"
        assert isinstance(entry["action"], str)
        assert entry["protectionGroupId"] == gid
        assert entry["serverId"] == sid
        for change in entry["changes"]:
            assert isinstance(change["field"], str)
            for value in (change["oldValue"], change["newValue"]):
                assert value is None or isinstance(value, str)
    assert body[1]["changes"] == [
        {
            "field": "launchTemplate.instanceType",
            "oldValue": "r5.large",
            "newValue": "r5.xlarge",
        }
    ]


def _export():
    handler = load_handler("query-handler").lambda_handler
    response = handler(api_event("GET", "/config/export"), None)
    assert response["statusCode"] == 200, response
    return json.loads(response["body"])


def _check_import_answer(body, dry_run, groups, plans):
    assert body["success"] is True and body["dryRun"] is dry_run
    assert isinstance(body["correlationId"], str) and body["correlationId"]
    for key, counts in (
        ("protectionGroups", groups),
        ("recoveryPlans", plans),
    ):
        summary = body["summary"][key]
        assert (summary["created"], summary["skipped"]) == counts
        assert summary["failed"] == 0
    for name in ("created", "skipped", "failed"):
        for item in body[name]:
            assert isinstance(item["type"], str)
            assert isinstance(item["name"], str)
            assert isinstance(item.get("details", {}), dict)
            if name != "created":
                assert isinstance(item["reason"], str)


def test_settings_page_imports_an_exported_configuration(dm):
    # Given the exported configuration of one group
    db_group(dm)
    document = _export()
    assert len(document["protectionGroups"]) == 1
    # When the settings page validates it (dryRun) as it is stored
    status, body = dm.rest(
        "POST", "/config/import", {"config": document, "dryRun": True}
    )
    # Then it reads success, dryRun, correlationId, summary and lists
    assert status == 200, body
    _check_import_answer(body, True, (0, 1), (0, 0))
    assert body["skipped"][0]["name"] == "ERP Database"
    # When a copy under another name (a tag group) is imported for real
    group = dict(document["protectionGroups"][0])
    for stored_only in ("groupId", "sourceServerIds", "servers"):
        group.pop(stored_only, None)
    group.update(groupName="ERP Database copy", serverSelectionTags={"T": "x"})
    renamed = {**document, "protectionGroups": [group]}
    status, body = dm.rest(
        "POST", "/config/import", {"config": renamed, "dryRun": False}
    )
    # Then the created group is counted and listed
    assert status == 200, body
    _check_import_answer(body, False, (1, 0), (0, 0))
    assert body["created"] == [
        {
            "type": "protectionGroup",
            "name": "ERP Database copy",
            "details": {"groupId": body["created"][0]["details"]["groupId"]},
        }
    ]
