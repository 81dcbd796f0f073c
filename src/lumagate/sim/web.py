"""The Luma web-app surface (``/api/photon/v1`` and ``/api/users/v1/me``), per UPSTREAM.md §2.

Cookie sessions that rotate and expire, array-shaped creates, the ``video: null`` quirk, image
uploads through a presigned PUT, watermark-free download URLs and subscription usage. Images
not hosted by the sim are accepted but counted, because the gateway should re-upload them.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from lumagate.sim.counting import count_web
from lumagate.sim.runtime import Runtime, SimRuntime
from lumagate.sim.schemas import WebCreate
from lumagate.sim.sessions import SessionRejected
from lumagate.sim.uploads import UPLOAD_PUBLIC_PREFIX
from lumagate.sim.views import download_url, web_view
from lumagate.sim.world import SimGeneration

PHOTON = "/api/photon/v1"
HOSTED_PREFIX = "/app_data/photon/"
USAGE_LIMIT = "Maximum usage limit exceeded"
MAX_PAGE = 100

router = APIRouter(tags=["web"], dependencies=[Depends(count_web)])


async def _identity(request: Request, response: Response, runtime: Runtime) -> str:
    """Authenticate the ``access_token`` cookie; attach a rotated token when one is due."""
    config = runtime.config
    try:
        grant = runtime.sessions.authenticate(
            request.cookies.get("access_token"),
            runtime.now(),
            lifetime=config.session_lifetime_seconds,
            rotate_after=config.session_rotate_seconds,
            required_prefix=config.web_token_prefix,
        )
    except SessionRejected as exc:
        runtime.world.note_unauthorized(exc.identity or "<anonymous>")
        raise HTTPException(status_code=401, detail=exc.reason) from exc
    if grant.new_token is not None:
        response.headers.append("set-cookie", f"access_token={grant.new_token}; Path=/")
    return grant.identity


Identity = Annotated[str, Depends(_identity)]


def _hosted(url: str, request: Request, runtime: SimRuntime) -> bool:
    parts = urlsplit(url)
    hosts = {urlsplit(runtime.base_url(request)).netloc, request.url.netloc}
    return parts.path.startswith(HOSTED_PREFIX) and parts.netloc in hosts


def _owned(runtime: SimRuntime, identity: str, generation_id: str) -> SimGeneration:
    generation = runtime.world.get(identity, generation_id, "web")
    if generation is None:
        raise HTTPException(status_code=404, detail="Generation not found")
    return generation


def _polled(runtime: SimRuntime, generation: SimGeneration) -> dict[str, Any]:
    """Render for a poll, consuming one ``video: null`` showing if the quirk is armed."""
    hide = generation.null_video_polls > 0 and generation.state == "completed"
    if hide:
        generation.null_video_polls -= 1
    return web_view(generation, runtime.now(), hide_video=hide, links=runtime.links)


def _create(
    runtime: SimRuntime,
    request: Request,
    identity: str,
    body: WebCreate,
    source: SimGeneration | None,
) -> dict[str, Any]:
    config = runtime.config
    world = runtime.world
    if source is None and not body.user_prompt.strip() and not body.image_url:
        raise HTTPException(status_code=400, detail="user_prompt or image_url is required")
    if world.web_used(identity) >= config.web_capacity:
        world.stats_for(identity).rate_limited += 1
        raise HTTPException(status_code=429, detail=USAGE_LIMIT)
    now = runtime.now()
    rejection = world.admit(identity, now, config.max_concurrency, config.creates_per_minute)
    if rejection == "concurrency":
        raise HTTPException(status_code=429, detail=USAGE_LIMIT)
    if rejection == "rate":
        raise HTTPException(status_code=429, detail="Too many requests")
    request_body = body.model_dump(mode="json", exclude_unset=True)
    if source is not None:
        request_body["extend_of"] = source.id
    generation = runtime.start_generation(
        request,
        now,
        credential=identity,
        surface="web",
        kind="extend" if source is not None else "create",
        prompt=body.user_prompt,
        aspect_ratio=body.aspect_ratio or (source.aspect_ratio if source else "16:9"),
        resolution="720p",
        duration="5s",
        model="ray-2",
        loop=body.loop,
        request=request_body,
        source_id=source.id if source else None,
    )
    foreign = [url for url in body.image_urls() if not _hosted(url, request, runtime)]
    world.note_foreign_images(identity, len(foreign))
    if runtime.lose_response():
        raise HTTPException(status_code=502, detail="Bad gateway")
    return web_view(generation, now, links=runtime.links)


@router.get("/api/users/v1/me")
async def me(identity: Identity) -> dict[str, Any]:
    user_id = str(uuid.uuid5(uuid.NAMESPACE_OID, identity))
    return {"id": user_id, "email": f"{user_id[:8]}@sim.invalid", "name": "Sim User"}


@router.post(PHOTON + "/generations/", status_code=201)
async def create(
    body: WebCreate, request: Request, identity: Identity, runtime: Runtime
) -> list[dict[str, Any]]:
    return [_create(runtime, request, identity, body, None)]


@router.post(PHOTON + "/generations/{generation_id}/extend", status_code=201)
async def extend(
    generation_id: str, body: WebCreate, request: Request, identity: Identity, runtime: Runtime
) -> list[dict[str, Any]]:
    source = _owned(runtime, identity, generation_id)
    if source.state != "completed":
        raise HTTPException(status_code=400, detail="Generation is not completed")
    return [_create(runtime, request, identity, body, source)]


@router.get(PHOTON + "/generations/{generation_id}")
async def get_generation(generation_id: str, identity: Identity, runtime: Runtime) -> Any:
    return _polled(runtime, _owned(runtime, identity, generation_id))


@router.get(PHOTON + "/user/generations/")
async def list_generations(
    identity: Identity,
    runtime: Runtime,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1)] = 10,
) -> list[dict[str, Any]]:
    page, _ = runtime.world.page(identity, "web", offset, min(limit, MAX_PAGE))
    return [_polled(runtime, generation) for generation in page]


@router.get(PHOTON + "/generations/{generation_id}/download_video_url")
async def download_video_url(
    generation_id: str, identity: Identity, runtime: Runtime
) -> dict[str, str]:
    generation = _owned(runtime, identity, generation_id)
    if generation.state != "completed":
        raise HTTPException(status_code=400, detail="Generation is not completed")
    return {"url": download_url(generation, runtime.links)}


@router.post(PHOTON + "/generations/file_upload")
async def file_upload(
    request: Request,
    identity: Identity,
    runtime: Runtime,
    file_type: str = "image",
    filename: str = "file.jpg",
) -> dict[str, str]:
    if file_type != "image":
        raise HTTPException(status_code=400, detail="Only file_type=image is supported")
    upload = runtime.uploads.open_slot(identity)
    base = runtime.base_url(request)
    return {
        "id": upload.id,
        "presigned_url": f"{base}/uploads/{upload.id}?signature={upload.signature}",
        "public_url": f"{base}{UPLOAD_PUBLIC_PREFIX}{upload.id}.jpg",
    }


@router.get(PHOTON + "/subscription/usage")
async def subscription_usage(identity: Identity, runtime: Runtime) -> dict[str, Any]:
    capacity = runtime.config.web_capacity
    consumed = runtime.world.web_used(identity)
    return {
        "consumed": consumed,
        "capacity": capacity,
        "available": max(0, capacity - consumed),
        "subscription": {"active": True, "plan": "pro", "type": None},
        "plans": [
            {"id": "pro", "name": "Pro", "capacity": capacity, "active": True},
        ],
    }
