"""``GET {p}/luma/generations/{id}/deliveries``: a tenant reads its task's callback log.

Each callback the gateway stored for the task (one per event: processing, completed, failed)
with its state and every attempt (time, outcome, HTTP status, error). Another tenant's task id
answers 404 exactly like a missing one (the task is looked up through the tenant-scoped read).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI

from lumagate.api.deps import Callbacks, Tasks, bearer_tenant
from lumagate.api.routers import app_router
from lumagate.domain.tenant import ApiKey


async def task_deliveries(
    task_id: str, tasks: Tasks, callbacks: Callbacks, tenant: ApiKey = Depends(bearer_tenant)
) -> Any:
    task = await tasks.get(tenant, task_id)
    return {"data": await callbacks.log(task.id)}


def build_router(
    app: FastAPI, prefixes: tuple[str, ...], bases: tuple[str, ...], tag: str
) -> APIRouter:
    router = app_router(app, tags=[tag])
    for prefix in prefixes:
        for base in bases:
            path = f"{prefix}{base}/{{task_id}}/deliveries"
            for variant in (path, path + "/"):
                router.add_api_route(
                    variant,
                    task_deliveries,
                    methods=["GET"],
                    include_in_schema=variant == "/luma/generations/{task_id}/deliveries",
                    summary="The task's callback deliveries and their attempts",
                )
    return router
