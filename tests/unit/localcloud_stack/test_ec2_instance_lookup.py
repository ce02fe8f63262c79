"""RunInstances in the local cloud does not copy every reservation per
instance (``localcloud.ec2_instance_lookup``)."""

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.ec2.models.instances import InstanceBackend

from localcloud import moto_patches

REGION = "us-east-1"
AMI = "ami-12c6146b"  # one of moto's own test images


@pytest.fixture
def ec2(monkeypatch):
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "true")
    moto_patches.install()
    try:
        with mock_aws():
            yield boto3.client("ec2", region_name=REGION)
    finally:
        moto_patches.uninstall()


def _copies_forbidden(monkeypatch):
    def no_copies(self, filters=None):
        raise AssertionError("every reservation copied")

    monkeypatch.setattr(InstanceBackend, "all_reservations", no_copies)


def test_instances_launch_and_terminate_without_copying_reservations(
    ec2, monkeypatch
):
    # Given a region with instances already launched
    first = ec2.run_instances(ImageId=AMI, MinCount=3, MaxCount=3)
    ids = [i["InstanceId"] for i in first["Instances"]]
    # When more are launched and one is terminated while copying every
    # reservation is forbidden (the lookup moto does per instance)
    _copies_forbidden(monkeypatch)
    more = ec2.run_instances(ImageId=AMI, MinCount=2, MaxCount=2)
    ec2.terminate_instances(InstanceIds=[ids[0]])
    # Then both calls succeeded, with EC2's answers
    assert len(more["Instances"]) == 2
    assert more["Instances"][0]["BlockDeviceMappings"], "root volume"
    monkeypatch.undo()
    state = ec2.describe_instances(InstanceIds=[ids[0]])
    found = state["Reservations"][0]["Instances"][0]
    assert found["State"]["Name"] in ("shutting-down", "terminated")


def test_an_unknown_instance_is_still_not_found(ec2, monkeypatch):
    # Given no such instance, When it is terminated
    _copies_forbidden(monkeypatch)
    with pytest.raises(ClientError) as caught:
        ec2.terminate_instances(InstanceIds=["i-0123456789abcdef0"])
    # Then EC2's error
    assert caught.value.response["Error"]["Code"] == (
        "InvalidInstanceID.NotFound"
    )
