"""Runtime state of the DRS simulator and its DRS-shaped rendering."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..scenario import SourceServerSpec

ACTIVE_JOB_STATUSES = ("PENDING", "STARTED")


def iso(moment: datetime | None) -> str | None:
    """DRS's ISO 8601 date-time string."""
    return moment.isoformat() if moment else None


def hex_id(*parts: Any, length: int = 17) -> str:
    """Deterministic hex id derived from ``parts``."""
    text = ":".join(str(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def arn(account: str, region: str, kind: str, ident: str) -> str:
    """DRS resource ARN."""
    return f"arn:aws:drs:{region}:{account}:{kind}/{ident}"


@dataclass
class SourceServer:
    """A source server and its launch configuration."""

    server_id: str
    arn: str
    spec: SourceServerSpec
    added: datetime
    tags: dict[str, str]
    launch_template_id: str
    subnet_id: str | None
    launch_config: dict[str, Any]
    hardware_id: str = ""
    private_ip: str = ""  # the source machine's (copyPrivateIp copies it)
    ec2_instance_id: str | None = None  # the replicated EC2 instance
    recovery_instance_id: str | None = None
    last_launch: dict[str, Any] | None = None
    last_launch_result: str = "NOT_STARTED"

    @property
    def healthy(self) -> bool:
        """Replication is CONTINUOUS and the server is ready to launch."""
        return self.spec.replication_state == "CONTINUOUS" and self.spec.ready

    def render(self, account: str) -> dict[str, Any]:
        """The ``SourceServer`` output shape."""
        spec = self.spec
        added = iso(self.added)
        hints = {
            "hostname": spec.hostname,
            "fqdn": f"{spec.hostname}.example.internal",
            "vmWareUuid": self.hardware_id,
        }
        if self.ec2_instance_id:
            hints["awsInstanceID"] = self.ec2_instance_id
        mac = hex_id("mac", self.server_id, length=12)
        return {
            "sourceServerID": self.server_id,
            "arn": self.arn,
            "tags": dict(self.tags),
            "recoveryInstanceId": self.recovery_instance_id,
            "lastLaunchResult": self.last_launch_result,
            "replicationDirection": "FAILOVER",
            "agentVersion": "4.7.0",
            "dataReplicationInfo": {
                "dataReplicationState": spec.replication_state,
                "lagDuration": "PT0S",
                "replicatedDisks": [
                    {
                        "deviceName": d.device,
                        "totalStorageBytes": d.size_gib * 2**30,
                        "replicatedStorageBytes": d.size_gib * 2**30,
                        "backloggedStorageBytes": 0,
                        "rescannedStorageBytes": 0,
                    }
                    for d in spec.disks
                ],
            },
            "lifeCycle": {
                "addedToServiceDateTime": added,
                "firstByteDateTime": added if spec.ready else None,
                "lastSeenByServiceDateTime": added,
                "lastLaunch": self.last_launch,
            },
            "sourceProperties": {
                "lastUpdatedDateTime": added,
                "recommendedInstanceType": spec.instance_type,
                "identificationHints": hints,
                "networkInterfaces": [
                    {
                        "macAddress": ":".join(
                            mac[i : i + 2] for i in range(0, 12, 2)
                        ),
                        "ips": [self.private_ip] if self.private_ip else [],
                        "isPrimary": True,
                    }
                ],
                "cpus": [{"cores": spec.cores, "modelName": "x86_64"}],
                "ramBytes": spec.ram_gib * 2**30,
                "disks": [
                    {"deviceName": d.device, "bytes": d.size_gib * 2**30}
                    for d in spec.disks
                ],
                "os": {"fullString": spec.os},
            },
            "stagingArea": {
                "status": "NOT_EXTENDED",
                "stagingAccountID": account,
            },
        }


@dataclass
class JobServer:
    """A participating server of a job."""

    server_id: str
    launch_status: str = "PENDING"
    recovery_instance_id: str | None = None
    launch_error: str | None = None  # EC2 refused the launch
    private_ip: str | None = None  # the recovery instance's

    def render(self) -> dict[str, Any]:
        """The ``ParticipatingServer`` output shape."""
        return {
            "sourceServerID": self.server_id,
            "recoveryInstanceID": self.recovery_instance_id,
            "launchStatus": self.launch_status,
        }


@dataclass
class Job:
    """A LAUNCH or TERMINATE job with its scheduled timeline."""

    job_id: str
    arn: str
    type: str
    initiated_by: str
    created: datetime
    is_drill: bool
    tags: dict[str, str]
    servers: dict[str, JobServer]
    status: str = "PENDING"
    ended: datetime | None = None
    log: list[dict[str, Any]] = field(default_factory=list)
    # (due time, sequence, action, server id or None, detail), sorted
    timeline: list[tuple[datetime, int, str, str | None, str]] = field(
        default_factory=list
    )

    @property
    def active(self) -> bool:
        """PENDING or STARTED."""
        return self.status in ACTIVE_JOB_STATUSES

    def add_log(
        self, when: datetime, event: str, **data: Any
    ) -> dict[str, Any]:
        """Append a job log item (``JobLogEvent`` + ``eventData``)."""
        item = {"logDateTime": iso(when), "event": event}
        if data:
            item["eventData"] = {
                k: v for k, v in data.items() if v is not None
            }
        self.log.append(item)
        return item

    def render(self) -> dict[str, Any]:
        """The ``Job`` output shape."""
        return {
            "jobID": self.job_id,
            "arn": self.arn,
            "type": self.type,
            "initiatedBy": self.initiated_by,
            "creationDateTime": iso(self.created),
            "endDateTime": iso(self.ended),
            "status": self.status,
            "participatingServers": [
                s.render() for s in self.servers.values()
            ],
            "tags": dict(self.tags),
        }


@dataclass
class RecoveryInstance:
    """A launched recovery instance (its id is the EC2 instance id)."""

    instance_id: str
    arn: str
    server_id: str
    job_id: str
    is_drill: bool
    launched: datetime
    tags: dict[str, str]
    state: str = "RUNNING"
    private_ip: str | None = None

    def render(self, server: SourceServer | None) -> dict[str, Any]:
        """The ``RecoveryInstance`` output shape."""
        spec = server.spec if server else None
        props = None
        if spec:
            props = {
                "lastUpdatedDateTime": iso(self.launched),
                "identificationHints": {"hostname": spec.hostname},
                "cpus": [{"cores": spec.cores, "modelName": "x86_64"}],
                "ramBytes": spec.ram_gib * 2**30,
                "os": {"fullString": spec.os},
            }
            if self.private_ip:
                # As DRS reports it: the recovery instance's primary NIC.
                props["networkInterfaces"] = [
                    {"ips": [self.private_ip], "isPrimary": True}
                ]
        return {
            "ec2InstanceID": self.instance_id,
            "ec2InstanceState": self.state,
            "jobID": self.job_id,
            "recoveryInstanceID": self.instance_id,
            "sourceServerID": self.server_id,
            "arn": self.arn,
            "tags": dict(self.tags),
            "isDrill": self.is_drill,
            "originEnvironment": "AWS",
            "pointInTimeSnapshotDateTime": iso(self.launched),
            "recoveryInstanceProperties": props,
        }


@dataclass
class RegionState:
    """All DRS state of one account in one region."""

    account: str
    region: str
    servers: dict[str, SourceServer] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)
    recovery_instances: dict[str, RecoveryInstance] = field(
        default_factory=dict
    )
    subnets: dict[str, str] = field(default_factory=dict)

    def find_by_arn(self, resource_arn: str) -> Any:
        """The server, job or recovery instance with this ARN, or None."""
        for pool in (self.servers, self.jobs, self.recovery_instances):
            for item in pool.values():
                if item.arn == resource_arn:
                    return item
        return None

    def active_jobs(self) -> list[Job]:
        """Jobs that are PENDING or STARTED."""
        return [j for j in self.jobs.values() if j.active]
