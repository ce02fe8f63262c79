"""The local Lambda runtime: zips in worker processes, like AWS."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from localcloud.lambda_runtime import (
    FunctionSpec,
    LambdaRuntime,
    Throttled,
    make_zip,
)

ECHO = """
import os
import sys


def handler(event, context):
    return {
        "event": event,
        "declared": os.environ.get("DECLARED"),
        "host_secret": os.environ.get("LOCALCLOUD_HOST_ONLY"),
        "function": context.function_name,
        "remaining_ok": 0 < context.get_remaining_time_in_millis() <= 5000,
        "path": sys.path,
    }
"""


@pytest.fixture
def runtime(tmp_path):
    rt = LambdaRuntime(
        tmp_path / "work",
        tmp_path / "logs",
        base_env={"AWS_REGION": "us-east-1"},
        max_workers=3,
    )
    yield rt
    rt.stop()


def spec(name, source, env=None, timeout=5.0, extra=None):
    files = {"index.py": source, **(extra or {})}
    return FunctionSpec(
        name=name,
        arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
        handler="index.handler",
        zip_bytes=make_zip(files),
        environment=env or {},
        timeout=timeout,
    )


def test_runs_zip_with_declared_environment_only(runtime, monkeypatch):
    # Given a variable only the host has and one the function declares
    monkeypatch.setenv("LOCALCLOUD_HOST_ONLY", "leak")
    fn = spec("echo", ECHO, env={"DECLARED": "yes"})

    # When it is invoked
    result = runtime.invoke(fn, json.dumps({"a": 1}).encode())

    # Then it sees its event, its variable, its context - not the host's
    body = result.json()
    assert not result.function_error
    assert body["event"] == {"a": 1}
    assert body["declared"] == "yes"
    assert body["host_secret"] is None
    assert body["function"] == "echo"
    assert body["remaining_ok"] is True
    # and sys.path is the zip then the runtime layer, never the venv
    assert body["path"][0].startswith(str(runtime.work_dir / "code" / "echo"))
    assert body["path"][1] == str(runtime.layer_dir)
    assert not any("site-packages" in p for p in body["path"])


def test_module_missing_from_zip_is_import_module_error(runtime):
    # Given a function importing yaml (in the venv, not in AWS's runtime)
    fn = spec("needs-yaml", "import yaml\n\ndef handler(e, c):\n    pass\n")

    # When it is invoked
    result = runtime.invoke(fn, b"{}")

    # Then it fails as in AWS
    assert result.function_error
    assert result.json()["errorType"] == "Runtime.ImportModuleError"
    assert "No module named 'yaml'" in result.json()["errorMessage"]


def test_boto3_and_powertools_are_provided(runtime):
    # Given a function using what AWS provides (runtime + Powertools layer,
    # whose extras include the Tracer's X-Ray SDK)
    source = (
        "import boto3\nfrom aws_lambda_powertools import Logger\n"
        "import aws_xray_sdk, wrapt\n"
        "def handler(e, c):\n    return boto3.__version__\n"
    )

    # When it is invoked
    result = runtime.invoke(spec("provided", source), b"{}")

    # Then both import
    assert not result.function_error, result.payload


def test_missing_env_var_is_a_function_error(runtime):
    # Given a function reading a variable its resource does not declare
    fn = spec(
        "needs-env",
        "import os\n\ndef handler(e, c):\n    return os.environ['TABLE']\n",
    )

    # When it is invoked
    result = runtime.invoke(fn, b"{}")

    # Then the caller gets the Lambda error payload of the exception
    error = result.json()
    assert result.function_error
    assert error["errorType"] == "KeyError"
    assert error["errorMessage"] == "'TABLE'"
    assert any("index.py" in frame for frame in error["stackTrace"])
    assert not any("worker.py" in frame for frame in error["stackTrace"])


def test_unknown_handler_function_is_handler_not_found(runtime):
    # Given a zip whose index has no ``handler``
    fn = spec("no-handler", "def other(e, c):\n    return 1\n")

    # When it is invoked
    result = runtime.invoke(fn, b"{}")

    # Then
    assert result.json()["errorType"] == "Runtime.HandlerNotFound"


def test_timeout_kills_worker_and_next_call_works(runtime, tmp_path):
    # Given a function that sleeps unless told not to, with a 1 s timeout
    source = (
        "import time\n\ndef handler(e, c):\n"
        "    if e.get('sleep'):\n        time.sleep(30)\n    return 'ok'\n"
    )
    fn = spec("slow", source, timeout=1)

    # When it runs past its timeout
    started = time.monotonic()
    result = runtime.invoke(fn, b'{"sleep": true}')

    # Then the caller gets the timeout error well before the sleep ends
    assert result.function_error
    assert result.json()["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in result.json()["errorMessage"]
    assert time.monotonic() - started < 10
    assert "Task timed out" in (runtime.log_dir / "slow.log").read_text()
    # and a fresh worker serves the next invocation
    assert runtime.invoke(fn, b"{}").json() == "ok"


def test_concurrent_invocations_use_separate_workers(runtime, tmp_path):
    # Given a function that waits until 3 invocations run at once
    barrier_dir = tmp_path / "barrier"
    barrier_dir.mkdir()
    source = f"""
import os, time, uuid

def handler(event, context):
    open(os.path.join({str(barrier_dir)!r}, uuid.uuid4().hex), "w").close()
    deadline = time.time() + 4
    while len(os.listdir({str(barrier_dir)!r})) < 3:
        if time.time() > deadline:
            raise RuntimeError("invocations were serialized")
        time.sleep(0.01)
    return os.getpid()
"""
    fn = spec("barrier", source, timeout=6)

    # When 3 callers invoke it concurrently
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: runtime.invoke(fn, b"{}"), [1] * 3))

    # Then all succeed, each in its own worker process
    assert [r.function_error for r in results] == [False] * 3
    assert len({r.json() for r in results}) == 3


def test_async_invocation_runs_in_background(runtime, tmp_path):
    # Given a function that writes a marker file
    marker = tmp_path / "marker"
    source = (
        "def handler(e, c):\n"
        f"    open({str(marker)!r}, 'w').write(e['value'])\n"
    )

    # When it is invoked as an Event
    runtime.invoke_async(spec("async", source), b'{"value": "done"}')

    # Then it ran (deadline-bounded wait)
    assert runtime.wait_async(10)
    assert marker.read_text() == "done"


def test_worker_logs_go_to_function_log_file(runtime):
    # Given a function that prints
    fn = spec("printer", "def handler(e, c):\n    print('hello-log')\n")

    # When it is invoked
    runtime.invoke(fn, b"{}")

    # Then the output is in its log file with the request markers
    text = (runtime.log_dir / "printer.log").read_text()
    assert "hello-log" in text
    assert "START RequestId:" in text and "END RequestId:" in text


def test_invocation_beyond_the_cap_is_throttled_not_blocked(tmp_path):
    # Given a runtime allowing one worker per function, and that worker busy
    rt = LambdaRuntime(
        tmp_path / "work", tmp_path / "logs", max_workers=1, queue_seconds=0.2
    )
    release = tmp_path / "release"
    source = (
        "import os, time\n\ndef handler(e, c):\n"
        f"    while not os.path.exists({str(release)!r}):\n"
        "        time.sleep(0.01)\n    return 'released'\n"
    )
    fn = spec("busy", source, timeout=10)
    try:
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(rt.invoke, fn, b"{}")

            # When a second invocation arrives while it runs
            # Then it is throttled after the queue wait
            with pytest.raises(Throttled):
                wait_for_busy_then_invoke(rt, fn)
            release.touch()
            assert first.result(timeout=10).json() == "released"
    finally:
        rt.stop()


def wait_for_busy_then_invoke(rt, fn):
    """Invoke once the first invocation holds the only worker."""
    deadline = time.monotonic() + 5
    while (
        not rt._pools or rt._pools[fn.arn]._idle or not rt._pools[fn.arn]._all
    ):
        if time.monotonic() > deadline:
            raise AssertionError("first invocation never started")
        time.sleep(0.01)
    return rt.invoke(fn, b"{}")


def test_process_exit_is_runtime_exit_error_and_worker_replaced(runtime):
    # Given a function that kills its own process on request
    source = (
        "import os\n\ndef handler(e, c):\n"
        "    if e.get('die'):\n        os._exit(3)\n    return 'alive'\n"
    )
    fn = spec("dies", source)

    # When it exits mid-invocation
    result = runtime.invoke(fn, b'{"die": true}')

    # Then the caller sees the runtime exit, and a new worker serves next
    assert result.function_error
    assert result.json()["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in result.json()["errorMessage"]
    assert runtime.invoke(fn, b"{}").json() == "alive"


BACKOFF = """
from botocore.retries import standard


class Context:
    attempt_number = 5


def handler(event, context):
    backoff = standard.ExponentialBackoff(random=lambda: 1.0)
    return backoff.delay_amount(Context())
"""


@pytest.mark.parametrize("speed, expected", [("600", 16 / 600), ("", 16)])
def test_retry_back_off_runs_at_the_cloud_speed(tmp_path, speed, expected):
    # Given a runtime whose cloud runs DRS time 600 times faster (or not)
    rt = LambdaRuntime(
        tmp_path / "work",
        tmp_path / "logs",
        base_env={"AWS_REGION": "us-east-1", "LOCAL_CLOUD_SPEED": speed},
        max_workers=1,
    )
    try:
        # When a function asks botocore for its 5th retry's back-off
        result = rt.invoke(spec("backoff", BACKOFF), b"{}")
    finally:
        rt.stop()
    # Then the wait (16 s at most, here the most) is scaled by the speed
    assert not result.function_error, result.payload
    assert result.json() == pytest.approx(expected)


GATED = """
import os, time

def handler(event, context):
    gate = {gate!r}
    if event.get("wait"):
        deadline = time.time() + 8
        while not os.path.exists(gate):
            if time.time() > deadline:
                raise RuntimeError("never released")
            time.sleep(0.01)
    with open({order!r}, "a") as order:
        order.write(event["name"] + "\\n")
"""


def _gated(tmp_path, queue_seconds):
    """A runtime with one worker per function, that worker running an
    event held until ``gate`` exists; each run appends its name to
    ``order``. Returns (runtime, function, gate, order)."""
    gate, order = tmp_path / "gate", tmp_path / "order"
    source = GATED.format(gate=str(gate), order=str(order))
    fn = spec("gated", source, timeout=10)
    rt = LambdaRuntime(
        tmp_path / "work",
        tmp_path / "logs",
        max_workers=1,
        queue_seconds=queue_seconds,
    )
    rt.invoke_async(fn, _payload("first", wait=True))
    _until(lambda: rt._pools[fn.arn]._all, "first event never started")
    return rt, fn, gate, order


def _payload(name, wait=False):
    return json.dumps({"name": name, "wait": wait}).encode()


def _until(predicate, message, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.01)


def test_events_wait_for_a_busy_worker_instead_of_being_dropped(tmp_path):
    # Given one worker per function, busy longer than the queue wait
    rt, fn, gate, order = _gated(tmp_path, queue_seconds=0.1)
    try:
        # When 5 more events arrive while it runs
        for number in range(5):
            rt.invoke_async(fn, _payload(f"e{number}"))
        time.sleep(0.3)  # 3x the queue wait: a dropped event is gone now
        gate.touch()
        # Then every one ran, in the order they came (as Lambda's queue)
        assert rt.wait_async(10)
        assert order.read_text().split() == [
            "first",
            *[f"e{n}" for n in range(5)],
        ]
    finally:
        rt.stop()


def test_a_waiting_call_goes_before_queued_events(tmp_path):
    # Given one worker per function running an event, and 3 more queued
    rt, fn, gate, order = _gated(tmp_path, queue_seconds=5)
    try:
        for number in range(3):
            rt.invoke_async(fn, _payload(f"e{number}"))
        # When a synchronous call arrives, then the worker frees
        with ThreadPoolExecutor(1) as pool:
            call = pool.submit(rt.invoke, fn, _payload("call"))
            pool_ = rt._pools[fn.arn]
            _until(lambda: pool_._sync_waiting == 1, "call never waited")
            gate.touch()
            assert call.result(timeout=10).function_error is False
        # Then the call ran next, the events after it
        assert rt.wait_async(10)
        assert order.read_text().split() == ["first", "call", "e0", "e1", "e2"]
    finally:
        rt.stop()
