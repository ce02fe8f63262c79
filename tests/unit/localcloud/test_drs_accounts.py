"""Accounts: the caller's credentials choose the DRS state."""

import boto3

from .conftest import HUB, REGION, SPOKE


def _spoke_session(drs_sim):
    spoke = drs_sim.scenario.spokes[0]
    creds = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{SPOKE}:role/{spoke.cross_account_role}",
        RoleSessionName="drs-orchestration",
        ExternalId=spoke.external_id,
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )


def _hostnames(drs):
    return sorted(
        s["sourceProperties"]["identificationHints"]["hostname"]
        for s in drs.describe_source_servers()["items"]
    )


def test_hub_credentials_do_not_see_spoke_servers(drs_sim):
    # Given hub credentials
    drs = boto3.client("drs", region_name=REGION)
    # When listing source servers
    names = _hostnames(drs)
    # Then only the hub's ERP servers are visible
    assert len(names) == 8
    assert not any(n.startswith("portal") for n in names)


def test_assumed_role_credentials_see_and_launch_spoke_servers(drs_sim):
    # Given credentials from sts.assume_role into the spoke
    session = _spoke_session(drs_sim)
    drs = session.client("drs")
    # When listing and launching there
    names = _hostnames(drs)
    sid = drs.describe_source_servers()["items"][0]["sourceServerID"]
    job = drs.start_recovery(sourceServers=[{"sourceServerID": sid}])["job"]
    drs_sim.clock.advance(3600)
    instance = drs.describe_recovery_instances()["items"][0]
    # Then the spoke's servers, job and EC2 instance live in the spoke
    assert names == ["portal-web-01", "portal-web-02"]
    assert job["arn"].split(":")[4] == SPOKE
    spoke_ec2 = session.client("ec2")
    found = spoke_ec2.describe_instances(
        InstanceIds=[instance["ec2InstanceID"]]
    )["Reservations"]
    assert len(found) == 1
    # And the hub sees neither the job nor the recovery instance
    hub = boto3.client("drs", region_name=REGION)
    assert hub.describe_jobs()["items"] == []
    assert hub.describe_recovery_instances()["items"] == []
    assert drs_sim.call_count(account=SPOKE) >= 3
    assert drs_sim.call_count(account=HUB) == 2
