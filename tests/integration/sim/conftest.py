"""Fixtures for the simulated-upstream tests: real sim servers on loopback with fast timelines."""

from __future__ import annotations

import pytest

from lumagate.sim.testing import SimServer, StartSim


@pytest.fixture
def sim(start_sim: StartSim) -> SimServer:
    return start_sim()
