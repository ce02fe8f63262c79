"""Fixtures for the DRS simulator tests.

``drs_sim``: the sample three-tier scenario, manual clock, under
``mock_aws``, boto3 ``drs`` clients intercepted. ``drs_factory(data)``:
the same for a scenario given as a dict (``scenario_from_dict``).
"""

import contextlib
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[3] / "scripts"
if str(SCRIPTS) not in sys.path:  # until tests/conftest.py does it
    sys.path.insert(0, str(SCRIPTS))

from localcloud.drs.testing import simulated_drs  # noqa: E402
from localcloud.scenario import scenario_from_dict  # noqa: E402

HUB = "123456789012"
SPOKE = "210987654321"
REGION = "us-east-1"
FAST = {
    "start": 1,
    "snapshot": [10, 20],
    "conversion": [10, 20],
    "launch": [10, 20],
    "terminate": [5, 10],
}


def region_scenario(servers, faults=None, durations=None, **region):
    """A hub-only scenario dict with ``servers`` in us-east-1."""
    return {
        "seed": 7,
        "durations": durations or FAST,
        "accounts": [
            {
                "id": HUB,
                "name": "hub",
                "regions": {REGION: {"source_servers": servers, **region}},
            }
        ],
        "faults": faults or [],
    }


def start_all(sim, account=HUB, region=REGION, **params):
    """StartRecovery of every server of ``account``/``region`` (core)."""
    ids = [s.server_id for s in sim.servers(account, region)]
    sources = {"sourceServers": [{"sourceServerID": i} for i in ids]}
    return sim.handle("StartRecovery", {**sources, **params}, account, region)[
        "job"
    ]


@pytest.fixture
def drs_sim():
    """The sample scenario under mock_aws, intercepted, manual clock."""
    with simulated_drs() as sim:
        yield sim


@pytest.fixture
def drs_factory():
    """Build an intercepted simulator from a scenario dict."""
    with contextlib.ExitStack() as stack:

        def make(data):
            scenario = scenario_from_dict(data)
            return stack.enter_context(simulated_drs(scenario))

        yield make
