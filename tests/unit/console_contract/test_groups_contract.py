"""Console contract: the protection group screens and the tag preview."""

from tests.helpers import REGION


def _console_group(dm, name="ERP Database", **extra):
    """Create a group with the body the group dialog sends."""
    body = {
        "groupName": name,
        "description": "",
        "region": REGION,
        "sourceServerIds": dm.server_ids("erp-db"),
        **extra,
    }
    status, created = dm.rest("POST", "/protection-groups", body)
    assert status == 201, created
    return created


def test_every_group_answer_carries_protection_group_id(dm):
    # When the console creates a group, reads it, lists and updates it
    created = _console_group(dm)
    group_id = created["groupId"]
    _, got = dm.rest("GET", f"/protection-groups/{group_id}")
    _, listed = dm.rest("GET", "/protection-groups")
    status, updated = dm.rest(
        "PUT",
        f"/protection-groups/{group_id}",
        {"description": "db tier", "version": created["version"]},
    )
    # Then each answer names the group by protectionGroupId too
    assert status == 200, updated
    answers = [created, got, updated, *listed["groups"]]
    for answer in answers:
        assert answer["protectionGroupId"] == answer["groupId"] == group_id
    # And the other fields the console reads are there
    for answer in answers:
        assert answer["groupName"] == "ERP Database"
        assert answer["region"] == REGION
        assert isinstance(answer["createdDate"], int)
        assert isinstance(answer["lastModifiedDate"], int)
        assert isinstance(answer["version"], int)
        assert len(answer["sourceServerIds"]) == 2
    assert listed["count"] == 1


def test_tag_preview_sends_tags_and_reads_resolved_servers(dm):
    # When the tag preview posts {region, tags} as the console does
    status, answer = dm.rest(
        "POST",
        "/protection-groups/resolve",
        {"region": REGION, "tags": {"Tier": "Web", "Application": "erp"}},
        groups=("DRSReadOnly",),
    )
    # Then it reads the matching servers under resolvedServers
    assert status == 200, answer
    resolved = answer["resolvedServers"]
    assert sorted(s["hostname"] for s in resolved) == [
        "erp-web-01",
        "erp-web-02",
        "erp-web-03",
    ]
    for server in resolved:
        assert server["sourceServerID"].startswith("s-")
        assert server["replicationState"] == "CONTINUOUS"
        assert server["tags"]["Tier"] == "Web"
    assert answer["serverCount"] == 3 and answer["region"] == REGION
    assert answer["tags"] == {"Tier": "Web", "Application": "erp"}
    assert isinstance(answer["resolvedAt"], int)
    # And the seeds' names answer the same servers
    assert answer["servers"] == resolved


def test_tag_preview_refuses_two_different_tag_sets(dm):
    # When both names are sent with different tags
    status, error = dm.rest(
        "POST",
        "/protection-groups/resolve",
        {
            "region": REGION,
            "tags": {"Tier": "Web"},
            "serverSelectionTags": {"Tier": "Db"},
        },
    )
    # Then 400 names the field
    assert (status, error["field"]) == (400, "tags"), error


def test_per_server_overrides_keep_the_console_fields(dm):
    # Given the per-server entry the server dialog sends
    server_id = dm.server_ids("erp-db")[0]
    entry = {
        "sourceServerId": server_id,
        "instanceId": "i-0123456789abcdef0",
        "instanceName": "erp-db-01",
        "tags": {"Name": "erp-db-01"},
        "useGroupDefaults": False,
        "launchTemplate": {"instanceType": "r5.large"},
    }
    # When a group is created with it
    created = _console_group(dm, servers=[entry])
    # Then it is accepted and read back as sent
    _, got = dm.rest("GET", f"/protection-groups/{created['groupId']}")
    assert got["servers"] == [entry]


def test_a_malformed_console_server_field_is_refused(dm):
    # When the instance id is not an EC2 instance id
    status, error = dm.rest(
        "POST",
        "/protection-groups",
        {
            "groupName": "Bad",
            "region": REGION,
            "sourceServerIds": dm.server_ids("erp-db"),
            "servers": [
                {
                    "sourceServerId": dm.server_ids("erp-db")[0],
                    "instanceId": "not-an-instance",
                }
            ],
        },
    )
    # Then 400 names it
    assert status == 400
    assert error["field"] == "servers[0].instanceId", error
