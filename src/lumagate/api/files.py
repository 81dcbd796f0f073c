"""``GET``/``HEAD /files/{key}``: the public face of the media store.

Every ``media:<key>`` reference in a response becomes a link to this route, so it must serve
videos the way players expect — byte ranges (Starlette's ``FileResponse`` answers ``Range`` with
206/416), a correct content type, and cache headers (content-addressed files never change and are
cached for a year). With ``LUMAGATE_MEDIA_URL_TTL_SECONDS`` set, links are signed and expire,
and a link without a valid signature is a 404 too. Keys come from strangers' URLs: anything
malformed, missing or outside the media directory is the same plain 404, never a 500 and never
a hint of what exists.

Media in the data dir are served from disk (``FileResponse``). Media in object storage are
either streamed through the gateway with the same byte-range rules (a single range: 206 with
``Content-Range``; past the end: 416 with ``Content-Range: bytes */<size>``; several ranges or a
malformed header: the whole file) or, with ``LUMAGATE_MEDIA_SERVE=redirect``, answered with a
307 to a presigned URL of the object store (the link's own signature is checked first).

The store is found by ``store_getter(request)``; by default the app's bound media store
(:func:`lumagate.api.deps.media_store`).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from email.utils import format_datetime
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import (
    FileResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.concurrency import run_in_threadpool

from lumagate.api.deps import media_store
from lumagate.api.errors import openai_style_body
from lumagate.api.routers import app_router
from lumagate.domain import messages as msg
from lumagate.domain.errors import GatewayError
from lumagate.domain.messages import Text, preferred_language
from lumagate.media.backend import MediaObject
from lumagate.media.store import (
    SNIFF_BYTES,
    MediaNotFound,
    MediaStore,
    MediaUnavailable,
    check_key,
    content_type_for,
    is_content_addressed,
)

IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
DEFAULT_CACHE = "public, max-age=3600"

_RANGE_RE = re.compile(r"bytes=(\d*)-(\d*)")


def _file_error(message: Text, code: str, kind: str = "invalid_request_error") -> GatewayError:
    error = GatewayError(message, code=code)
    error.kind = kind
    return error


NOT_FOUND = _file_error(msg.FILE_NOT_FOUND(), "file_not_found")
UNAVAILABLE = _file_error(msg.MEDIA_STORE_DOWN(), "media_unavailable", "server_error")
NOT_FOUND_BODY = openai_style_body(NOT_FOUND)  # in English


def _answer(request: Request, error: GatewayError, status: int) -> JSONResponse:
    """The OpenAI-style error body, in the language the request prefers."""
    language = preferred_language(request.headers.get("accept-language"))
    return JSONResponse(openai_style_body(error.localized(language)), status_code=status)


def _not_found(request: Request) -> JSONResponse:
    return _answer(request, NOT_FOUND, 404)


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


def byte_range(header: str | None, size: int) -> tuple[int, int] | bool | None:
    """The ``(start, end)`` (end exclusive) a ``Range`` header asks of ``size`` bytes.

    None: serve the whole file (no header, a malformed one or several ranges); False: the
    range is unsatisfiable (416).
    """
    if not header:
        return None
    match = _RANGE_RE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last)
        if length == 0:
            return False
        return max(size - length, 0), size
    start = int(first)
    end = size if not last else min(int(last) + 1, size)
    if last and int(last) < start:
        return None
    if start >= size:
        return False
    return start, end


def _stream(store: MediaStore, found: MediaObject, request: Request, cache: str) -> Response:
    headers = {
        "Accept-Ranges": "bytes",
        "Cache-Control": cache,
        "X-Content-Type-Options": "nosniff",
        "Last-Modified": format_datetime(found.modified, usegmt=True),
    }
    wanted = byte_range(request.headers.get("range"), found.size)
    if wanted is False:
        headers["Content-Range"] = f"bytes */{found.size}"
        return Response(status_code=416, headers=headers)
    start, end = wanted if isinstance(wanted, tuple) else (0, found.size)
    status = 206 if isinstance(wanted, tuple) else 200
    if status == 206:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{found.size}"
    headers["Content-Length"] = str(end - start)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=found.content_type)
    chunks = store.backend.read_range(found.key, start, end)
    return StreamingResponse(
        chunks, status_code=status, headers=headers, media_type=found.content_type
    )


async def _from_object_store(store: MediaStore, key: str, request: Request) -> Response:
    cache = IMMUTABLE_CACHE if is_content_addressed(key) else DEFAULT_CACHE
    try:
        check_key(key)
        found = await store.stat(key)
        if found is None:
            return _not_found(request)
        if store.serve_by_redirect:
            url = await store.presigned_url(key)
            if url is not None:
                return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})
    except MediaNotFound:
        return _not_found(request)
    except MediaUnavailable:
        response = _answer(request, UNAVAILABLE, 503)
        response.headers["Retry-After"] = "5"
        return response
    return _stream(store, found, request, cache)


def files_router(
    store_getter: Callable[[Request], MediaStore] = media_store, *, app: FastAPI | None = None
) -> APIRouter:
    """A router serving ``GET``/``HEAD /files/{key:path}`` from the store ``store_getter`` gives
    (built for ``app`` when given: :func:`lumagate.api.routers.add_routes`)."""
    router = APIRouter() if app is None else app_router(app)

    @router.api_route("/files/{key:path}", methods=["GET", "HEAD"], include_in_schema=False)
    async def serve_file(key: str, request: Request) -> Response:
        store = store_getter(request)
        if not store.link_valid(key, request.query_params):
            return _not_found(request)  # a signed link expired or was altered: like a missing file
        if store.local is None:
            return await _from_object_store(store, key, request)
        found = await run_in_threadpool(_locate, store, key)
        if found is None:
            return _not_found(request)
        path, info, content_type = found
        headers = {
            "Accept-Ranges": "bytes",
            "Cache-Control": IMMUTABLE_CACHE if is_content_addressed(key) else DEFAULT_CACHE,
            "X-Content-Type-Options": "nosniff",
        }
        return FileResponse(path, media_type=content_type, headers=headers, stat_result=info)

    return router
