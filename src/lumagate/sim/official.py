"""The official Luma API surface (``/dream-machine/v1``), as UPSTREAM.md §1 describes it.

Bearer-key auth, creates with keyframes and callbacks, per-key limits, paging newest first,
delete and credits. A generation id is only meaningful to the key that created it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from lumagate.sim.counting import count_official
from lumagate.sim.runtime import Runtime
from lumagate.sim.schemas import OfficialCreate
from lumagate.sim.views import official_view
from lumagate.sim.world import SimGeneration

router = APIRouter(tags=["official"], dependencies=[Depends(count_official)])

MAX_PAGE = 100


async def _api_key(request: Request, runtime: Runtime) -> str:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key.startswith(runtime.config.api_key_prefix):
        runtime.world.note_unauthorized(key or "<missing>")
        raise HTTPException(status_code=401, detail="Invalid API key")
    return key


ApiKey = Annotated[str, Depends(_api_key)]


def _owned(runtime: Runtime, key: str, generation_id: str) -> SimGeneration:
    generation = runtime.world.get(key, generation_id, "official")
    if generation is None:
        raise HTTPException(status_code=404, detail="Generation not found")
    return generation


def _check_source_generations(runtime: Runtime, key: str, body: OfficialCreate) -> list[str]:
    """Generation keyframes must name a completed generation of the SAME key."""
    ids = body.keyframes.generation_ids() if body.keyframes else []
    for generation_id in ids:
        source = runtime.world.get(key, generation_id, "official")
        if source is None:
            raise HTTPException(status_code=400, detail=f"Generation {generation_id} not found")
        if source.state != "completed":
            raise HTTPException(
                status_code=400, detail=f"Generation {generation_id} is not completed"
            )
    return ids


@router.post("/generations", status_code=201)
@router.post("/generations/video", status_code=201)
async def create_generation(
    body: OfficialCreate, request: Request, key: ApiKey, runtime: Runtime
) -> dict[str, Any]:
    config = runtime.config
    world = runtime.world
    sources = _check_source_generations(runtime, key, body)
    if world.credits_left(key, config.initial_credits_cents) < config.generation_cost_cents:
        raise HTTPException(status_code=400, detail="Insufficient credits")
    now = runtime.now()
    rejection = world.admit(key, now, config.max_concurrency, config.creates_per_minute)
    if rejection == "concurrency":
        raise HTTPException(status_code=429, detail="Too many concurrent generations")
    if rejection == "rate":
        raise HTTPException(status_code=429, detail="Rate limit exceeded: too many creates")
    generation = runtime.start_generation(
        request,
        now,
        credential=key,
        surface="official",
        kind="extend" if sources else "create",
        prompt=body.prompt or "",
        aspect_ratio=body.aspect_ratio,
        resolution=body.resolution,
        duration=body.duration,
        model=body.model,
        loop=body.loop,
        request=body.model_dump(mode="json", exclude_unset=True),
        callback_url=body.callback_url,
        source_id=sources[0] if sources else None,
        cost_cents=config.generation_cost_cents,
    )
    if runtime.lose_response():
        raise HTTPException(status_code=502, detail="Bad gateway")
    return official_view(generation, links=runtime.links)


@router.get("/generations/{generation_id}")
async def get_generation(generation_id: str, key: ApiKey, runtime: Runtime) -> dict[str, Any]:
    return official_view(_owned(runtime, key, generation_id), links=runtime.links)


@router.get("/generations")
async def list_generations(
    key: ApiKey,
    runtime: Runtime,
    limit: Annotated[int, Query(ge=1)] = 10,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    limit = min(limit, MAX_PAGE)
    page, total = runtime.world.page(key, "official", offset, limit)
    return {
        "generations": [official_view(g, links=runtime.links) for g in page],
        "count": len(page),
        "has_more": offset + len(page) < total,
        "limit": limit,
        "offset": offset,
    }


@router.delete("/generations/{generation_id}", status_code=204)
async def delete_generation(generation_id: str, key: ApiKey, runtime: Runtime) -> Response:
    if not runtime.world.delete(key, generation_id):
        raise HTTPException(status_code=404, detail="Generation not found")
    return Response(status_code=204)


@router.get("/credits")
async def credits(key: ApiKey, runtime: Runtime) -> dict[str, int]:
    return {"credit_balance": runtime.world.credits_left(key, runtime.config.initial_credits_cents)}


@router.get("/ping")
async def ping() -> dict[str, str]:
    return {"message": "pong"}
