"""A stateful, protocol-faithful AWS Elastic Disaster Recovery simulator.

Public API (stable; the stack, the drill and the benchmarks use it):

- ``DrsSimulator(clock=None, seed=0)`` (``simulator.py``)
  - ``load(scenario)``: creates source servers, subnets and one EC2 launch
    template per server in moto (same process) for each account/region.
  - ``handle(operation, params, account_id, region) -> dict``: the core,
    protocol-free; raises ``DrsError(code, message, **members)``.
  - ``reset()``, ``tick()``, ``start_ticker(interval)``, ``stop_ticker()``.
  - ``events``: published launch-result events (dicts with ``account``,
    ``region``, ``source``, ``detail-type``, ``detail``, ``resources``).
  - accessors: ``servers(account, region)``, ``jobs(account, region)``,
    ``server_id(account, region, hostname)``,
    ``call_count(operation=None, account=None, region=None)`` (every call
    received, including throttled/failed ones), ``regions``, ``clock``.
- ``DrsHttpServer(simulator, host="127.0.0.1", port=0)``: ``start()`` ->
  base URL, ``stop()``; use with ``AWS_ENDPOINT_URL_DRS`` or
  ``--endpoint-url``.
- ``intercept_drs(simulator)``: context manager; boto3 ``drs`` clients
  created inside (under ``moto.mock_aws``) reach the simulator.
- ``localcloud.drs.testing.simulated_drs(scenario=None, clock=None)``:
  simulator + manual clock + ``mock_aws`` + interception (the ``drs_sim``
  fixture).
- Clocks (``clock.py``): ``SimClock(speed)`` (simulated seconds per wall
  second) and ``ManualClock(start)`` with ``advance(seconds)``; both
  ``now()`` -> aware UTC datetime.

The caller's account comes from its SigV4 access key
(``moto.iam.models.get_account_id_from``), its region from the credential
scope. Rules: a server in at most one active job (``ConflictException``),
more than 100 servers in one StartRecovery or more than 20 active jobs or
500 servers in active jobs -> ``ServiceQuotaExceededException`` (over 200,
the model's list limit -> ``ValidationException``). Unsupported operations
answer ``ValidationException`` (reason ``unknownOperation``); an account or
region the scenario does not initialize answers
``UninitializedAccountException``. Successful launches have no log event
of their own (``JobLogEvent`` has no LAUNCH_END): the participating
server becomes ``LAUNCHED`` and LAUNCH_START carries ``targetInstanceID``.

Launches use the EC2 launch template's DEFAULT version (the orchestrator
sets a new default version for its settings). Private IP: with
``copyPrivateIp`` off, the template's network interface IP (a static IP
the orchestrator set; none -> EC2 picks one); with it on, the SOURCE
server's private IP (``sourceProperties.networkInterfaces[0].ips``: the
scenario's ``private_ip``, else the first free host from ``.10`` of the
server's subnet). A source IP outside the template's subnet, or an IP EC2
reports in use, fails that server's launch (LAUNCH_FAILED with
``rawError``; no recovery instance). ``UpdateLaunchConfiguration`` never
touches the EC2 launch template.

Source EC2 instances: a server with ``ec2_instance: true`` (or in an
account with ``ec2_instances: true``) replicates a running EC2 instance in
its own account/region, tagged with the server's tags, reported as
``identificationHints.awsInstanceID``. It lives in a twin "source" VPC
(tag Name ``drs-sim-source-<vpc cidr>``) with the recovery subnet's CIDR
and the source IP, so ``copyPrivateIp`` does not clash with it. It is not
a recovery instance (no ``AWSElasticDisasterRecoveryManaged`` tag, not in
``DescribeRecoveryInstances``).
"""

from .clock import ManualClock, SimClock
from .errors import DrsError
from .http_server import DrsHttpServer
from .intercept import intercept_drs
from .simulator import DrsSimulator

__all__ = [
    "DrsError",
    "DrsHttpServer",
    "DrsSimulator",
    "ManualClock",
    "SimClock",
    "intercept_drs",
]
