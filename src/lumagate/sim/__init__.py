"""``lumagate sim``: a simulated Luma upstream (official API + web app) for tests and benchmarks.

Nothing in the build or test environment can reach the real Luma, so this package imitates it
over loopback: timelines, limits, sessions, callbacks, quirks and faults, with real media files
and a ledger of every create it accepted (the upstream spec, sections 1, 2 and 5).
"""

from lumagate.sim.app import create_sim_app
from lumagate.sim.config import SimConfig

__all__ = ["SimConfig", "create_sim_app"]
