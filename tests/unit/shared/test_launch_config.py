"""shared.launch_config: the one launch-config apply path."""

import boto3
import pytest

from shared.launch_config import (
    apply_launch_configs,
    drs_settings,
    template_data,
)
from tests.helpers import REGION
from tests.unit.wave_engine_support import wave_engine


def test_drs_settings_imply_right_sizing_off_and_no_ip_copy():
    # Given a config with a fixed instance type and a static IP
    config = {"instanceType": "m5.large", "staticPrivateIp": "10.0.0.5"}
    config["copyPrivateIp"] = True
    # When the DRS settings are derived
    settings = drs_settings(config)
    # Then right-sizing is off and the source IP is not copied
    assert settings == {
        "targetInstanceTypeRightSizingMethod": "NONE",
        "copyPrivateIp": False,
    }
    assert (
        drs_settings({"instanceType": "m5.large"}).get("copyPrivateIp") is None
    )


def test_template_data_overlays_network_and_profile():
    # Given the current template data with a NIC and other settings
    current = {
        "InstanceType": "t3.small",
        "NetworkInterfaces": [
            {"DeviceIndex": 0, "SubnetId": "subnet-old", "Groups": ["sg-old"]}
        ],
        "TagSpecifications": [{"ResourceType": "instance"}],
    }
    config = {
        "subnetId": "subnet-new",
        "securityGroupIds": ["sg-1", "sg-2"],
        "staticPrivateIp": "10.0.1.10",
        "instanceProfileName": "drs-profile",
    }
    # When overlaid
    data = template_data(config, current)
    # Then the NIC and profile change, the rest stays, input untouched
    assert data["NetworkInterfaces"] == [
        {
            "DeviceIndex": 0,
            "SubnetId": "subnet-new",
            "Groups": ["sg-1", "sg-2"],
            "PrivateIpAddress": "10.0.1.10",
        }
    ]
    assert data["IamInstanceProfile"] == {"Name": "drs-profile"}
    assert data["InstanceType"] == "t3.small"
    assert data["TagSpecifications"] == current["TagSpecifications"]
    assert current["NetworkInterfaces"][0]["SubnetId"] == "subnet-old"


@pytest.fixture
def engine(monkeypatch):
    with wave_engine(monkeypatch) as eng:
        yield eng


def test_apply_sets_a_new_default_version_per_server(engine):
    # Given a group with network settings and a per-server static IP
    ec2 = boto3.client("ec2", region_name=REGION)
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    sid, other = engine.ids("erp-web")[:2]
    group = {
        "region": REGION,
        "launchConfig": {
            "subnetId": subnet,
            "securityGroupIds": ["sg-12345678"],
            "instanceProfileName": "drs-recovered",
        },
        "servers": [{"sourceServerId": sid, "staticPrivateIp": "10.10.3.50"}],
    }
    # When applied to two servers
    result = apply_launch_configs(group, [sid, other])
    # Then both are APPLIED with a new default template version
    assert result.ok and result.to_dict()["applied"] == 2
    drs = boto3.client("drs", region_name=REGION)
    for server, ip in ((sid, "10.10.3.50"), (other, None)):
        template_id = drs.get_launch_configuration(sourceServerID=server)[
            "ec2LaunchTemplateID"
        ]
        version = ec2.describe_launch_template_versions(
            LaunchTemplateId=template_id, Versions=["$Default"]
        )["LaunchTemplateVersions"][0]
        nic = version["LaunchTemplateData"]["NetworkInterfaces"][0]
        assert version["VersionNumber"] == 2
        assert nic["SubnetId"] == subnet and nic["Groups"] == ["sg-12345678"]
        assert nic.get("PrivateIpAddress") == ip
        profile = version["LaunchTemplateData"]["IamInstanceProfile"]
        assert profile == {"Name": "drs-recovered"}
    assert drs.get_launch_configuration(sourceServerID=sid)[
        "copyPrivateIp"
    ] is (False)


def test_applying_the_same_config_twice_adds_no_version(engine):
    # Given a config already applied
    sid = engine.ids("erp-web")[0]
    group = {"region": REGION, "launchConfig": {"instanceType": "c5.large"}}
    apply_launch_configs(group, [sid])
    # When applied again
    again = apply_launch_configs(group, [sid])
    # Then nothing new is created
    assert again.ok
    assert "launchTemplateVersion" not in again.servers[0]
