"""Files the sim serves: generation videos and images, and the web app's uploaded images.

These routes are outside the faulted API prefixes on purpose: media is what a gateway downloads
after the upstream said ``completed``, and tests need it to be reliably there. Videos are real
MP4s served with HTTP Range support (Starlette's ``FileResponse``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response
from starlette.responses import FileResponse, StreamingResponse

from lumagate.sim.media_links import MediaLinks
from lumagate.sim.runtime import DebugRuntime
from lumagate.sim.uploads import UPLOAD_PUBLIC_PREFIX, NotAnImage

router = APIRouter(tags=["media"])

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def _split(filename: str) -> tuple[str, str]:
    """``<id>.mp4`` → (id, "video"); ``<id>.jpg`` → thumbnail; ``<id>-last.jpg`` → last frame."""
    if filename.endswith(".mp4"):
        return filename[: -len(".mp4")], "video"
    if filename.endswith("-last.jpg"):
        return filename[: -len("-last.jpg")], "last_frame"
    if filename.endswith(".jpg"):
        return filename[: -len(".jpg")], "thumbnail"
    raise HTTPException(status_code=404, detail="Not found")


@router.api_route("/media/{filename}", methods=["GET", "HEAD"])
async def media_file(
    filename: str,
    runtime: DebugRuntime,
    request: Request,
    wm: Annotated[int, Query()] = 0,
    progress: Annotated[int, Query()] = 0,
    exp: Annotated[str, Query()] = "",
    sig: Annotated[str, Query()] = "",
) -> Response:
    links = runtime.links
    if links.mode == "unavailable":
        raise HTTPException(status_code=503, detail="Storage unavailable")
    if links.mode == "gone":
        raise HTTPException(status_code=404, detail="Not found")
    if not links.valid(filename, exp, sig):
        raise HTTPException(status_code=403, detail="Request has expired")
    generation_id, kind = _split(filename)
    generation = runtime.world.generations.get(generation_id)
    if generation is None:
        raise HTTPException(status_code=404, detail="Not found")
    ready = generation.state == "completed" or (
        kind == "video" and progress == 1 and generation.state == "dreaming"
    )
    if not ready:
        raise HTTPException(status_code=404, detail="Not ready")
    files = await runtime.clips.get(generation.aspect_ratio)
    if request.method == "GET":
        links.served[filename] += 1
    if kind == "video":
        path = files.watermarked if wm else files.video
        if links.mode == "stall" and request.method == "GET":
            return _stalling(path, filename, "video/mp4", links)
        return FileResponse(
            path,
            media_type="video/mp4",
            filename=f"{generation_id}.mp4",
            content_disposition_type="inline",
        )
    path = files.last_frame if kind == "last_frame" else files.thumbnail
    if links.mode == "stall" and request.method == "GET":
        return _stalling(path, filename, "image/jpeg", links)
    return FileResponse(path, media_type="image/jpeg")


def _stalling(path: Path, filename: str, media_type: str, links: MediaLinks) -> StreamingResponse:
    """The file's first half at once, the rest once the ``stall`` mode is switched off; the
    declared length is the whole file's, as a storage that hangs mid-body sends it."""
    data = path.read_bytes()
    half = max(1, len(data) // 2)
    links.stalled[filename] += 1

    async def body() -> AsyncIterator[bytes]:
        yield data[:half]
        await links.wait_flowing()
        yield data[half:]
        links.resumed[filename] += 1

    headers = {"Content-Length": str(len(data))}
    return StreamingResponse(body(), media_type=media_type, headers=headers)


@router.put("/uploads/{upload_id}")
async def put_upload(
    upload_id: str,
    request: Request,
    runtime: DebugRuntime,
    signature: Annotated[str, Query()] = "",
) -> Response:
    """The presigned PUT target of ``file_upload``: the body must be an image."""
    data = await request.body()
    if len(data) > MAX_UPLOAD_BYTES:
        raise HTTPException(status_code=413, detail="Upload too large")
    try:
        stored = runtime.uploads.put(upload_id, signature, data)
    except NotAnImage as exc:
        raise HTTPException(status_code=400, detail="Body is not an image") from exc
    if stored is None:
        raise HTTPException(status_code=403, detail="Invalid or unknown upload signature")
    return Response(status_code=200)


@router.api_route(UPLOAD_PUBLIC_PREFIX + "{filename}", methods=["GET", "HEAD"])
async def uploaded_file(filename: str, runtime: DebugRuntime) -> Response:
    upload = runtime.uploads.get(filename.rsplit(".", 1)[0])
    if upload is None or upload.data is None:
        raise HTTPException(status_code=404, detail="Not found")
    return Response(content=upload.data, media_type=upload.content_type)
