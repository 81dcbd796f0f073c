"""``/admin/tasks``: tasks of any tenant, one task with its dialect body, its delivery log.

Routes are added to the admin router by :mod:`lumagate.api.admin` (which enforces the admin
key); this module only knows how to read and show tasks across tenants.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request

from lumagate.api.deps import gateway_of
from lumagate.domain.clock import iso_z
from lumagate.domain.errors import InvalidRequest, TaskNotFound
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.service.task_bodies import render_task
from lumagate.store.task_admin import list_any_tenant

MAX_PAGE = 500


def page(request: Request, default_limit: int = 50) -> tuple[int, int]:
    def number(name: str, default: int) -> int:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise InvalidRequest(f"{name} must be an integer", field=name) from None
        if value < 0:
            raise InvalidRequest(f"{name} must not be negative", field=name)
        return value

    return number("offset", 0), max(1, min(MAX_PAGE, number("limit", default_limit)))


def task_view(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "tenant_id": task.tenant_id,
        "channel": task.channel.value,
        "dialect": task.dialect,
        "state": task.state.value,
        "progress": task.progress,
        "failure_reason": task.failure_reason,
        "account_id": task.account_id,
        "upstream_id": task.upstream_id,
        "server_id": task.server_id,
        "attempts": task.attempts,
        "has_callback": task.notify_url is not None,
        "request": task.request.public_view(),
        "created_at": iso_z(task.created_at),
        "submitted_at": iso_z(task.submitted_at),
        "finished_at": iso_z(task.finished_at),
    }


async def _task(request: Request, task_id: str) -> Task:
    try:
        uuid.UUID(task_id)
    except ValueError:
        raise TaskNotFound("Task not found") from None
    task = await gateway_of(request).tasks.get(task_id)
    if task is None:
        raise TaskNotFound("Task not found")
    return task


async def list_tasks(request: Request) -> Any:
    gateway = gateway_of(request)
    params = request.query_params
    state = params.get("state") or None
    if state is not None and state not in {s.value for s in TaskState}:
        raise InvalidRequest("state is not a task state", field="state")
    tenant = params.get("key") or None
    tenant_id = None
    if tenant is not None:
        key = await gateway.keys.find(tenant)
        tenant_id = key.id if key is not None else tenant
    offset, limit = page(request)
    found, total = await list_any_tenant(
        gateway.db, tenant_id=tenant_id, state=state, offset=offset, limit=limit
    )
    return {"data": [task_view(t) for t in found], "total": total, "offset": offset}


async def get_task(task_id: str, request: Request) -> Any:
    gateway = gateway_of(request)
    task = await _task(request, task_id)
    view = task_view(task)
    view["body"] = await render_task(task, gateway.task_service)
    view["ledger"] = [
        {"kind": e.kind.value, "delta": e.delta, "balance_after": e.balance_after}
        for e in await gateway.ledger.entries(task_id=task.id)
    ]
    return view


async def task_deliveries(task_id: str, request: Request) -> Any:
    task = await _task(request, task_id)
    return {"data": await gateway_of(request).callbacks.log(task.id)}


def add_routes(router: APIRouter) -> None:
    router.add_api_route(
        "/tasks", list_tasks, methods=["GET"], summary="Tasks of any tenant (?key=&state=)"
    )
    router.add_api_route("/tasks/{task_id}", get_task, methods=["GET"], summary="One task")
    router.add_api_route(
        "/tasks/{task_id}/deliveries",
        task_deliveries,
        methods=["GET"],
        summary="The task's callback deliveries and their attempts",
    )
