"""Test helpers: a simulator under ``mock_aws``, intercepted.

``simulated_drs()`` is what the ``drs_sim`` pytest fixture calls::

    @pytest.fixture
    def drs_sim():
        with simulated_drs() as sim:
            yield sim
"""

from __future__ import annotations

import contextlib
from typing import Iterator

from moto import mock_aws

from ..scenario import Scenario, load_scenario
from .clock import ManualClock
from .intercept import intercept_drs
from .simulator import DrsSimulator


@contextlib.contextmanager
def simulated_drs(
    scenario: Scenario | None = None,
    clock: ManualClock | None = None,
    start_mock: bool = True,
) -> Iterator[DrsSimulator]:
    """A loaded simulator with a manual clock, under ``mock_aws``.

    ``scenario`` defaults to ``scripts/scenarios/three-tier.yaml``; pass
    ``start_mock=False`` when the caller already runs ``mock_aws``.
    """
    mock = mock_aws() if start_mock else contextlib.nullcontext()
    with mock:
        sim = DrsSimulator(clock=clock or ManualClock())
        sim.load(scenario or load_scenario())
        with intercept_drs(sim):
            yield sim
        sim.stop_ticker()
