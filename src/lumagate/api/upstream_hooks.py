"""``POST /upstream-hooks/{token}``: where upstreams (the official Luma API) post state changes.

Not a client dialect: the caller is an upstream, authenticated by the unguessable per-account
token in the path (Luma signs nothing). A valid token answers 200 whatever the body says, so
the upstream stops retrying; an unknown token answers 404. The work is done by
:class:`lumagate.engine.hooks.UpstreamHooks` before the answer: the body (authenticated by the
token) is applied as it is, progress and results alike, with no upstream read; what it cannot
apply makes the task due so the refresher reads it.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from lumagate.api.deps import Hooks
from lumagate.api.routers import app_router

MAX_HOOK_BYTES = 1024 * 1024
TAG = "Operations"


def upstream_hooks_router(app: FastAPI) -> APIRouter:
    router = app_router(app, tags=[TAG])

    @router.post(
        "/upstream-hooks/{token}",
        summary="Upstream callback receiver (official Luma API callback_url)",
        include_in_schema=False,
    )
    async def receive(token: str, request: Request, hooks: Hooks) -> JSONResponse:
        raw = await request.body()
        payload: Any = None
        if len(raw) <= MAX_HOOK_BYTES:
            try:
                payload = json.loads(raw or b"null")
            except ValueError:
                payload = None
        if not await hooks.receive(token, payload):
            return JSONResponse({"detail": "Not found"}, status_code=404)
        return JSONResponse({"ok": True})

    return router
