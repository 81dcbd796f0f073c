"""Counting API requests per credential and route, for ``/_sim/stats`` and the benchmarks.

Each surface's router runs one of these as a router-level dependency, i.e. before its own
authentication, so refused requests count too. Faulted requests (answered by the fault
middleware before routing) do not reach a route and are not counted.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.routing import APIRoute

from lumagate.sim.runtime import get_runtime


def _route(request: Request) -> str:
    route = request.scope.get("route")
    path = route.path if isinstance(route, APIRoute) else request.url.path
    return f"{request.method} {path}"


async def count_official(request: Request) -> None:
    _, _, key = request.headers.get("authorization", "").partition(" ")
    get_runtime(request).world.stats_for(key.strip() or "<missing>").count_request(_route(request))


async def count_web(request: Request) -> None:
    runtime = get_runtime(request)
    token = request.cookies.get("access_token") or ""
    credential = runtime.sessions.identity_of(token) or token or "<anonymous>"
    runtime.world.stats_for(credential).count_request(_route(request))
