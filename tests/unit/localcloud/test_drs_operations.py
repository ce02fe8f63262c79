"""Supported DRS operations through an unmodified boto3 client."""

import boto3
import pytest

from .conftest import HUB, REGION, region_scenario


@pytest.fixture
def drs():
    return boto3.client("drs", region_name=REGION)


def _launch(sim, drs, server_ids, **kwargs):
    job = drs.start_recovery(
        sourceServers=[{"sourceServerID": i} for i in server_ids], **kwargs
    )["job"]
    sim.clock.advance(3600)
    return job


def test_describe_source_servers_filters(drs_sim, drs):
    # Given the sample scenario's 8 hub servers
    servers = drs.describe_source_servers()["items"]
    first = servers[0]
    hardware = first["sourceProperties"]["identificationHints"]["vmWareUuid"]
    # When filtering by ids, hardware id and staging account
    by_ids = drs.describe_source_servers(
        filters={"sourceServerIDs": [first["sourceServerID"]]}
    )["items"]
    by_hw = drs.describe_source_servers(filters={"hardwareId": hardware})
    other = drs.describe_source_servers(
        filters={"stagingAccountIDs": ["999999999999"]}
    )["items"]
    mine = drs.describe_source_servers(filters={"stagingAccountIDs": [HUB]})
    # Then each filter selects what DRS would
    assert len(servers) == 8
    assert all(s["sourceServerID"].startswith("s-") for s in servers)
    assert all(len(s["sourceServerID"]) == 19 for s in servers)
    assert [s["sourceServerID"] for s in by_ids] == [first["sourceServerID"]]
    assert [s["sourceServerID"] for s in by_hw["items"]] == [
        first["sourceServerID"]
    ]
    assert other == []
    assert len(mine["items"]) == 8


def test_pagination_of_250_servers(drs_factory, drs):
    # Given 250 servers
    drs_factory(region_scenario([{"hostname": "h-{i:03d}", "count": 250}]))
    # When paging with maxResults 100 by hand and with the paginator
    first = drs.describe_source_servers(maxResults=100)
    second = drs.describe_source_servers(
        maxResults=100, nextToken=first["nextToken"]
    )
    third = drs.describe_source_servers(
        maxResults=100, nextToken=second["nextToken"]
    )
    pages = list(
        drs.get_paginator("describe_source_servers").paginate(
            PaginationConfig={"PageSize": 100}
        )
    )
    # Then pages are 100, 100, 50 without overlap
    sizes = [len(p["items"]) for p in (first, second, third)]
    assert sizes == [100, 100, 50]
    assert "nextToken" not in third
    ids = {
        s["sourceServerID"] for p in (first, second, third) for s in p["items"]
    }
    assert len(ids) == 250
    assert [len(p["items"]) for p in pages] == [100, 100, 50]


def test_bad_next_token_is_a_validation_error(drs_sim, drs):
    # When / Then a forged token is refused
    with pytest.raises(drs.exceptions.ValidationException):
        drs.describe_source_servers(nextToken="not-a-token")


def test_describe_jobs_filters_and_pagination(drs_sim, drs):
    # Given three jobs created a minute apart
    ids = [s.server_id for s in drs_sim.servers(HUB, REGION)]
    jobs = []
    for sid in ids[:3]:
        jobs.append(_launch(drs_sim, drs, [sid])["jobID"])
    created = [
        j["creationDateTime"]
        for j in drs.describe_jobs(filters={"jobIDs": jobs})["items"]
    ]
    # When filtering by id, by dates, and paging
    by_id = drs.describe_jobs(filters={"jobIDs": [jobs[1]]})["items"]
    since = drs.describe_jobs(filters={"fromDate": created[1]})["items"]
    until = drs.describe_jobs(filters={"toDate": created[0]})["items"]
    pages = list(
        drs.get_paginator("describe_jobs").paginate(
            PaginationConfig={"PageSize": 2}
        )
    )
    # Then each selects the right jobs
    assert [j["jobID"] for j in by_id] == [jobs[1]]
    assert [j["jobID"] for j in since] == jobs[1:]
    assert [j["jobID"] for j in until] == jobs[:1]
    assert [len(p["items"]) for p in pages] == [2, 1]


def test_job_log_items_paginate(drs_sim, drs):
    # Given a finished job of two servers
    ids = [s.server_id for s in drs_sim.servers(HUB, REGION)][:2]
    job = _launch(drs_sim, drs, ids)
    # When reading the log 3 items per page
    pages = list(
        drs.get_paginator("describe_job_log_items").paginate(
            jobID=job["jobID"], PaginationConfig={"PageSize": 3}
        )
    )
    events = [i["event"] for p in pages for i in p["items"]]
    # Then the whole log arrives in order
    assert all(len(p["items"]) <= 3 for p in pages)
    assert events[0] == "JOB_START" and events[-1] == "JOB_END"
    assert events.count("LAUNCH_START") == 2


def test_recovery_instances_filters_and_terminate(drs_sim, drs):
    # Given two launched servers
    ids = [s.server_id for s in drs_sim.servers(HUB, REGION)][:2]
    _launch(drs_sim, drs, ids, isDrill=True)
    instances = drs.describe_recovery_instances()["items"]
    rid = instances[0]["recoveryInstanceID"]
    sid = instances[0]["sourceServerID"]
    # When filtering and then terminating one
    by_id = drs.describe_recovery_instances(
        filters={"recoveryInstanceIDs": [rid]}
    )["items"]
    by_source = drs.describe_recovery_instances(
        filters={"sourceServerIDs": [sid]}
    )["items"]
    job = drs.terminate_recovery_instances(recoveryInstanceIDs=[rid])["job"]
    assert (job["type"], job["status"]) == ("TERMINATE", "PENDING")
    assert job["initiatedBy"] == "TERMINATE_RECOVERY_INSTANCES"
    drs_sim.clock.advance(600)
    # Then the instance is gone from DRS and terminated in EC2
    assert [i["recoveryInstanceID"] for i in by_id] == [rid]
    assert [i["sourceServerID"] for i in by_source] == [sid]
    remaining = drs.describe_recovery_instances()["items"]
    assert [i["recoveryInstanceID"] for i in remaining] != [rid]
    assert len(remaining) == 1
    done = drs.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"][0]
    assert done["status"] == "COMPLETED"
    assert done["participatingServers"][0]["launchStatus"] == "TERMINATED"
    ec2 = boto3.client("ec2", region_name=REGION)
    state = ec2.describe_instances(InstanceIds=[rid])["Reservations"][0][
        "Instances"
    ][0]["State"]["Name"]
    assert state == "terminated"
    server = drs.describe_source_servers(filters={"sourceServerIDs": [sid]})[
        "items"
    ][0]
    assert "recoveryInstanceId" not in server


def test_launch_configuration_persists_and_owns_a_template(drs_sim, drs):
    # Given a source server
    sid = drs_sim.servers(HUB, REGION)[0].server_id
    before = drs.get_launch_configuration(sourceServerID=sid)
    # When updating its launch configuration
    updated = drs.update_launch_configuration(
        sourceServerID=sid,
        copyPrivateIp=True,
        copyTags=False,
        licensing={"osByol": False},
        targetInstanceTypeRightSizingMethod="BASIC",
        launchDisposition="STOPPED",
        name="renamed",
        postLaunchEnabled=True,
    )
    after = drs.get_launch_configuration(sourceServerID=sid)
    # Then the change persists and the template exists in moto's EC2
    assert updated == {
        **after,
        "ResponseMetadata": updated["ResponseMetadata"],
    }
    assert after["copyPrivateIp"] is True and after["copyTags"] is False
    assert after["licensing"] == {"osByol": False}
    assert after["launchDisposition"] == "STOPPED"
    assert after["name"] == "renamed" and after["postLaunchEnabled"]
    assert after["targetInstanceTypeRightSizingMethod"] == "BASIC"
    template_id = before["ec2LaunchTemplateID"]
    assert after["ec2LaunchTemplateID"] == template_id
    ec2 = boto3.client("ec2", region_name=REGION)
    versions = ec2.describe_launch_template_versions(
        LaunchTemplateId=template_id
    )["LaunchTemplateVersions"]
    assert versions[0]["LaunchTemplateData"]["InstanceType"] == "r5.xlarge"
    # And DRS settings never touch the EC2 launch template (no new version)
    assert len(versions) == 1


def test_unknown_server_is_resource_not_found(drs_sim, drs):
    # When / Then
    with pytest.raises(drs.exceptions.ResourceNotFoundException):
        drs.get_launch_configuration(sourceServerID="s-00000000000000000")


def test_tags_on_servers_jobs_and_recovery_instances(drs_sim, drs):
    # Given a server, a job and a recovery instance
    server = drs.describe_source_servers()["items"][0]
    job = _launch(drs_sim, drs, [server["sourceServerID"]], tags={"k": "v"})
    instance = drs.describe_recovery_instances()["items"][0]
    arns = [server["arn"], job["arn"], instance["arn"]]
    for arn in arns:
        # When tagging and untagging by ARN
        drs.tag_resource(resourceArn=arn, tags={"Owner": "ops", "Tmp": "1"})
        drs.untag_resource(resourceArn=arn, tagKeys=["Tmp"])
        tags = drs.list_tags_for_resource(resourceArn=arn)["tags"]
        # Then the tags reflect both calls
        assert tags["Owner"] == "ops" and "Tmp" not in tags
    assert (
        drs.list_tags_for_resource(resourceArn=job["arn"])["tags"]["k"] == "v"
    )
    with pytest.raises(drs.exceptions.ResourceNotFoundException):
        drs.list_tags_for_resource(
            resourceArn="arn:aws:drs:us-east-1:123456789012:job/drsjob-x"
        )


def test_recovery_snapshots_and_replication_configuration(drs_sim, drs):
    # Given a server replicating for an hour
    sid = drs_sim.servers(HUB, REGION)[0].server_id
    drs_sim.clock.advance(3600)
    # When asking for snapshots (newest first) and replication settings
    snaps = drs.describe_recovery_snapshots(sourceServerID=sid, order="DESC")
    oldest = drs.describe_recovery_snapshots(sourceServerID=sid, order="ASC")
    config = drs.get_replication_configuration(sourceServerID=sid)
    # Then snapshots are ordered point-in-time copies of its disks
    stamps = [s["timestamp"] for s in snaps["items"]]
    assert stamps == sorted(stamps, reverse=True) and len(stamps) >= 2
    assert oldest["items"][0]["timestamp"] == stamps[-1]
    assert len(snaps["items"][0]["ebsSnapshots"]) == 2
    assert config["sourceServerID"] == sid
    assert config["replicatedDisks"][0]["isBootDisk"] is True


def test_describe_source_servers_renders_only_the_page(
    drs_sim, drs, monkeypatch
):
    # Given the sample scenario's 8 hub servers and a counted render
    from localcloud.drs.model import SourceServer

    rendered = []
    original = SourceServer.render

    def render(self, account):
        rendered.append(self.server_id)
        return original(self, account)

    monkeypatch.setattr(SourceServer, "render", render)
    # When a page of 3 is described, then the next one
    first = drs.describe_source_servers(maxResults=3)
    second = drs.describe_source_servers(
        maxResults=3, nextToken=first["nextToken"]
    )
    # Then only the servers of each page were rendered, in order
    pages = first["items"] + second["items"]
    assert rendered == [s["sourceServerID"] for s in pages]
    assert len(rendered) == 6
