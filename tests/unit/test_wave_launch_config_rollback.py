"""A server whose DRS settings were updated but whose launch template
step failed is rolled back too (issue 6, item 4)."""

import boto3
import pytest
from botocore.exceptions import ClientError

from shared.launch_config import apply_launch_configs
from tests.helpers import REGION
from tests.unit.wave_engine_support import wave_engine


class FailingTemplateEc2:
    """EC2 refusing a new version of one launch template."""

    def __init__(self, client, template_id):
        self._client = client
        self._template_id = template_id

    def create_launch_template_version(self, **kwargs):
        if kwargs["LaunchTemplateId"] == self._template_id:
            raise ClientError(
                {"Error": {"Code": "UnauthorizedOperation"}},
                "CreateLaunchTemplateVersion",
            )
        return self._client.create_launch_template_version(**kwargs)

    def __getattr__(self, name):
        return getattr(self._client, name)


@pytest.fixture
def engine(monkeypatch):
    with wave_engine(monkeypatch) as eng:
        yield eng


def test_failed_template_step_rolls_back_that_servers_drs_settings(engine):
    # Given two servers and a config changing DRS settings and the template
    first, second = engine.ids("erp-app")[:2]
    drs = boto3.client("drs", region_name=REGION)
    ec2 = boto3.client("ec2", region_name=REGION)
    before = {
        sid: drs.get_launch_configuration(sourceServerID=sid)
        for sid in (first, second)
    }
    group = {
        "region": REGION,
        "launchConfig": {"copyTags": False, "instanceType": "m5.xlarge"},
    }
    # And EC2 refuses the first server's new template version
    failing = FailingTemplateEc2(ec2, before[first]["ec2LaunchTemplateID"])
    # When the config is applied
    result = apply_launch_configs(
        group, [first, second], drs_client=drs, ec2_client=failing
    )
    # Then the first server failed and the other was rolled back
    assert not result.ok and result.rolled_back
    statuses = {s["sourceServerId"]: s["status"] for s in result.servers}
    assert statuses == {first: "FAILED", second: "ROLLED_BACK"}
    assert "UnauthorizedOperation" in result.error_summary()
    # And both servers have their previous DRS settings and default version
    for sid in (first, second):
        now = drs.get_launch_configuration(sourceServerID=sid)
        for key in ("copyTags", "targetInstanceTypeRightSizingMethod"):
            assert now[key] == before[sid][key], (sid, key)
        template = ec2.describe_launch_templates(
            LaunchTemplateIds=[now["ec2LaunchTemplateID"]]
        )["LaunchTemplates"][0]
        assert template["DefaultVersionNumber"] == 1
