"""Scenarios for the local cloud: accounts, regions, servers, faults.

``load_scenario(path)`` reads a YAML or JSON file; ``scenario_from_dict``
builds the same dataclasses from a dict. Errors name the offending key
(``ScenarioError: accounts[1].regions.us-east-1.source_servers[0]...``).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.session
import yaml

REPLICATION_STATES = (
    "STOPPED INITIATING INITIAL_SYNC BACKLOG CREATING_SNAPSHOT CONTINUOUS "
    "PAUSED RESCAN STALLED DISCONNECTED"
).split()
FAULT_TYPES = (
    "launch_failure",
    "job_failure",
    "throttle",
    "internal_error",
    "latency",
    "drop_events",
    "duplicate_events",
)
PHASES = ("start", "snapshot", "conversion", "launch", "terminate")
DEFAULT_DURATIONS = {
    "start": (5.0, 15.0),
    "snapshot": (60.0, 120.0),
    "conversion": (180.0, 360.0),
    "launch": (120.0, 240.0),
    "terminate": (30.0, 90.0),
}
DEFAULT_SCENARIO = Path(__file__).parent.parent / "scenarios/three-tier.yaml"
REGION_NAME = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
# A source server id (``s-`` + 17 hex); checked against the loaded
# servers by the simulator, hostnames here.
SERVER_ID = re.compile(r"s-[0-9a-f]{17}")
HOSTNAME_INDEX = re.compile(r"\{i(:[^{}]*)?\}")


class ScenarioError(ValueError):
    """A scenario is invalid; the message names the offending key."""


@dataclass
class Disk:
    """One source disk."""

    device: str
    size_gib: int


@dataclass
class SourceServerSpec:
    """A replicating source server as declared in a scenario."""

    hostname: str
    tags: dict[str, str] = field(default_factory=dict)
    replication_state: str = "CONTINUOUS"
    ready: bool = True
    cores: int = 2
    ram_gib: int = 8
    disks: list[Disk] = field(default_factory=list)
    os: str = "Amazon Linux 2"
    instance_type: str = "t3.medium"
    subnet: str | None = None
    # The SOURCE machine's private IP (``sourceProperties.networkInterfaces``;
    # what ``copyPrivateIp`` copies). Derived from the subnet when absent.
    private_ip: str | None = None
    # The source is an EC2 instance (created in moto, reported as
    # ``identificationHints.awsInstanceID``, tagged with ``tags``).
    ec2_instance: bool = False


@dataclass
class SubnetSpec:
    """A subnet created in moto's EC2 for launch templates."""

    name: str
    cidr: str
    availability_zone: str | None = None


@dataclass
class NetworkSpec:
    """A VPC and its subnets."""

    vpc_cidr: str
    subnets: list[SubnetSpec] = field(default_factory=list)


@dataclass
class RegionSpec:
    """DRS state of one account in one region."""

    name: str
    source_servers: list[SourceServerSpec] = field(default_factory=list)
    network: NetworkSpec | None = None


@dataclass
class AccountSpec:
    """A hub or spoke account."""

    account_id: str
    name: str
    role: str = "hub"
    cross_account_role: str | None = None
    external_id: str | None = None
    regions: list[RegionSpec] = field(default_factory=list)
    # Default of ``ec2_instance`` for this account's servers.
    ec2_instances: bool = False


@dataclass
class FaultSpec:
    """An injected fault; ``rate`` (0..1) or ``nth`` call selects when."""

    type: str
    operation: str | None = None
    server: str | None = None
    account: str | None = None
    region: str | None = None
    rate: float | None = None
    nth: int | None = None
    retry_after_seconds: int = 1
    seconds: float = 0.0


@dataclass
class Scenario:
    """A whole scenario."""

    accounts: list[AccountSpec]
    seed: int = 0
    durations: dict[str, tuple[float, float]] = field(
        default_factory=lambda: dict(DEFAULT_DURATIONS)
    )
    faults: list[FaultSpec] = field(default_factory=list)

    @property
    def hub(self) -> AccountSpec:
        """The hub account (the first one with role ``hub``)."""
        return next(a for a in self.accounts if a.role == "hub")

    @property
    def spokes(self) -> list[AccountSpec]:
        """Spoke accounts (cross-account role and ExternalId)."""
        return [a for a in self.accounts if a.role == "spoke"]


def load_scenario(path: str | Path = DEFAULT_SCENARIO) -> Scenario:
    """Load a YAML (``.yaml``/``.yml``) or JSON scenario file."""
    path = Path(path)
    text = path.read_text()
    try:
        data = (
            json.loads(text)
            if path.suffix == ".json"
            else yaml.safe_load(text)
        )
    except (ValueError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{path}: cannot parse: {exc}") from exc
    try:
        return scenario_from_dict(data)
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: {exc}") from exc


def _get(
    data: dict, key: str, where: str, kind: Any, default: Any = ...
) -> Any:
    if key not in data:
        if default is ...:
            raise ScenarioError(f"{where}.{key}: required key is missing")
        return default
    value = data[key]
    if not isinstance(value, kind) or (
        kind is not bool and isinstance(value, bool)
    ):
        raise ScenarioError(
            f"{where}.{key}: expected {_kind_name(kind)}, got "
            f"{type(value).__name__}"
        )
    return value


def _kind_name(kind: Any) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def _only(data: Any, allowed: set[str], where: str) -> dict:
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}: expected a mapping")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ScenarioError(f"{where}.{unknown[0]}: unknown key")
    return data


def scenario_from_dict(data: Any) -> Scenario:
    """Build and validate a ``Scenario`` from plain data."""
    data = _only(data, {"seed", "durations", "accounts", "faults"}, "$")
    accounts = [
        _account(a, f"accounts[{i}]")
        for i, a in enumerate(_get(data, "accounts", "$", list))
    ]
    if not accounts or not any(a.role == "hub" for a in accounts):
        raise ScenarioError("accounts: a hub account is required")
    ids = [a.account_id for a in accounts]
    if len(set(ids)) != len(ids):
        raise ScenarioError("accounts: duplicate account_id")
    durations = dict(DEFAULT_DURATIONS)
    raw = _only(
        _get(data, "durations", "$", dict, {}), set(PHASES), "durations"
    )
    for phase, value in raw.items():
        durations[phase] = _duration(value, f"durations.{phase}")
    faults = [
        _fault(f, f"faults[{i}]", accounts)
        for i, f in enumerate(_get(data, "faults", "$", list, []))
    ]
    return Scenario(
        accounts=accounts,
        seed=_get(data, "seed", "$", int, 0),
        durations=durations,
        faults=faults,
    )


def _duration(value: Any, where: str) -> tuple[float, float]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value, value]
    ok = (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, (int, float)) for v in value)
        and 0 <= value[0] <= value[1]
    )
    if not ok:
        raise ScenarioError(f"{where}: expected seconds or [min, max]")
    return float(value[0]), float(value[1])


def _account(data: Any, where: str) -> AccountSpec:
    keys = {
        "id",
        "name",
        "role",
        "cross_account_role",
        "external_id",
        "ec2_instances",
    }
    data = _only(data, keys | {"regions"}, where)
    account_id = str(_get(data, "id", where, (str, int)))
    if not re.fullmatch(r"\d{12}", account_id):
        raise ScenarioError(f"{where}.id: expected 12 digits")
    role = _get(data, "role", where, str, "hub")
    if role not in ("hub", "spoke"):
        raise ScenarioError(f"{where}.role: expected hub or spoke")
    account = AccountSpec(
        account_id=account_id,
        name=_get(data, "name", where, str),
        role=role,
        cross_account_role=_get(data, "cross_account_role", where, str, None),
        external_id=_get(data, "external_id", where, str, None),
        ec2_instances=_get(data, "ec2_instances", where, bool, False),
    )
    if role == "spoke" and not account.cross_account_role:
        raise ScenarioError(f"{where}.cross_account_role: required for spoke")
    regions = _get(data, "regions", where, dict, {})
    for name, spec in regions.items():
        if not isinstance(name, str) or not REGION_NAME.fullmatch(name):
            raise ScenarioError(
                f"{where}.regions.{name}: not an AWS region name "
                "(e.g. us-east-1)"
            )
        account.regions.append(
            _region(
                name, spec, f"{where}.regions.{name}", account.ec2_instances
            )
        )
    return account


def _region(
    name: str, data: Any, where: str, ec2_default: bool = False
) -> RegionSpec:
    data = _only(data or {}, {"source_servers", "network"}, where)
    region = RegionSpec(name=name)
    if "network" in data:
        net = _only(
            data["network"], {"vpc_cidr", "subnets"}, f"{where}.network"
        )
        region.network = NetworkSpec(
            vpc_cidr=_get(net, "vpc_cidr", f"{where}.network", str)
        )
        for i, sub in enumerate(
            _get(net, "subnets", f"{where}.network", list, [])
        ):
            w = f"{where}.network.subnets[{i}]"
            sub = _only(sub, {"name", "cidr", "availability_zone"}, w)
            region.network.subnets.append(
                SubnetSpec(
                    name=_get(sub, "name", w, str),
                    cidr=_get(sub, "cidr", w, str),
                    availability_zone=_get(
                        sub, "availability_zone", w, str, None
                    ),
                )
            )
    subnet_names = {
        s.name for s in (region.network.subnets if region.network else [])
    }
    servers = _get(data, "source_servers", where, list, [])
    for i, raw in enumerate(servers):
        region.source_servers.extend(
            _servers(
                raw, f"{where}.source_servers[{i}]", subnet_names, ec2_default
            )
        )
    return region


_SERVER_KEYS = {
    "hostname",
    "count",
    "tags",
    "replication_state",
    "ready",
    "hardware",
    "instance_type",
    "subnet",
    "private_ip",
    "ec2_instance",
}


def _servers(
    data: Any, where: str, subnets: set[str], ec2_default: bool = False
) -> list[SourceServerSpec]:
    data = _only(data, _SERVER_KEYS, where)
    hostname = _get(data, "hostname", where, str)
    count = _get(data, "count", where, int, 1)
    if count < 1:
        raise ScenarioError(f"{where}.count: expected 1 or more")
    if count > 1 and not HOSTNAME_INDEX.search(hostname):
        raise ScenarioError(
            f"{where}.hostname: needs {{i}} (e.g. web-{{i:02d}}) with count"
        )
    tags = _get(data, "tags", where, dict, {})
    if not all(isinstance(k, str) for k in tags):
        raise ScenarioError(f"{where}.tags: keys must be strings")
    if not all(isinstance(v, str) for v in tags.values()):
        raise ScenarioError(f"{where}.tags: values must be strings")
    state = _get(data, "replication_state", where, str, "CONTINUOUS")
    if state not in REPLICATION_STATES:
        raise ScenarioError(
            f"{where}.replication_state: {state!r} is not one of "
            f"{', '.join(REPLICATION_STATES)}"
        )
    subnet = _get(data, "subnet", where, str, None)
    if subnet is not None and subnet not in subnets:
        raise ScenarioError(f"{where}.subnet: no subnet named {subnet!r}")
    hw_where = f"{where}.hardware"
    hardware = _only(
        _get(data, "hardware", where, dict, {}),
        {"cores", "ram_gib", "disks", "os"},
        hw_where,
    )
    disks = []
    for i, d in enumerate(_get(hardware, "disks", hw_where, list, [])):
        d = _only(d, {"device", "size_gib"}, f"{hw_where}.disks[{i}]")
        disks.append(
            Disk(
                device=_get(d, "device", f"{hw_where}.disks[{i}]", str),
                size_gib=_get(d, "size_gib", f"{hw_where}.disks[{i}]", int),
            )
        )
    ip = _get(data, "private_ip", where, str, None)
    if count > 1 and ip:
        raise ScenarioError(f"{where}.private_ip: not allowed with count")
    if ip and not re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", ip):
        raise ScenarioError(f"{where}.private_ip: expected an IPv4 address")
    ec2 = _get(data, "ec2_instance", where, bool, ec2_default)
    try:
        names = [hostname.format(i=i) for i in range(1, count + 1)]
    except (KeyError, IndexError, ValueError) as exc:
        raise ScenarioError(f"{where}.hostname: bad pattern: {exc}") from exc
    return [
        SourceServerSpec(
            hostname=names[i - 1] if count > 1 else hostname,
            tags=dict(tags),
            replication_state=state,
            ready=_get(data, "ready", where, bool, True),
            cores=_get(hardware, "cores", hw_where, int, 2),
            ram_gib=_get(hardware, "ram_gib", hw_where, int, 8),
            disks=disks or [Disk("/dev/xvda", 50)],
            os=_get(hardware, "os", hw_where, str, "Amazon Linux 2"),
            instance_type=_get(data, "instance_type", where, str, "t3.medium"),
            subnet=subnet,
            private_ip=ip,
            ec2_instance=ec2,
        )
        for i in range(1, count + 1)
    ]


@functools.lru_cache(maxsize=1)
def drs_operations() -> frozenset[str]:
    """The operations of botocore's ``drs`` service model."""
    model = botocore.session.get_session().get_service_model("drs")
    return frozenset(model.operation_names)


def _fault(data: Any, where: str, accounts: list[AccountSpec]) -> FaultSpec:
    keys = set(FaultSpec.__dataclass_fields__)
    data = _only(data, keys, where)
    fault_type = _get(data, "type", where, str)
    if fault_type not in FAULT_TYPES:
        raise ScenarioError(
            f"{where}.type: {fault_type!r} is not one of "
            f"{', '.join(FAULT_TYPES)}"
        )
    spec = FaultSpec(
        type=fault_type,
        operation=_get(data, "operation", where, str, None),
        server=_get(data, "server", where, str, None),
        account=_get(data, "account", where, str, None),
        region=_get(data, "region", where, str, None),
        rate=_get(data, "rate", where, (int, float), None),
        nth=_get(data, "nth", where, int, None),
        retry_after_seconds=_get(data, "retry_after_seconds", where, int, 1),
        seconds=_get(data, "seconds", where, (int, float), 0.0),
    )
    if spec.rate is not None and not 0 <= spec.rate <= 1:
        raise ScenarioError(f"{where}.rate: expected 0..1")
    if spec.rate is not None and spec.nth is not None:
        raise ScenarioError(f"{where}.nth: not allowed with rate")
    if spec.nth is not None and spec.nth < 1:
        raise ScenarioError(f"{where}.nth: expected 1 or more")
    for key in ("seconds", "retry_after_seconds"):
        if getattr(spec, key) < 0:
            raise ScenarioError(f"{where}.{key}: expected 0 or more")
    if spec.operation is not None and spec.operation not in drs_operations():
        raise ScenarioError(
            f"{where}.operation: {spec.operation!r} is not a DRS operation"
        )
    if fault_type == "launch_failure" and not spec.server:
        raise ScenarioError(f"{where}.server: required for launch_failure")
    _fault_targets(spec, where, accounts)
    return spec


def _fault_targets(
    spec: FaultSpec, where: str, accounts: list[AccountSpec]
) -> None:
    """``account``, ``region`` and ``server`` name things that exist."""
    known = {a.account_id: a for a in accounts}
    if spec.account is not None and spec.account not in known:
        raise ScenarioError(f"{where}.account: no account {spec.account!r}")
    scope = [known[spec.account]] if spec.account else accounts
    regions = [
        r for a in scope for r in a.regions if spec.region in (None, r.name)
    ]
    if spec.region is not None and not regions:
        raise ScenarioError(f"{where}.region: no region {spec.region!r}")
    hostnames = {s.hostname for r in regions for s in r.source_servers}
    if spec.server is None or spec.server in hostnames:
        return
    if not SERVER_ID.fullmatch(spec.server):
        raise ScenarioError(
            f"{where}.server: no source server {spec.server!r}"
        )
