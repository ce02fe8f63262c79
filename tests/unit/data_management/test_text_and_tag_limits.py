"""Issue 15, defect 6 (b, d, e) on the data-management endpoints.

Tag keys/values beyond the DRS limits, NUL / control / bidi-override
characters in names and descriptions, and an object where the import
expects an id are 400 VALIDATION_ERROR naming the field (REST and
direct), and DynamoDB is left exactly as it was.
"""

import pytest

from tests.helpers import REGION
from tests.unit.data_management.conftest import SPOKE, SPOKE_ROLE, db_group

PG_TABLE = "PROTECTION_GROUPS_TABLE"
RP_TABLE = "RECOVERY_PLANS_TABLE"
BAD_TEXT = {
    "nul": "a\x00b",
    "escape": "a\x1b[31mb",
    "rlo": "invoice\u202etxt.exe",
    "isolate": "a\u2066b\u2069",
    "surrogate": "a\ud800b",
}


def _snapshot(dm):
    """Every item of every table (name claims included)."""
    return {
        env: sorted(
            table.scan(ConsistentRead=True)["Items"],
            key=lambda item: sorted((k, str(v)) for k, v in item.items()),
        )
        for env, table in dm.tables.items()
    }


def _refused(answer, field):
    """Both shapes: (status, body) from REST, or a direct error body."""
    if isinstance(answer, tuple):
        status, body = answer
    else:
        status, body = answer.get("statusCode"), answer
    assert (status, body.get("error")) == (400, "VALIDATION_ERROR"), body
    assert body["field"] == field, body
    assert len(str(body)) < 2_000, "the error echoes the oversized input"


def _both(dm, operation, method, path, body, **ids):
    """The same request through REST and direct invocation (``ids``: the
    direct body's id field, e.g. ``groupId=...``)."""
    return [
        dm.rest(method, path, body),
        dm.direct(operation, {**body, **ids}),
    ]


def _tag_group(tags):
    return {
        "groupName": "Tagged",
        "region": REGION,
        "serverSelectionTags": tags,
    }


@pytest.mark.parametrize(
    "tags",
    [
        {"k" * 100_000: "v"},
        {"k" * 129: "v"},
        {"Tier": "v" * 257},
        {f"k{i}": "v" for i in range(51)},
        {"Tier\x00": "Web"},
        {"Tier": "Web\u202e"},
    ],
    ids=["100KB-key", "129-key", "257-value", "51-tags", "nul-key", "bidi"],
)
def test_tags_beyond_drs_limits_are_refused(dm, tags):
    before = _snapshot(dm)
    for answer in _both(
        dm,
        "create_protection_group",
        "POST",
        "/protection-groups",
        _tag_group(tags),
    ):
        _refused(answer, "serverSelectionTags")
    status, body = dm.rest(
        "POST",
        "/protection-groups/resolve",
        {"region": REGION, "serverSelectionTags": tags},
    )
    _refused((status, body), "serverSelectionTags")
    assert _snapshot(dm) == before


def test_tags_at_the_drs_limits_are_accepted(dm):
    tags = {"k" * 128: "v" * 256, "Tier": ""}
    created = dm.direct("create_protection_group", _tag_group(tags))
    assert created.get("serverSelectionTags") == tags, created


@pytest.mark.parametrize("kind", sorted(BAD_TEXT))
def test_control_and_bidi_characters_in_group_text_are_refused(dm, kind):
    bad = BAD_TEXT[kind]
    group = db_group(dm)
    before = _snapshot(dm)
    base = {
        "groupName": "New",
        "region": REGION,
        "sourceServerIds": dm.server_ids("erp-app"),
    }
    for field in ("groupName", "description"):
        for answer in _both(
            dm,
            "create_protection_group",
            "POST",
            "/protection-groups",
            {**base, field: bad},
        ):
            _refused(answer, field)
        for answer in _both(
            dm,
            "update_protection_group",
            "PUT",
            f"/protection-groups/{group['groupId']}",
            {field: bad, "version": 1},
            groupId=group["groupId"],
        ):
            _refused(answer, field)
    assert _snapshot(dm) == before


@pytest.mark.parametrize("kind", sorted(BAD_TEXT))
def test_control_and_bidi_characters_in_plan_text_are_refused(dm, kind):
    bad = BAD_TEXT[kind]
    group_id = db_group(dm)["groupId"]
    wave = {"waveNumber": 1, "waveName": "DB", "protectionGroupId": group_id}
    plan = dm.direct(
        "create_recovery_plan", {"planName": "ERP", "waves": [wave]}
    )
    before = _snapshot(dm)
    base = {"planName": "Other", "waves": [wave]}
    cases = [
        ({"planName": bad}, "planName"),
        ({"description": bad}, "description"),
        ({"waves": [dict(wave, waveName=bad)]}, "waves[0].waveName"),
    ]
    for change, field in cases:
        for answer in _both(
            dm,
            "create_recovery_plan",
            "POST",
            "/recovery-plans",
            {**base, **change},
        ):
            _refused(answer, field)
        for answer in _both(
            dm,
            "update_recovery_plan",
            "PUT",
            f"/recovery-plans/{plan['planId']}",
            {**change, "version": 1},
            planId=plan["planId"],
        ):
            _refused(answer, field)
    assert _snapshot(dm) == before


def test_descriptions_may_span_lines(dm):
    created = db_group(dm, description="line one\n\tline two\r\n")
    assert created["description"] == "line one\n\tline two\r\n"


@pytest.mark.parametrize("kind", sorted(BAD_TEXT))
def test_control_and_bidi_characters_in_account_names_are_refused(dm, kind):
    bad = BAD_TEXT[kind]
    before = _snapshot(dm)
    account = {"accountId": SPOKE, "roleArn": SPOKE_ROLE}
    cases = [
        ({"accountName": bad}, "accountName"),
        (
            {
                "accountName": "portal",
                "stagingAccounts": [
                    {"accountId": "111122223333", "accountName": bad}
                ],
            },
            "stagingAccounts[0].accountName",
        ),
    ]
    for change, field in cases:
        for answer in _both(
            dm,
            "create_target_account",
            "POST",
            "/accounts/targets",
            {**account, **change},
        ):
            _refused(answer, field)
    assert _snapshot(dm) == before


@pytest.mark.parametrize(
    "schedule",
    ["cron(0 12 * * ? *\x00)", "cron(0 12 * * ? *\u202e)", 5],
    ids=["nul", "bidi", "number"],
)
def test_tag_sync_schedule_refuses_control_characters(dm, schedule):
    before = _snapshot(dm)
    answers = [
        dm.rest("PUT", "/config/tag-sync", {"schedule": schedule}),
        dm.direct("update_tag_sync_settings", {"schedule": schedule}),
    ]
    for answer in answers:
        _refused(answer, "schedule")
    assert _snapshot(dm) == before


def _manifest(dm, group_id, plan_id="m-plan"):
    return {
        "version": 1,
        "protectionGroups": [
            {
                "groupId": group_id,
                "groupName": "DB",
                "region": REGION,
                "sourceServerIds": dm.server_ids("erp-db"),
            }
        ],
        "recoveryPlans": [
            {
                "planId": plan_id,
                "planName": "DR",
                "waves": [
                    {
                        "waveNumber": 1,
                        "waveName": "db",
                        "protectionGroupId": "m-db",
                    }
                ],
            }
        ],
    }


@pytest.mark.parametrize(
    "group_id, plan_id, field",
    [
        ({"a": 1}, "m-plan", "protectionGroups[0].groupId"),
        (["m-db"], "m-plan", "protectionGroups[0].groupId"),
        ("m-db", {"a": 1}, "recoveryPlans[0].planId"),
        ("m-db\x00", "m-plan", "protectionGroups[0].groupId"),
        ("x" * 129, "m-plan", "protectionGroups[0].groupId"),
    ],
    ids=["group-object", "group-list", "plan-object", "nul", "too-long"],
)
def test_import_refuses_ids_that_are_not_text(dm, group_id, plan_id, field):
    # Given a stored group the import would match
    db_group(dm, name="Existing")
    before = _snapshot(dm)
    manifest = _manifest(dm, group_id, plan_id)
    answers = [
        dm.rest("POST", "/config/import", {"manifest": manifest}),
        dm.direct("import_configuration", {"manifest": manifest}),
        dm.direct(
            "import_configuration", {"manifest": manifest, "dryRun": True}
        ),
    ]
    for answer in answers:
        _refused(answer, field)
    assert _snapshot(dm) == before
