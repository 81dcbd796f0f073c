"""``GET``/``HEAD /files/{key}``: the public face of the media store.

Every ``media:<key>`` reference in a response becomes a link to this route, so it must serve
videos the way players expect — byte ranges (Starlette's ``FileResponse`` answers ``Range`` with
206/416), a correct content type, and cache headers (content-addressed files never change and are
cached for a year). With ``LUMAGATE_MEDIA_URL_TTL_SECONDS`` set, links are signed and expire,
and a link without a valid signature is a 404 too. Keys come from strangers' URLs: anything
malformed, missing or outside the media directory is the same plain 404, never a 500 and never
a hint of what exists.

The store is found by ``store_getter(request)``; by default the app's bound media store
(:func:`lumagate.api.deps.media_store`).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from lumagate.api.deps import media_store
from lumagate.media.store import (
    SNIFF_BYTES,
    MediaNotFound,
    MediaStore,
    content_type_for,
    is_content_addressed,
)

IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
DEFAULT_CACHE = "public, max-age=3600"

NOT_FOUND_BODY = {
    "error": {
        "message": "file not found",
        "type": "invalid_request_error",
        "code": "file_not_found",
    }
}


def _not_found() -> JSONResponse:
    return JSONResponse(NOT_FOUND_BODY, status_code=404)


def _locate(store: MediaStore, key: str) -> tuple[Path, os.stat_result, str] | None:
    """The confined path, stat and content type of ``key``, or None if it is not a served file."""
    try:
        path = store.path_for(key)
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return None
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except (MediaNotFound, OSError, ValueError):
        return None
    return path, info, content_type_for(path.name, head)


def files_router(
    store_getter: Callable[[Request], MediaStore] = media_store,
) -> APIRouter:
    """A router serving ``GET``/``HEAD /files/{key:path}`` from the store ``store_getter`` gives."""
    router = APIRouter()

    @router.api_route("/files/{key:path}", methods=["GET", "HEAD"], include_in_schema=False)
    async def serve_file(key: str, request: Request) -> Response:
        store = store_getter(request)
        if not store.link_valid(key, request.query_params):
            return _not_found()  # a signed link expired or was altered: like a missing file
        found = await run_in_threadpool(_locate, store, key)
        if found is None:
            return _not_found()
        path, info, content_type = found
        headers = {
            "Accept-Ranges": "bytes",
            "Cache-Control": IMMUTABLE_CACHE if is_content_addressed(key) else DEFAULT_CACHE,
            "X-Content-Type-Options": "nosniff",
        }
        return FileResponse(path, media_type=content_type, headers=headers, stat_result=info)

    return router
