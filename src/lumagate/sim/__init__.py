"""``lumagate sim``: a simulated Luma upstream (official API + web app) for tests and benchmarks.

Nothing in the build or test environment can reach the real Luma, so this package imitates it
over loopback: timelines, limits, sessions, callbacks, quirks and faults, with real media files
and a ledger of every create it accepted (the upstream spec, sections 1, 2 and 5).
"""

from typing import TYPE_CHECKING, Any

from lumagate.sim.config import SimConfig

if TYPE_CHECKING:
    from lumagate.sim.app import create_sim_app


def __getattr__(name: str) -> Any:
    # The app (FastAPI, PyAV, numpy) loads on first use, so ``lumagate --help`` and the CLI
    # commands that only read SimConfig defaults do not pay for it.
    if name == "create_sim_app":
        from lumagate.sim.app import create_sim_app

        return create_sim_app
    raise AttributeError(name)


__all__ = ["SimConfig", "create_sim_app"]
