"""Debug endpoints under ``/_sim``: what tests and benchmarks use to check the gateway.

The ledger proves no generation was submitted twice and every create was answered; stats show
peak concurrency and rejected calls; sessions can be killed and the whole sim reset or
reconfigured between scenarios. These routes are never faulted and need no credentials.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, HTTPException
from pydantic import ValidationError

from lumagate.sim.runtime import DebugRuntime
from lumagate.sim.schemas import ExpireSession, MediaSwitch

router = APIRouter(tags=["debug"])


@router.get("/ledger")
async def ledger(runtime: DebugRuntime) -> dict[str, Any]:
    return {"entries": [entry.as_dict() for entry in runtime.world.ledger]}


@router.get("/stats")
async def stats(runtime: DebugRuntime) -> dict[str, dict[str, Any]]:
    """Per credential: peak and current running, creates, refusals, and every API request
    (``requests``, and ``routes``: method and route template → count)."""
    runtime.sync()
    return {cred: counters.as_dict() for cred, counters in runtime.world.stats.items()}


@router.get("/callbacks")
async def callbacks(runtime: DebugRuntime) -> dict[str, Any]:
    return {"deliveries": [delivery.as_dict() for delivery in runtime.callbacks.deliveries]}


@router.post("/sessions/expire")
async def expire_session(body: ExpireSession, runtime: DebugRuntime) -> dict[str, Any]:
    if not runtime.sessions.expire(body.credential, body.token):
        raise HTTPException(status_code=404, detail="Unknown web session identity")
    return {"expired": body.credential}


@router.get("/media")
async def media_state(runtime: DebugRuntime) -> dict[str, Any]:
    """The media switch, every file sent (by file name) and how many expired links were
    refused."""
    links = runtime.links
    return {
        "mode": links.mode,
        "served": dict(links.served),
        "stalled": dict(links.stalled),
        "resumed": dict(links.resumed),
        "expired": links.expired,
    }


@router.post("/media")
async def set_media_mode(body: MediaSwitch, runtime: DebugRuntime) -> dict[str, Any]:
    """``ok`` serves media; ``unavailable`` answers 503 (an outage); ``gone`` answers 404;
    ``stall`` sends half of each file, then waits for the next switch."""
    runtime.links.set_mode(body.mode)
    return {"mode": body.mode}


@router.post("/reset")
async def reset(runtime: DebugRuntime) -> dict[str, bool]:
    runtime.reset()
    return {"reset": True}


@router.get("/config")
async def get_config(runtime: DebugRuntime) -> dict[str, Any]:
    return runtime.config.model_dump(mode="json")


@router.post("/config")
async def update_config(
    runtime: DebugRuntime, changes: dict[str, Any] = Body(default_factory=dict)
) -> dict[str, Any]:
    """Change knobs at run time (e.g. start failing mid-benchmark); unknown keys are a 400."""
    try:
        runtime.set_config(runtime.config.updated(changes))
    except ValidationError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from exc
    return runtime.config.model_dump(mode="json")
