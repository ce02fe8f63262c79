"""Worker pools: each function's packaged zip served by its own processes.

``LambdaRuntime.invoke(spec, payload)`` runs one invocation in a worker of
the function (``worker.py`` in a subprocess, reused while warm). A pool per
function grows on demand up to ``max_workers`` so nested and concurrent
invocations (orchestration -> execution-handler -> query-handler, Step
Functions polls) never deadlock. The function's timeout is enforced: the
worker is killed and the caller gets ``Task timed out after N seconds``.
"""

import hashlib
import io
import json
import os
import select
import shutil
import subprocess  # nosec B404
import sys
import threading
import time
import uuid
import zipfile
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Deque, Dict, List, Optional, Tuple

from .layer import build_runtime_layer

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
DEFAULT_MAX_WORKERS = 8
# At the cap, an invocation waits this long for a free worker, then is
# throttled (TooManyRequestsException, as at Lambda's concurrency limit)
# rather than waiting forever: nested chains deeper than the cap fail
# fast instead of deadlocking until their timeout.
DEFAULT_QUEUE_SECONDS = 5.0
# ``Event`` invocations are Lambda's asynchronous queue: each waits for a
# worker (never dropped, as Lambda retries a throttled one) and at most
# half the workers run them, and a waiting synchronous call goes first,
# so a burst of events (a wave's launch results) never starves a poll.
# Variables a worker inherits from the host (everything else is declared).
HOST_VARIABLES = ("PATH", "LANG", "SYSTEMROOT")


@dataclass(frozen=True)
class FunctionSpec:
    """What the runtime needs of a function (as Lambda stores it)."""

    name: str
    arn: str
    handler: str
    zip_bytes: bytes = field(repr=False)
    environment: Dict[str, str] = field(default_factory=dict)
    timeout: float = 3.0
    memory: int = 128
    version: str = "$LATEST"

    @property
    def code_sha(self) -> str:
        """SHA-256 of the zip (the code identity)."""
        return hashlib.sha256(self.zip_bytes).hexdigest()

    @property
    def key(self) -> Tuple:
        """Identity of a pool: a changed function gets fresh workers."""
        env = tuple(sorted(self.environment.items()))
        return (self.arn, self.code_sha, self.handler, self.timeout, env)


@dataclass
class InvokeResult:
    """Payload bytes and whether it is a Lambda error payload."""

    payload: bytes
    function_error: bool = False

    def json(self):
        """The decoded payload."""
        return json.loads(self.payload) if self.payload else None


class Throttled(Exception):
    """Every worker of the function stayed busy until the deadline."""


class _WorkerGone(Exception):
    pass


def _error(error_type: str, message: str) -> InvokeResult:
    body = {"errorMessage": message, "errorType": error_type}
    body["stackTrace"] = []
    return InvokeResult(json.dumps(body).encode(), True)


class Worker:
    """One long-lived process serving one function."""

    def __init__(
        self, argv: List[str], env: Dict[str, str], cwd: str, log: Path
    ) -> None:
        with open(log, "ab") as log_file:
            self.proc = subprocess.Popen(  # nosec B603
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log_file,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )

    def call(self, request: dict, timeout: float) -> dict:
        """Send one request; its response, or raise on timeout/exit."""
        try:
            self.proc.stdin.write(json.dumps(request).encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise _WorkerGone() from None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            raise TimeoutError()
        line = self.proc.stdout.readline()
        if not line:
            raise _WorkerGone()
        return json.loads(line)

    def alive(self) -> bool:
        """True while the process runs."""
        return self.proc.poll() is None

    def exit_code(self) -> Optional[int]:
        """The exit status once the process is gone."""
        try:
            return self.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """Stop the process now (timeouts, shutdown)."""
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover
            pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:  # pragma: no cover
                pass


class WorkerPool:
    """The warm workers of one function version."""

    def __init__(
        self,
        spec: FunctionSpec,
        code_dir: Path,
        env: Dict[str, str],
        argv: List[str],
        log: Path,
        max_workers: int,
        queue_seconds: float = DEFAULT_QUEUE_SECONDS,
    ) -> None:
        self.spec = spec
        self.queue_seconds = queue_seconds
        self.code_dir = code_dir
        self.env = env
        self.argv = argv
        self.log = log
        self.max_workers = max_workers
        self._idle: List[Worker] = []
        self._all: List[Worker] = []
        self._cond = threading.Condition()
        self._closed = False
        self._sync_waiting = 0
        self._events: Deque[bytes] = deque()
        self._dispatchers = 0
        self.max_dispatchers = max(1, max_workers // 2)

    def _acquire(self, deadline: Optional[float]) -> Worker:
        """A worker; ``deadline`` None: an event's, which waits as long
        as it takes but lets every waiting synchronous call go first."""
        background = deadline is None
        with self._cond:
            if not background:
                self._sync_waiting += 1
            try:
                return self._take(deadline)
            finally:
                if not background:
                    self._sync_waiting -= 1

    def _take(self, deadline: Optional[float]) -> Worker:
        while True:
            if self._closed:
                raise Throttled(f"{self.spec.name} is shutting down")
            yields = deadline is None and self._sync_waiting > 0
            if self._idle and not yields:
                return self._idle.pop()
            if len(self._all) < self.max_workers and not yields:
                worker = Worker(
                    self.argv, self.env, str(self.code_dir), self.log
                )
                self._all.append(worker)
                return worker
            if deadline is None:
                self._cond.wait()
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Throttled(
                    f"all {self.max_workers} workers of "
                    f"{self.spec.name} are busy"
                )
            self._cond.wait(remaining)

    def submit(self, payload: bytes) -> Optional[threading.Thread]:
        """Queue an ``Event`` invocation; the dispatcher thread to start
        when one more may run (None: a running one takes it)."""
        with self._cond:
            if self._closed:
                return None
            self._events.append(payload)
            if self._dispatchers >= self.max_dispatchers:
                return None
            self._dispatchers += 1
        return threading.Thread(
            target=self._dispatch, name=f"event-{self.spec.name}", daemon=True
        )

    def _dispatch(self) -> None:
        """Run queued events in arrival order until none is left."""
        while True:
            with self._cond:
                if self._closed or not self._events:
                    self._dispatchers -= 1
                    return
                payload = self._events.popleft()
            try:
                self.invoke(payload, background=True)
            except Throttled:  # shutting down: the rest are dropped
                pass

    def _release(self, worker: Worker, keep: bool) -> None:
        with self._cond:
            if keep and worker.alive() and not self._closed:
                self._idle.append(worker)
            else:
                if worker in self._all:
                    self._all.remove(worker)
                worker.kill()
            # All: a woken event must not take what a call waits for.
            self._cond.notify_all()

    def invoke(self, payload: bytes, background: bool = False) -> InvokeResult:
        """One invocation with the function's timeout enforced
        (``background``: an event's, see :meth:`_acquire`)."""
        queued = None if background else time.monotonic() + self.queue_seconds
        worker = self._acquire(queued)
        deadline = time.monotonic() + self.spec.timeout
        request_id = str(uuid.uuid4())
        request = {
            "requestId": request_id,
            "event": payload.decode("utf-8") if payload else "",
            "deadlineMs": int((time.time() + self.spec.timeout) * 1000),
            "arn": self.spec.arn,
        }
        try:
            response = worker.call(
                request, max(0.0, deadline - time.monotonic())
            )
        except TimeoutError:
            self._release(worker, keep=False)
            message = (
                f"RequestId: {request_id} Error: Task timed out after "
                f"{self.spec.timeout:.2f} seconds"
            )
            self._log(message)
            return _error("Sandbox.Timedout", message)
        except _WorkerGone:
            code = worker.exit_code()
            self._release(worker, keep=False)
            message = (
                f"RequestId: {request_id} Error: Runtime exited with "
                f"error: exit status {code}"
            )
            self._log(message)
            return _error("Runtime.ExitError", message)
        self._release(worker, keep=True)
        if "error" in response:
            return InvokeResult(json.dumps(response["error"]).encode(), True)
        return InvokeResult(response["result"].encode())

    def _log(self, line: str) -> None:
        """What the platform (not the function) reports, as in CloudWatch."""
        with open(self.log, "a", encoding="utf-8") as log:
            log.write(line + "\n")

    def close(self) -> None:
        """Kill every worker."""
        with self._cond:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._cond.notify_all()
        for worker in workers:
            worker.kill()


class LambdaRuntime:
    """Runs functions from their zips in worker processes.

    ``base_env`` holds what every function gets from the platform
    (credentials, region, ``AWS_ENDPOINT_URL*``); the function's own
    variables come from its spec. Worker logs go to
    ``log_dir/<function>.log``.
    """

    def __init__(
        self,
        work_dir: Path,
        log_dir: Path,
        base_env: Optional[Dict[str, str]] = None,
        max_workers: int = DEFAULT_MAX_WORKERS,
        python: str = sys.executable,
        queue_seconds: float = DEFAULT_QUEUE_SECONDS,
    ) -> None:
        self.work_dir = Path(work_dir)
        self.log_dir = Path(log_dir)
        self.base_env = dict(base_env or {})
        self.max_workers = max_workers
        self.queue_seconds = queue_seconds
        self.python = python
        self.layer_dir = self.work_dir / "runtime-layer"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        build_runtime_layer(self.layer_dir)
        self._pools: Dict[str, WorkerPool] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._sync_running = 0
        self._async: List[threading.Thread] = []

    def _code_dir(self, spec: FunctionSpec) -> Path:
        target = self.work_dir / "code" / f"{spec.name}-{spec.code_sha[:16]}"
        if target.is_dir():
            return target
        staging = target.with_name(target.name + f".{uuid.uuid4().hex}")
        with zipfile.ZipFile(io.BytesIO(spec.zip_bytes)) as archive:
            archive.extractall(staging)
        try:
            staging.rename(target)
        except OSError:  # another thread extracted it first
            shutil.rmtree(staging, ignore_errors=True)
        return target

    def function_env(self, spec: FunctionSpec, code_dir: Path) -> Dict:
        """The environment of a worker: host basics, platform, function."""
        env = {k: os.environ[k] for k in HOST_VARIABLES if k in os.environ}
        env.update(self.base_env)
        env.update({k: str(v) for k, v in spec.environment.items()})
        region = self.base_env.get("AWS_REGION", "us-east-1")
        env.update(
            {
                "_HANDLER": spec.handler,
                "LAMBDA_TASK_ROOT": str(code_dir),
                "LAMBDA_RUNTIME_DIR": str(self.layer_dir),
                "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
                "AWS_LAMBDA_LOG_STREAM_NAME": "local/[$LATEST]worker",
                "AWS_REGION": region,
                "AWS_DEFAULT_REGION": region,
                "TZ": ":UTC",
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    def _pool(self, spec: FunctionSpec) -> WorkerPool:
        with self._lock:
            pool = self._pools.get(spec.arn)
            if pool is not None and pool.spec.key == spec.key:
                return pool
            stale = pool
            code_dir = self._code_dir(spec)
            argv = [
                self.python,
                "-I",
                "-S",
                str(WORKER_SCRIPT),
                str(code_dir),
                str(self.layer_dir),
            ]
            pool = WorkerPool(
                spec,
                code_dir,
                self.function_env(spec, code_dir),
                argv,
                self.log_dir / f"{spec.name}.log",
                self.max_workers,
                self.queue_seconds,
            )
            self._pools[spec.arn] = pool
        if stale is not None:
            stale.close()
        return pool

    def invoke(self, spec: FunctionSpec, payload: bytes) -> InvokeResult:
        """Run one synchronous invocation (RequestResponse)."""
        with self._lock:
            self._sync_running += 1
        try:
            return self._pool(spec).invoke(payload)
        finally:
            with self._lock:
                self._sync_running -= 1
                self._idle.notify_all()

    def invoke_async(self, spec: FunctionSpec, payload: bytes) -> None:
        """Queue an ``Event`` invocation (``WorkerPool.submit``)."""
        thread = self._pool(spec).submit(payload)
        if thread is None:
            return
        with self._lock:
            self._async = [t for t in self._async if t.is_alive()]
            thread.start()
            self._async.append(thread)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no invocation runs (synchronous ones, e.g. a state
        machine's task, and background ones); False if some still do."""
        deadline = time.monotonic() + timeout
        if not self.wait_async(timeout):
            return False
        with self._idle:
            return self._idle.wait_for(
                lambda: self._sync_running == 0,
                max(0.0, deadline - time.monotonic()),
            )

    def wait_async(self, timeout: float) -> bool:
        """Wait for background invocations; False if some still run."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._async)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in threads)

    def stop(self) -> None:
        """Kill every worker."""
        with self._lock:
            pools = list(self._pools.values())
            self._pools.clear()
        for pool in pools:
            pool.close()
