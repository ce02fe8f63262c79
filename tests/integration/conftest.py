"""The ``local_cloud`` fixture: one local cloud per session (per xdist
worker), reset per test.

Every test collected under ``tests/integration`` is marked
``integration``; ``pytest tests/unit`` never imports this file, so it
never starts the local cloud. The cloud runs fast (DRS speed 600, wave
poll interval 1 s); tests wait with deadlines (``wait_until``).
"""

import os
import time
from pathlib import Path

import pytest

INTEGRATION_DIR = Path(__file__).resolve().parent
SPEED = 600.0
POLL_INTERVAL_SECONDS = 1


def pytest_collection_modifyitems(config, items):
    """Mark every test of this folder ``integration``."""
    for item in items:
        if INTEGRATION_DIR in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def local_cloud_session():
    """The running local cloud (started once)."""
    from localcloud.stack import BUILD_DIR, LocalCloud

    # One cloud per pytest-xdist worker (each its own ports and moto
    # state); its logs and zips in the worker's own folder.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    cloud = LocalCloud(
        speed=SPEED,
        poll_interval=POLL_INTERVAL_SECONDS,
        build_dir=BUILD_DIR / f"pytest-{worker}",
    )
    cloud.start()
    try:
        yield cloud
    finally:
        cloud.stop()


@pytest.fixture
def local_cloud(local_cloud_session):
    """The local cloud, reset to its just-started state for this test.

    ``local_cloud.reset(scenario)`` loads another scenario (faults...)
    for the rest of the test; the next test starts from the default one.
    """
    local_cloud_session.reset()
    yield local_cloud_session


@pytest.fixture
def function_env(local_cloud):
    """``function_env(variable, value)`` sets an environment variable on
    every deployed function that has it (a deployment setting, as the
    template parameter would); restored after the test. The suite runs
    one local cloud per worker process: a test needing other settings
    changes them here instead of starting a second cloud."""
    lam = local_cloud.client("lambda")
    saved = {}

    def variables(name):
        config = lam.get_function_configuration(FunctionName=name)
        return dict((config.get("Environment") or {}).get("Variables", {}))

    def put(name, env):
        lam.update_function_configuration(
            FunctionName=name, Environment={"Variables": env}
        )

    def apply(variable, value):
        changed = []
        for name in local_cloud.function_names:
            env = variables(name)
            if variable in env:
                saved.setdefault(name, dict(env))
                put(name, {**env, variable: str(value)})
                changed.append(name)
        assert changed, f"no deployed function reads {variable}"
        return changed

    yield apply
    for name, env in saved.items():
        put(name, env)


@pytest.fixture
def local_cloud_env(local_cloud, monkeypatch):
    """The process environment pointed at the local cloud (the variables
    ``local-cloud.sh`` exports), so plain ``boto3.client(...)`` and
    ``shared.aws_clients`` reach it. Returns the cloud."""
    from tests.helpers import reset_shared_caches

    for key, value in local_cloud.env().items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    reset_shared_caches()
    yield local_cloud
    reset_shared_caches()


def _wait_until(predicate, timeout=30.0, interval=0.1, message="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s: {message}")
        time.sleep(interval)


@pytest.fixture
def wait_until():
    """``wait_until(predicate, timeout=30, interval=0.1, message=...)``:
    poll until ``predicate()`` is truthy (returned) or fail at the
    deadline."""
    return _wait_until
