"""``/admin/tasks``: tasks of any tenant, one task with its dialect body, its delivery log, cancel.

Routes are added to the admin router by :mod:`lumagate.api.admin` (which enforces the admin
key); the reads are :class:`~lumagate.service.admin.AdminService`'s, this module only shows
them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from lumagate.api.deps import Admin
from lumagate.domain import messages as msg
from lumagate.domain.clock import iso_z
from lumagate.domain.errors import InvalidRequest
from lumagate.domain.limits import MAX_OFFSET
from lumagate.domain.task import Task

MAX_PAGE = 500


def page(request: Request, default_limit: int = 50) -> tuple[int, int]:
    def number(name: str, default: int) -> int:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise InvalidRequest(msg.MUST_BE_INTEGER(field=name), field=name) from None
        if not 0 <= value <= MAX_OFFSET:
            raise InvalidRequest(msg.BETWEEN(field=name, minimum=0, maximum=MAX_OFFSET), field=name)
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
        "deadline_at": iso_z(task.deadline_at),
    }


async def list_tasks(request: Request, admin: Admin) -> Any:
    params = request.query_params
    offset, limit = page(request)
    found = await admin.list_tasks(
        key_ref=params.get("key") or None,
        state=params.get("state") or None,
        offset=offset,
        limit=limit,
    )
    return {
        "data": [task_view(t) for t in found.tasks],
        "total": found.total,
        "total_capped": found.total_capped,  # total is a lower bound (a bounded count)
        "offset": offset,
    }


async def get_task(task_id: str, admin: Admin) -> Any:
    task = await admin.task(task_id)
    view = task_view(task)
    view["body"] = await admin.task_body(task)
    view["ledger"] = [
        {"kind": e.kind.value, "delta": e.delta, "balance_after": e.balance_after}
        for e in await admin.task_ledger(task.id)
    ]
    return view


async def cancel_task(task_id: str, admin: Admin) -> Any:
    """Cancel any tenant's unfinished task; 409 once it has ended."""
    return task_view(await admin.cancel_task(task_id))


async def task_deliveries(task_id: str, admin: Admin) -> Any:
    task = await admin.task(task_id)
    return {"data": await admin.task_deliveries(task.id)}


def add_routes(router: APIRouter) -> None:
    router.add_api_route(
        "/tasks", list_tasks, methods=["GET"], summary="Tasks of any tenant (?key=&state=)"
    )
    router.add_api_route("/tasks/{task_id}", get_task, methods=["GET"], summary="One task")
    router.add_api_route(
        "/tasks/{task_id}/cancel",
        cancel_task,
        methods=["POST"],
        summary="Cancel an unfinished task (refunded; 409 once it has ended)",
    )
    router.add_api_route(
        "/tasks/{task_id}/deliveries",
        task_deliveries,
        methods=["GET"],
        summary="The task's callback deliveries and their attempts",
    )
