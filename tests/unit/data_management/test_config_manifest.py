"""shared.config_manifest: the export/import format."""

import pytest

from shared.config_manifest import (
    MANIFEST_VERSION,
    build_manifest,
    validate_manifest,
)
from shared.errors import ValidationError

GROUP = {
    "groupId": "g-1",
    "groupName": "Web",
    "groupNameLower": "web",
    "region": "us-east-1",
    "sourceServerIds": ["s-0000000000000000a"],
    "version": 4,
    "createdDate": 1,
    "createdBy": "x",
    "launchConfigStatus": {"s-0000000000000000a": {"status": "APPLIED"}},
}
PLAN = {
    "planId": "p-1",
    "planName": "DR",
    "planNameLower": "dr",
    "version": 2,
    "waves": [
        {
            "waveNumber": 1,
            "waveName": "one",
            "protectionGroupId": "g-1",
            "pauseBeforeWave": False,
            "serverCount": 3,
        }
    ],
}


def test_build_manifest_strips_bookkeeping_fields():
    # Given a stored group and plan with bookkeeping fields
    # When the manifest is built
    manifest = build_manifest([GROUP], [PLAN], exported_at="2026-01-01")
    # Then only configuration remains and it validates
    assert manifest["version"] == MANIFEST_VERSION
    assert manifest["protectionGroups"] == [
        {
            "groupId": "g-1",
            "groupName": "Web",
            "region": "us-east-1",
            "sourceServerIds": ["s-0000000000000000a"],
        }
    ]
    assert manifest["recoveryPlans"][0]["waves"] == [
        {
            "waveNumber": 1,
            "waveName": "one",
            "protectionGroupId": "g-1",
            "pauseBeforeWave": False,
        }
    ]
    assert "version" not in manifest["recoveryPlans"][0]
    assert validate_manifest(manifest) is manifest


@pytest.mark.parametrize(
    "doc, field",
    [
        ([], "manifest"),
        ({"version": 2}, "version"),
        ({"version": 1, "extra": 1}, "manifest.extra"),
        ({"version": 1, "protectionGroups": {}}, "protectionGroups"),
        ({"version": 1, "protectionGroups": [{}]}, None),
        (
            {"version": 1, "protectionGroups": [{"groupName": "a", "x": 1}]},
            "protectionGroups[0].x",
        ),
        (
            {
                "version": 1,
                "protectionGroups": [{"groupName": "a"}, {"groupName": "A"}],
            },
            "protectionGroups[1].groupName",
        ),
        (
            {"version": 1, "recoveryPlans": [{"planName": "p", "waves": []}]},
            "recoveryPlans[0].waves",
        ),
    ],
)
def test_validate_manifest_names_the_bad_field(doc, field):
    # Given a malformed manifest / When validated / Then a 400 names it
    with pytest.raises(ValidationError) as raised:
        validate_manifest(doc)
    expected = field or "protectionGroups[0].groupName"
    assert raised.value.details["field"] == expected
