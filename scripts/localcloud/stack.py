"""The whole local cloud in one process: ``LocalCloud``.

``LocalCloud(scenario_path=None, speed=60.0, orchestration="generic",
poll_interval=1).start()`` starts, in this process:

- moto in server mode (``ThreadedMotoServer`` on ``127.0.0.1:<port>``,
  state machines executed, Lambda without Docker);
- the local Lambda runtime (:mod:`localcloud.lambda_runtime`): moto's
  Lambda invoke runs each function from its packaged zip in workers;
- the DRS simulator with its ticker and HTTP endpoint;
- the resources of ``cfn/master-template.yaml`` and its nested stacks
  (tables, topics, roles, functions, state machine with its ASL file and
  substitutions, event rules), deployed strictly by
  :class:`localcloud.deployer.StackDeployer` — nothing is copied here;
- per spoke account of the scenario, ``cfn/cross-account-role.yaml``
  (the role trusting the hub with the scenario's ExternalId) and
  ``cfn/spoke/drs-events-forward.yaml`` (its DRS events to the hub's bus).

``progress_mode`` is the template's ``WaveProgressMode`` (``events``, the
default, or ``poll``; the environment variable
``LOCAL_CLOUD_WAVE_PROGRESS_MODE`` sets the default, e.g. to measure a
benchmark in both modes).

Then: ``env()`` (the ``export`` variables of ``local-cloud.sh``),
``client(service)`` (hub credentials), ``simulator``, ``function_names``,
``state_machine_arn``, ``reset()`` (clear tables, DRS state, executions),
``stop()``. A context manager. Worker logs: ``build/local-cloud/logs``.
"""

import logging
import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Set

import boto3

from . import event_targets, lambda_runtime, moto_patches
from .deployer import DeployedStack, StackDeployer
from .drs import DrsHttpServer, DrsSimulator, SimClock
from .resources import DeployContext
from .scenario import DEFAULT_SCENARIO, Scenario, load_scenario
from .templates import CFN_DIR, REPO_ROOT

LOG = logging.getLogger("localcloud.stack")
BUILD_DIR = REPO_ROOT / "build" / "local-cloud"
MASTER_TEMPLATE = "master-template.yaml"
SPOKE_TEMPLATE = "cross-account-role.yaml"
# Forwards the spoke's DRS events to the hub's bus (issue 18).
SPOKE_EVENTS_TEMPLATE = "spoke/drs-events-forward.yaml"
REGION = "us-east-1"
OPERATOR_USER = "local-cloud-operator"
ORCHESTRATIONS = ("generic", "legacy")
PROGRESS_MODES = ("events", "poll")
MOTO_DEFAULT_ACCOUNT = "123456789012"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def account_credentials(account: str) -> Dict[str, str]:
    """Access keys of an IAM user in ``account`` (created in moto).

    moto maps access keys to their account, so the DRS simulator, STS and
    every service see calls made with them as that account.
    """
    from moto.iam.models import iam_backends

    iam = iam_backends[account]["aws"]
    if OPERATOR_USER not in iam.users:
        iam.create_user(REGION, OPERATOR_USER)
    keys = iam.users[OPERATOR_USER].access_keys
    key = keys[0] if keys else iam.create_access_key(OPERATOR_USER)
    return {
        "AWS_ACCESS_KEY_ID": key.access_key_id,
        "AWS_SECRET_ACCESS_KEY": key.secret_access_key,
    }


class LocalCloud:
    """moto server + DRS simulator + Lambda workers + the templates."""

    def __init__(
        self,
        scenario_path: Optional[Path] = None,
        speed: float = 60.0,
        orchestration: str = "generic",
        poll_interval: int = 1,
        port: Optional[int] = None,
        cfn_dir: Path = CFN_DIR,
        build_dir: Path = BUILD_DIR,
        allow_missing_functions: bool = False,
        max_workers: int = lambda_runtime.pool.DEFAULT_MAX_WORKERS,
        progress_mode: Optional[str] = None,
    ) -> None:
        if orchestration not in ORCHESTRATIONS:
            raise ValueError(f"orchestration must be one of {ORCHESTRATIONS}")
        progress_mode = progress_mode or os.environ.get(
            "LOCAL_CLOUD_WAVE_PROGRESS_MODE", "events"
        )
        if progress_mode not in PROGRESS_MODES:
            raise ValueError(f"progress_mode must be one of {PROGRESS_MODES}")
        self.progress_mode = progress_mode
        self.scenario_path = Path(scenario_path or DEFAULT_SCENARIO)
        self.speed = float(speed)
        self.orchestration = orchestration
        self.poll_interval = int(poll_interval)
        self.port = port
        self.cfn_dir = Path(cfn_dir)
        self.build_dir = Path(build_dir)
        self.allow_missing_functions = allow_missing_functions
        self.max_workers = max_workers
        self.region = REGION
        self.api_url: Optional[str] = None  # set once a REST API is served
        self.scenario: Optional[Scenario] = None
        self._start_scenario: Optional[Scenario] = None
        self.simulator: Optional[DrsSimulator] = None
        self.runtime: Optional[lambda_runtime.LambdaRuntime] = None
        self.stack: Optional[DeployedStack] = None
        self.function_names: List[str] = []
        self.state_machine_arn: Optional[str] = None
        self.drs_url: Optional[str] = None
        self.credentials: Dict[str, str] = {}
        self._server: Any = None
        self._drs_server: Optional[DrsHttpServer] = None
        self._ctx: Optional[DeployContext] = None
        self._zips: Dict[str, Optional[bytes]] = {}
        self._work_dir: Optional[Path] = None
        self._saved_env: Dict[str, Optional[str]] = {}
        self._spokes_deployed: Set[str] = set()

    # -- lifecycle ---------------------------------------------------------
    def __enter__(self) -> "LocalCloud":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        """moto's endpoint URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def hub_account(self) -> str:
        """The scenario's hub account id."""
        return self.scenario.hub.account_id

    def start(self) -> "LocalCloud":
        """Start everything; returns self once ready."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.scenario = load_scenario(self.scenario_path)
        self._start_scenario = self.scenario
        if self.hub_account != MOTO_DEFAULT_ACCOUNT:
            # moto's Step Functions interpreter invokes Lambda with fixed
            # keys, i.e. as the default account: the hub must be it.
            raise ValueError(
                f"{self.scenario_path}: hub account {self.hub_account} must "
                f"be {MOTO_DEFAULT_ACCOUNT} (moto's default account)"
            )
        self._start_moto()
        self.credentials = account_credentials(self.hub_account)
        self._start_runtime()
        self.simulator = DrsSimulator(
            clock=SimClock(self.speed), seed=self.scenario.seed
        )
        self.simulator.load(self.scenario)
        self.simulator.start_ticker()
        self._drs_server = DrsHttpServer(self.simulator)
        self.drs_url = self._drs_server.start()
        self._deploy()
        LOG.info(
            "local cloud ready: moto %s, drs %s", self.endpoint, self.drs_url
        )

    def _start_moto(self) -> None:
        from moto.core.base_backend import BackendDict
        from moto.core.config import default_user_config
        from moto.core.model_instances import reset_model_data
        from moto.server import ThreadedMotoServer

        # One access-log line per request drowns everything else.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        # A fresh cloud: moto's state is per process, so a previous
        # LocalCloud (or mock) of this process must not leak into this one.
        BackendDict.reset()
        reset_model_data()
        # Thousands of default AMIs cost ~0.5 s per EC2 account/region
        # (start and every reset); recovery instances need none. Restored
        # by stop() so later in-process moto users get moto's default.
        self._saved_env = {
            k: os.environ.get(k)
            for k in ("MOTO_EC2_LOAD_DEFAULT_AMIS", "MOTO_PORT")
        }
        os.environ["MOTO_EC2_LOAD_DEFAULT_AMIS"] = "false"
        default_user_config["stepfunctions"]["execute_state_machine"] = True
        default_user_config["lambda"]["use_docker"] = False
        self.port = self.port or free_port()
        # moto's Step Functions interpreter calls Lambda at MOTO_PORT.
        os.environ["MOTO_PORT"] = str(self.port)
        self._server = ThreadedMotoServer(
            ip_address="127.0.0.1", port=self.port, verbose=False
        )
        self._server.start()

    def _start_runtime(self) -> None:
        # Private per instance: concurrent local clouds (two pytest runs)
        # never share zips or extracted code; removed by stop().
        self._work_dir = Path(
            tempfile.mkdtemp(prefix="run-", dir=self._mkdir())
        )
        self.runtime = lambda_runtime.LambdaRuntime(
            self._work_dir / "runtime",
            self.build_dir / "logs",
            base_env=self.function_platform_env(),
            max_workers=self.max_workers,
        )
        lambda_runtime.install(self.runtime)
        event_targets.install()
        moto_patches.install()

    def _mkdir(self) -> Path:
        self.build_dir.mkdir(parents=True, exist_ok=True)
        return self.build_dir

    def function_platform_env(self) -> Dict[str, str]:
        """What the platform gives every function (not the template)."""
        return {
            **self.credentials,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ENDPOINT_URL_DRS": self.drs_url or "",
            # No X-Ray daemon listens here (the runtime sets
            # LAMBDA_TASK_ROOT, so powertools would otherwise trace).
            "POWERTOOLS_TRACE_DISABLED": "true",
            # The workers scale botocore's retry back-off by it.
            "LOCAL_CLOUD_SPEED": str(self.speed),
        }

    def stop(self) -> None:
        """Stop workers, servers and the ticker (idempotent)."""
        if self.runtime is not None:
            lambda_runtime.uninstall()
            event_targets.uninstall()
            moto_patches.uninstall()
            self.runtime.stop()
            self.runtime = None
        if self.simulator is not None:
            self.simulator.stop_ticker()
        if self._drs_server is not None:
            self._drs_server.stop()
            self._drs_server = None
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._work_dir is not None:
            shutil.rmtree(self._work_dir, ignore_errors=True)
            self._work_dir = None
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = {}

    # -- deployment ----------------------------------------------------------
    def template_parameters(self) -> Dict[str, Any]:
        """The master template's parameters overridden locally."""
        return {
            "ProjectName": "hrp-drs-tech-adapter",
            "Environment": "dev",
            "OrchestrationImplementation": self.orchestration,
            "WavePollIntervalSeconds": self.poll_interval,
            "WaveProgressMode": self.progress_mode,
        }

    def _build_zip(self, folder: str) -> Optional[bytes]:
        if str(REPO_ROOT) not in sys.path:
            sys.path.append(str(REPO_ROOT))
        import package_lambda

        if folder not in self._zips:
            try:
                path = package_lambda.build_zip(
                    folder, self.build_dir / "zips"
                )
                self._zips[folder] = path.read_bytes()
            except package_lambda.PackagingError:
                if not self.allow_missing_functions:
                    raise
                self._zips[folder] = None
        return self._zips[folder]

    def _context(self, account: str, credentials: Dict[str, str]):
        def client(service: str) -> Any:
            return self._client(service, credentials)

        return DeployContext(
            client=client,
            account=account,
            region=self.region,
            template_dir=self.cfn_dir,
            stack_name="hrp-drs-tech-adapter-local",
            build_zip=self._build_zip,
        )

    def _deploy(self) -> None:
        # The runtime env needs the DRS URL, known only now.
        self.runtime.base_env.update(self.function_platform_env())
        self._ctx = self._context(self.hub_account, self.credentials)
        deployer = StackDeployer(self._ctx)
        self.stack = deployer.deploy(
            self.cfn_dir / MASTER_TEMPLATE, self.template_parameters()
        )
        self.function_names = [
            d.ref
            for d in self.stack.all_resources()
            if d.type == "AWS::Lambda::Function" and d.emulated
        ]
        self.state_machine_arn = self.stack.outputs.get("StateMachineArn")
        self.ensure_spoke_roles()

    def ensure_spoke_roles(self) -> None:
        """Deploy ``cross-account-role.yaml`` in each spoke account of the
        current scenario that does not have it yet."""
        for spoke in self.scenario.spokes:
            if spoke.account_id not in self._spokes_deployed:
                self._deploy_spoke(spoke)
                self._spokes_deployed.add(spoke.account_id)

    def _deploy_spoke(self, spoke: Any) -> None:
        creds = account_credentials(spoke.account_id)
        ctx = self._context(spoke.account_id, creds)
        params = {
            "HubAccountId": self.hub_account,
            "ExternalId": spoke.external_id,
        }
        if spoke.cross_account_role:
            params["CrossAccountRoleName"] = spoke.cross_account_role
        StackDeployer(ctx).deploy(
            self.cfn_dir / SPOKE_TEMPLATE, params, stack_name="spoke-role"
        )
        StackDeployer(ctx).deploy(
            self.cfn_dir / SPOKE_EVENTS_TEMPLATE,
            {"HubAccountId": self.hub_account},
            stack_name="spoke-drs-events",
        )

    # -- clients and environment --------------------------------------
    def _client(
        self, service: str, credentials: Dict[str, str], config: Any = None
    ) -> Any:
        endpoint = self.drs_url if service == "drs" else self.endpoint
        return boto3.client(
            service,
            region_name=self.region,
            endpoint_url=endpoint,
            aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
            config=config,
        )

    def client(self, service: str, config: Any = None) -> Any:
        """A boto3 client with the hub account's credentials
        (``config``: an optional ``botocore.config.Config``)."""
        return self._client(service, self.credentials, config)

    def env(self) -> Dict[str, str]:
        """The variables a client needs (``export`` lines)."""
        env = {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ENDPOINT_URL_DRS": self.drs_url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            **self.credentials,
        }
        if self.api_url:
            env["DRS_ORCH_API_URL"] = self.api_url
        return env

    # -- isolation ----------------------------------------------------
    def reset(self, scenario: Optional[Scenario] = None) -> None:
        """Fast per-test isolation: empty tables, fresh DRS state, no
        executions, no published messages. DRS loads ``scenario`` if
        given (until the next reset), else the scenario the cloud started
        with. Functions, roles and warm workers stay."""
        from .isolation import reset_cloud

        self.scenario = scenario or self._start_scenario
        reset_cloud(self)
