"""apply_launch_configs skips servers whose effective configuration is
already applied and whose launch template default is unchanged (issue 16
item 6). DRS and EC2 calls are counted per operation (botocore
``before-call`` events), never timed."""

import math
from collections import Counter
from decimal import Decimal

import boto3
import pytest
from botocore.exceptions import ClientError

from shared.launch_config import apply_launch_configs
from shared.launch_config_applied import config_fingerprint
from tests.helpers import REGION, create_tables, reset_shared_caches

SERVERS = 20
HUB = "123456789012"
GROUP_ID = "pg-skip"
# moto answers at most 15 launch templates per DescribeLaunchTemplates.
MOTO_TEMPLATES_PER_ANSWER = 15


def _counted(service: str, calls: Counter):
    client = boto3.client(service, region_name=REGION)

    def count(model, **_):
        calls[model.name] += 1

    client.meta.events.register(f"before-call.{service}", count)
    return client


class Cloud:
    """The simulator with ``SERVERS`` servers, the tables and counters."""

    def __init__(self, sim, tables):
        self.sim = sim
        self.groups = tables["PROTECTION_GROUPS_TABLE"]
        self.drs_calls: Counter = Counter()
        self.ec2_calls: Counter = Counter()
        self.drs = _counted("drs", self.drs_calls)
        self.ec2 = _counted("ec2", self.ec2_calls)
        self.ids = sorted(s.server_id for s in sim.servers(HUB, REGION))

    def add_group(self, **attrs):
        item = {"groupId": GROUP_ID, "groupName": GROUP_ID}
        item.update(region=REGION, accountId=HUB, version=1, **attrs)
        self.groups.put_item(Item=item)

    def set_servers(self, entries):
        """Replace the group's per-server entries (overrides)."""
        self.groups.update_item(
            Key={"groupId": GROUP_ID},
            UpdateExpression="SET servers = :s",
            ExpressionAttributeValues={":s": entries},
        )

    def group(self):
        return self.groups.get_item(Key={"groupId": GROUP_ID})["Item"]

    def apply(self):
        """Apply the stored group to every server, counters reset."""
        self.drs_calls.clear()
        self.ec2_calls.clear()
        return apply_launch_configs(
            self.group(),
            self.ids,
            drs_client=self.drs,
            ec2_client=self.ec2,
            source="recovery:exec-test",
            status_table=self.groups,
        )

    def template_of(self, server_id):
        entry = self.group()["launchConfigStatus"][server_id]
        return entry["launchTemplateId"]

    def default_version(self, template_id):
        plain = boto3.client("ec2", region_name=REGION)
        return plain.describe_launch_template_versions(
            LaunchTemplateId=template_id, Versions=["$Default"]
        )["LaunchTemplateVersions"][0]


@pytest.fixture
def cloud(monkeypatch):
    from moto import mock_aws

    from bench.scenarios import scenario_dict
    from localcloud.drs.testing import simulated_drs
    from localcloud.scenario import scenario_from_dict

    reset_shared_caches()
    with mock_aws():
        tables = create_tables(boto3.resource("dynamodb", region_name=REGION))
        scenario = scenario_from_dict(scenario_dict([SERVERS]))
        with simulated_drs(scenario, start_mock=False) as sim:
            yield Cloud(sim, tables)


def _subnet():
    ec2 = boto3.client("ec2", region_name=REGION)
    return ec2.describe_subnets()["Subnets"][0]["SubnetId"]


def _config(**extra):
    config = {"subnetId": _subnet(), "instanceType": "c5.large"}
    config.update(copyPrivateIp=False, **extra)
    return config


def test_first_apply_applies_every_server_and_records_it(cloud):
    # Given a group never applied
    cloud.add_group(launchConfig=_config())
    # When applied
    result = cloud.apply()
    # Then every server got a GetLaunchConfiguration and an update
    assert result.ok and result.to_dict()["applied"] == SERVERS
    assert cloud.drs_calls["GetLaunchConfiguration"] == SERVERS
    assert cloud.drs_calls["UpdateLaunchConfiguration"] == SERVERS
    # And each record holds the fingerprint and the default version set
    status = cloud.group()["launchConfigStatus"]
    for sid in cloud.ids:
        assert status[sid]["configHash"] == config_fingerprint(
            status[sid]["config"]
        )
        assert status[sid]["templateVersion"] == 2
        assert "unchanged" not in status[sid]


def test_second_apply_with_nothing_changed_makes_no_drs_call(cloud):
    # Given a group applied once
    cloud.add_group(launchConfig=_config())
    assert cloud.apply().ok
    # When applied again with nothing changed
    again = cloud.apply()
    # Then no DRS call at all, every server APPLIED and unchanged
    assert sum(cloud.drs_calls.values()) == 0, cloud.drs_calls
    assert again.ok and again.to_dict()["applied"] == SERVERS
    assert all(s["unchanged"] for s in again.servers)
    # And the template defaults were read in batches, no version created
    batches = math.ceil(SERVERS / MOTO_TEMPLATES_PER_ANSWER)
    assert cloud.ec2_calls == Counter({"DescribeLaunchTemplates": batches})
    # And the records keep the version in force
    status = cloud.group()["launchConfigStatus"]
    assert {status[sid]["templateVersion"] for sid in cloud.ids} == {2}
    assert all(status[sid]["unchanged"] for sid in cloud.ids)


def test_a_group_without_launch_settings_makes_no_call_at_all(cloud):
    # Given a group with no launch settings, never applied
    cloud.add_group()
    # When its servers' configuration is applied (a wave starts)
    result = cloud.apply()
    # Then no DRS or EC2 call: there is nothing to set on any server
    assert sum(cloud.drs_calls.values()) == 0, cloud.drs_calls
    assert sum(cloud.ec2_calls.values()) == 0, cloud.ec2_calls
    # And every server is reported and recorded APPLIED, unchanged
    assert result.ok and result.to_dict()["applied"] == SERVERS
    status = cloud.group()["launchConfigStatus"]
    assert {status[sid]["status"] for sid in cloud.ids} == {"APPLIED"}
    # And once settings are added, every server gets them
    cloud.groups.update_item(
        Key={"groupId": GROUP_ID},
        UpdateExpression="SET launchConfig = :c",
        ExpressionAttributeValues={":c": _config()},
    )
    assert cloud.apply().ok
    assert cloud.drs_calls["UpdateLaunchConfiguration"] == SERVERS


def test_changed_group_default_reapplies_every_server(cloud):
    # Given a group applied once
    cloud.add_group(launchConfig=_config())
    assert cloud.apply().ok
    # When its default instance type changes and it is applied again
    cloud.groups.update_item(
        Key={"groupId": GROUP_ID},
        UpdateExpression="SET launchConfig.instanceType = :t",
        ExpressionAttributeValues={":t": "m5.xlarge"},
    )
    result = cloud.apply()
    # Then every server is applied again with a new default version
    assert result.ok
    assert cloud.drs_calls["GetLaunchConfiguration"] == SERVERS
    assert not any(s.get("unchanged") for s in result.servers)
    version = cloud.default_version(cloud.template_of(cloud.ids[0]))
    assert version["VersionNumber"] == 3
    assert version["LaunchTemplateData"]["InstanceType"] == "m5.xlarge"


def test_changed_server_override_reapplies_that_server_only(cloud):
    # Given a group applied once
    cloud.add_group(launchConfig=_config())
    assert cloud.apply().ok
    # When one server gets an override of its own
    target = cloud.ids[5]
    cloud.set_servers([{"sourceServerId": target, "instanceType": "r5.large"}])
    result = cloud.apply()
    # Then only that server is applied
    assert result.ok
    assert cloud.drs_calls == Counter(
        {"GetLaunchConfiguration": 1, "UpdateLaunchConfiguration": 1}
    )
    changed = [s for s in result.servers if not s.get("unchanged")]
    assert [s["sourceServerId"] for s in changed] == [target]


def test_console_drift_of_a_default_version_reapplies_that_server(cloud):
    # Given a group applied once (each template's default is version 2)
    cloud.add_group(launchConfig=_config())
    assert cloud.apply().ok
    drifted = cloud.ids[17]
    template = cloud.template_of(drifted)
    # When someone sets that template's default back to version 1 in EC2
    boto3.client("ec2", region_name=REGION).modify_launch_template(
        LaunchTemplateId=template, DefaultVersion="1"
    )
    result = cloud.apply()
    # Then only the drifted server is applied again
    assert result.ok
    assert cloud.drs_calls["GetLaunchConfiguration"] == 1
    changed = [
        s["sourceServerId"] for s in result.servers if not s.get("unchanged")
    ]
    assert changed == [drifted]
    # And its default is our configuration again, recorded as such
    version = cloud.default_version(template)
    assert version["VersionNumber"] == 3
    assert version["LaunchTemplateData"]["InstanceType"] == "c5.large"
    status = cloud.group()["launchConfigStatus"][drifted]
    assert status["templateVersion"] == 3 and "unchanged" not in status
    # And the next apply skips it again
    cloud.apply()
    assert cloud.drs_calls["GetLaunchConfiguration"] == 0


def test_drs_only_config_is_skipped_on_its_fingerprint(cloud):
    # Given a group whose config sets DRS settings only, applied once
    cloud.add_group(launchConfig={"copyTags": True, "licensing": {}})
    assert cloud.apply().ok
    # When applied again
    again = cloud.apply()
    # Then no DRS call and no launch template read
    assert again.ok and all(s["unchanged"] for s in again.servers)
    assert sum(cloud.drs_calls.values()) == 0
    assert sum(cloud.ec2_calls.values()) == 0


def test_failed_or_rolled_back_records_are_applied_again(cloud):
    # Given records of a failed and a rolled-back apply
    cloud.add_group(launchConfig=_config())
    assert cloud.apply().ok
    failed, undone = cloud.ids[:2]
    for sid, status in ((failed, "FAILED"), (undone, "ROLLED_BACK")):
        cloud.groups.update_item(
            Key={"groupId": GROUP_ID},
            UpdateExpression="SET launchConfigStatus.#s.#st = :v",
            ExpressionAttributeNames={"#s": sid, "#st": "status"},
            ExpressionAttributeValues={":v": status},
        )
    # When applied again
    cloud.apply()
    # Then exactly those two servers are applied
    assert cloud.drs_calls["GetLaunchConfiguration"] == 2


class _RefusingEc2:
    """An EC2 client whose DescribeLaunchTemplates is refused."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        return getattr(self._client, name)

    def describe_launch_templates(self, **_):
        error = {"Error": {"Code": "UnauthorizedOperation", "Message": "no"}}
        raise ClientError(error, "DescribeLaunchTemplates")


def test_unreadable_template_defaults_apply_as_before(cloud):
    # Given a group applied once, then an EC2 that refuses the batch read
    cloud.add_group(launchConfig=_config())
    assert cloud.apply().ok
    cloud.ec2 = _RefusingEc2(cloud.ec2)
    # When applied again
    result = cloud.apply()
    # Then nothing is skipped: every server is applied (no version added)
    assert result.ok
    assert cloud.drs_calls["GetLaunchConfiguration"] == SERVERS
    assert not any(s.get("unchanged") for s in result.servers)


def test_a_failure_does_not_roll_back_skipped_servers(cloud):
    # Given a group applied once, then one server's override changed to a
    # licensing DRS cannot take (its update fails)
    cloud.add_group(launchConfig=_config())
    assert cloud.apply().ok
    target = cloud.ids[3]
    cloud.set_servers(
        [{"sourceServerId": target, "launchTemplate": {"licensing": 1}}]
    )
    # When applied again
    result = cloud.apply()
    # Then the changed server failed, the skipped ones stay APPLIED
    assert not result.ok
    assert [s["sourceServerId"] for s in result.failed] == [target]
    others = [s for s in result.servers if s["sourceServerId"] != target]
    assert {s["status"] for s in others} == {"APPLIED"}
    assert all(s["unchanged"] for s in others)


def test_fingerprint_is_stable_across_dynamodb_numbers_and_key_order():
    # Given the same config as written and as DynamoDB returns it
    written = {"instanceType": "c5.large", "copyTags": True, "n": 2}
    stored = {"n": Decimal("2"), "copyTags": True, "instanceType": "c5.large"}
    # When / Then both have one fingerprint, and a change has another
    assert config_fingerprint(written) == config_fingerprint(stored)
    assert config_fingerprint(written) != config_fingerprint(
        dict(written, instanceType="c5.xlarge")
    )
