"""Private IPs of recovery instances and EC2-hosted source servers.

DRS launches with the launch template's (default version's) network
interface: its static private IP when ``copyPrivateIp`` is off, the SOURCE
server's private IP when it is on. A source IP outside the template's
subnet makes the launch fail (EC2 cannot place it).
"""

import boto3
import pytest
from localcloud.scenario import ScenarioError, scenario_from_dict

from .conftest import HUB, REGION, SPOKE, region_scenario

NETWORK = {
    "vpc_cidr": "10.30.0.0/16",
    "subnets": [
        {"name": "app", "cidr": "10.30.1.0/24"},
        {"name": "other", "cidr": "10.30.2.0/24"},
    ],
}
SERVERS = [
    {
        "hostname": "app-1",
        "tags": {"Tier": "App", "CostCenter": "cc-1"},
        "subnet": "app",
        "ec2_instance": True,
    },
    {"hostname": "app-2", "subnet": "app", "private_ip": "10.30.1.10"},
    {"hostname": "stray", "subnet": "app", "private_ip": "10.30.2.40"},
]


@pytest.fixture
def sim(drs_factory):
    return drs_factory(region_scenario(SERVERS, network=NETWORK))


def _ids(sim):
    return {s.spec.hostname: s.server_id for s in sim.servers(HUB, REGION)}


def _launch(sim, server_id):
    """One drill of one server, run to its end; (launch status, log)."""
    drs = boto3.client("drs", region_name=REGION)
    job = drs.start_recovery(
        sourceServers=[{"sourceServerID": server_id}], isDrill=True
    )["job"]
    sim.clock.advance(600)
    done = drs.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"][0]
    log = drs.describe_job_log_items(jobID=job["jobID"])["items"]
    return done["participatingServers"][0], log


def _instance(instance_id):
    ec2 = boto3.client("ec2", region_name=REGION)
    reservations = ec2.describe_instances(InstanceIds=[instance_id])
    return reservations["Reservations"][0]["Instances"][0]


def _set_static_ip(template_id, ip):
    """What the orchestrator does: a new default template version."""
    ec2 = boto3.client("ec2", region_name=REGION)
    latest = ec2.describe_launch_template_versions(
        LaunchTemplateId=template_id, Versions=["$Latest"]
    )["LaunchTemplateVersions"][0]["LaunchTemplateData"]
    nic = dict(latest["NetworkInterfaces"][0], PrivateIpAddress=ip)
    version = ec2.create_launch_template_version(
        LaunchTemplateId=template_id,
        LaunchTemplateData={**latest, "NetworkInterfaces": [nic]},
    )["LaunchTemplateVersion"]["VersionNumber"]
    ec2.modify_launch_template(
        LaunchTemplateId=template_id, DefaultVersion=str(version)
    )


def test_source_ips_are_reported_given_or_derived(sim):
    # When the servers are described
    drs = boto3.client("drs", region_name=REGION)
    servers = {
        s["sourceProperties"]["identificationHints"]["hostname"]: s
        for s in drs.describe_source_servers()["items"]
    }
    # Then each reports one primary interface with its source IP
    nics = {
        name: s["sourceProperties"]["networkInterfaces"]
        for name, s in servers.items()
    }
    assert nics["app-2"][0]["ips"] == ["10.30.1.10"]
    assert nics["stray"][0]["ips"] == ["10.30.2.40"]
    # derived: first free host from .10 on in the subnet (.10 is taken)
    assert nics["app-1"][0]["ips"] == ["10.30.1.11"]
    assert all(n[0]["isPrimary"] and n[0]["macAddress"] for n in nics.values())


def test_static_template_ip_is_used_without_copy_private_ip(sim):
    # Given app-2's launch template has a static IP; copyPrivateIp is off
    sid = _ids(sim)["app-2"]
    template = sim.servers(HUB, REGION)[1].launch_template_id
    _set_static_ip(template, "10.30.1.200")
    drs = boto3.client("drs", region_name=REGION)
    config = drs.get_launch_configuration(sourceServerID=sid)
    assert config["copyPrivateIp"] is False
    # When it is launched
    server, _ = _launch(sim, sid)
    # Then the instance has the static IP, not the source IP
    assert server["launchStatus"] == "LAUNCHED"
    instance = _instance(server["recoveryInstanceID"])
    assert instance["PrivateIpAddress"] == "10.30.1.200"
    # And DRS reports it on the recovery instance, as its primary NIC's
    item = boto3.client("drs", region_name=REGION).describe_recovery_instances(
        filters={"sourceServerIDs": [sid]}
    )["items"][0]
    nics = item["recoveryInstanceProperties"]["networkInterfaces"]
    assert nics == [{"ips": ["10.30.1.200"], "isPrimary": True}]


def test_copy_private_ip_uses_the_source_ip_over_the_template(sim):
    # Given a static template IP AND copyPrivateIp on for the EC2 source
    sid = _ids(sim)["app-1"]
    template = sim.servers(HUB, REGION)[0].launch_template_id
    _set_static_ip(template, "10.30.1.201")
    drs = boto3.client("drs", region_name=REGION)
    drs.update_launch_configuration(sourceServerID=sid, copyPrivateIp=True)
    # When it is launched (its source EC2 instance keeps running)
    server, _ = _launch(sim, sid)
    # Then the recovery instance has the source's IP, in the template's
    # subnet; the source instance (twin VPC) has the same IP elsewhere
    assert server["launchStatus"] == "LAUNCHED"
    instance = _instance(server["recoveryInstanceID"])
    assert instance["PrivateIpAddress"] == "10.30.1.11"
    source = _instance(sim.servers(HUB, REGION)[0].ec2_instance_id)
    assert source["PrivateIpAddress"] == "10.30.1.11"
    assert source["SubnetId"] != instance["SubnetId"]
    assert source["VpcId"] != instance["VpcId"]


def test_copy_private_ip_outside_the_subnet_fails_the_launch(sim):
    # Given a source IP outside its launch template's subnet, copy on
    sid = _ids(sim)["stray"]
    drs = boto3.client("drs", region_name=REGION)
    drs.update_launch_configuration(sourceServerID=sid, copyPrivateIp=True)
    # When it is launched
    server, log = _launch(sim, sid)
    # Then the launch fails, says why, and leaves no recovery instance
    assert server["launchStatus"] == "FAILED"
    failed = [i for i in log if i["event"] == "LAUNCH_FAILED"]
    assert "10.30.2.40" in failed[0]["eventData"]["rawError"]
    assert "not in the launch template's subnet" in (
        failed[0]["eventData"]["rawError"]
    )
    assert drs.describe_recovery_instances()["items"] == []
    detail = drs.describe_source_servers(filters={"sourceServerIDs": [sid]})
    assert detail["items"][0]["lastLaunchResult"] == "FAILED"


def test_ec2_sources_are_tagged_instances_not_recovery_instances(sim):
    # When the servers are described
    drs = boto3.client("drs", region_name=REGION)
    hints = {
        s["sourceServerID"]: s["sourceProperties"]["identificationHints"]
        for s in drs.describe_source_servers()["items"]
    }
    ids = _ids(sim)
    # Then only the ec2_instance server reports an awsInstanceID
    assert "awsInstanceID" not in hints[ids["app-2"]]
    instance_id = hints[ids["app-1"]]["awsInstanceID"]
    # And it is a running EC2 instance tagged with the server's tags
    instance = _instance(instance_id)
    tags = {t["Key"]: t["Value"] for t in instance["Tags"]}
    assert instance["State"]["Name"] == "running"
    assert tags == {"Tier": "App", "CostCenter": "cc-1"}
    # And DRS does not count it as a recovery instance
    assert drs.describe_recovery_instances()["items"] == []


def test_reload_reuses_the_source_instance(sim):
    # Given the source instance of a loaded scenario
    before = sim.servers(HUB, REGION)[0].ec2_instance_id
    # When the simulator is reset and loaded again (moto kept)
    sim.reset()
    sim.load(scenario_from_dict(region_scenario(SERVERS, network=NETWORK)))
    # Then the same instance is reported; none was added
    assert sim.servers(HUB, REGION)[0].ec2_instance_id == before
    ec2 = boto3.client("ec2", region_name=REGION)
    running = [
        i
        for r in ec2.describe_instances()["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] == "running"
    ]
    assert [i["InstanceId"] for i in running] == [before]


def test_sample_scenario_sources_are_ec2_in_their_own_account(drs_sim):
    # Given the sample scenario (ec2_instances on both accounts)
    for account in (HUB, SPOKE):
        servers = drs_sim.servers(account, REGION)
        # Then every server replicates its own EC2 instance
        ids = {s.ec2_instance_id for s in servers}
        assert None not in ids and len(ids) == len(servers)
    from moto.ec2.models import ec2_backends

    spoke = ec2_backends[SPOKE][REGION]
    instance = drs_sim.servers(SPOKE, REGION)[0].ec2_instance_id
    assert spoke.get_instance_by_id(instance) is not None
    assert ec2_backends[HUB][REGION].get_instance_by_id(instance) is None


@pytest.mark.parametrize(
    "server, account, message",
    [
        ({"ec2_instance": "yes"}, {}, "ec2_instance: expected bool"),
        ({"private_ip": "10.1.1"}, {}, "private_ip: expected an IPv4"),
        ({}, {"ec2_instances": 1}, "ec2_instances: expected bool"),
    ],
)
def test_scenario_options_are_validated(server, account, message):
    # Given a scenario with a bad value / When loaded / Then it names it
    data = region_scenario([{"hostname": "h", **server}])
    data["accounts"][0].update(account)
    with pytest.raises(ScenarioError, match=message):
        scenario_from_dict(data)


def test_account_default_and_server_override():
    # Given ec2_instances on the account and one server opting out
    data = region_scenario(
        [{"hostname": "a"}, {"hostname": "b", "ec2_instance": False}]
    )
    data["accounts"][0]["ec2_instances"] = True
    # When loaded / Then the default applies except where overridden
    region = scenario_from_dict(data).accounts[0].regions[0]
    assert [s.ec2_instance for s in region.source_servers] == [True, False]


def test_more_servers_than_subnet_addresses_is_a_scenario_error(
    drs_factory,
):
    # Given a /28 subnet (14 hosts, 5 from .10 on) and 6 servers in it
    network = {
        "vpc_cidr": "10.31.0.0/16",
        "subnets": [{"name": "tiny", "cidr": "10.31.1.0/28"}],
    }
    servers = [{"hostname": "h-{i}", "count": 6, "subnet": "tiny"}]
    # When loaded / Then a scenario error names the subnet and the count
    with pytest.raises(ScenarioError, match=r"'tiny'.*10\.31\.1\.0/28.*6 "):
        drs_factory(region_scenario(servers, network=network))


def test_a_subnet_exactly_full_loads(drs_factory):
    # Given a /28 subnet and 5 servers (its hosts .10 to .14)
    network = {
        "vpc_cidr": "10.32.0.0/16",
        "subnets": [{"name": "tiny", "cidr": "10.32.1.0/28"}],
    }
    servers = [{"hostname": "h-{i}", "count": 5, "subnet": "tiny"}]
    # When loaded
    sim = drs_factory(region_scenario(servers, network=network))
    # Then every server has its own address
    ips = [s.private_ip for s in sim.servers(HUB, REGION)]
    assert ips == [f"10.32.1.{n}" for n in range(10, 15)]
