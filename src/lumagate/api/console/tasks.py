"""``/console/tasks``: the task log of every tenant, filtered and paged; one task's whole story.

A task's page shows its request, each state change with its time (from the task's own
timestamps: created → submitted → processing → finished), the upstream account and attempts,
the failure reason, its ledger entries, its callback deliveries with every response, and the
video with its thumbnail; an unfinished task has a cancel button (``POST …/cancel``, the admin
cancel: refunded). ``…/status`` is the small JSON the playground polls for progress.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from lumagate.api.console.deps import (
    ConsoleServices,
    checked_form,
    console_of,
    require_session,
)
from lumagate.api.console.session import ConsoleSession
from lumagate.api.console.views import back, media_href
from lumagate.api.routers import app_router
from lumagate.domain.channels import ALL_CHANNELS
from lumagate.domain.errors import KeyNotFound, TaskAlreadyEnded, TaskNotFound
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.service.account_admin import AccountNotFound
from lumagate.service.insights import TaskFilter

PATH = "/console/tasks"
PAGE_SIZE = 25
DIALECTS = ("reseller", "official", "luma_mock", "chat", "newapi_video", "openai_videos", "console")
NOTHING = "00000000-0000-0000-0000-000000000000"  # matches no task: an unknown key or account


def _when(raw: str, end: bool) -> datetime | None:
    """``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM`` (UTC); a bare end date includes that day."""
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        return None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value + timedelta(days=1) if end and len(raw) == 10 else value


async def _filter(services: ConsoleServices, params: dict[str, str]) -> TaskFilter:
    tenant_id = account_id = None
    if params.get("key"):
        try:
            tenant_id = (await services.admin.key(params["key"])).id
        except KeyNotFound:
            tenant_id = NOTHING
    if params.get("account"):
        try:
            account_id = (await services.admin.account(params["account"])).id
        except AccountNotFound:
            account_id = NOTHING
    state = params.get("state") or None
    channel = params.get("channel") or None
    return TaskFilter(
        state=state if state in {s.value for s in TaskState} else None,
        tenant_id=tenant_id,
        account_id=account_id,
        channel=channel if channel in {c.value for c in ALL_CHANNELS} else None,
        dialect=params.get("dialect") or None,
        created_from=_when(params.get("from", ""), end=False),
        created_until=_when(params.get("to", ""), end=True),
    )


async def _names(services: ConsoleServices) -> tuple[dict[str, str], dict[str, str]]:
    keys = {k.id: k.name for k in await services.admin.list_keys()}
    accounts = {a.id: a.name for a in await services.admin.list_accounts()}
    return keys, accounts


async def log_page(
    request: Request, session: ConsoleSession = Depends(require_session)
) -> HTMLResponse:
    console = console_of(request)
    names = ("state", "key", "account", "channel", "dialect", "from", "to")
    params = {n: request.query_params.get(n, "").strip() for n in names}
    try:
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page = 1
    where = await _filter(console.services, params)
    found, total = await console.services.insights.search_tasks(
        where, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    keys, accounts = await _names(console.services)
    kept = {k: v for k, v in params.items() if v}
    return console.pages.render(
        request,
        "tasks.html",
        session,
        tasks=found,
        total=total,
        page=page,
        pages=max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
        params=params,
        query=urlencode(kept),
        key_names=keys,
        account_names=accounts,
        states=[s.value for s in TaskState],
        channels=[c.value for c in ALL_CHANNELS],
        dialects=DIALECTS,
    )


async def any_task(services: ConsoleServices, task_id: str) -> Task | None:
    """Any tenant's task, or None for an unknown or malformed id."""
    try:
        return await services.admin.task(task_id)
    except TaskNotFound:
        return None


def timeline(task: Task) -> list[tuple[str, datetime]]:
    steps: list[tuple[str, datetime | None]] = [
        ("queued", task.created_at),
        ("submitted", task.submitted_at),
        ("processing", task.started_at),
        (task.state.value if task.is_terminal else "finished", task.finished_at),
    ]
    return [(name, at) for name, at in steps if at is not None]


def status_view(services: ConsoleServices, task: Task) -> dict[str, Any]:
    media = task.media
    return {
        "id": task.id,
        "state": task.state.value,
        "public_state": task.state.public,
        "progress": task.progress,
        "failure_reason": task.failure_reason,
        "video": media_href(services.tasks, media.video) if media else None,
        "thumbnail": media_href(services.tasks, media.thumbnail) if media else None,
    }


async def detail_page(
    task_id: str, request: Request, session: ConsoleSession = Depends(require_session)
) -> Response:
    console = console_of(request)
    services = console.services
    task = await any_task(services, task_id)
    if task is None:
        return console.pages.render(
            request, "refused.html", session, status_code=404, message="error.task_not_found"
        )
    keys, accounts = await _names(services)
    return console.pages.render(
        request,
        "task.html",
        session,
        task=task,
        key_name=keys.get(task.tenant_id, task.tenant_id),
        account_name=accounts.get(task.account_id or "", task.account_id),
        timeline=timeline(task),
        ledger=await services.admin.task_ledger(task.id),
        deliveries=await services.admin.task_deliveries(task.id),
        body=await services.admin.task_body(task),
        status=status_view(services, task),
    )


async def status(
    task_id: str, request: Request, session: ConsoleSession = Depends(require_session)
) -> Response:
    services = console_of(request).services
    task = await any_task(services, task_id)
    if task is None:
        return JSONResponse({"error": {"code": "not_found"}}, status_code=404)
    return JSONResponse(status_view(services, task), headers={"Cache-Control": "no-store"})


async def cancel(
    task_id: str, request: Request, session: ConsoleSession = Depends(require_session)
) -> Response:
    await checked_form(request, session)
    page = f"{PATH}/{task_id}"
    try:
        await console_of(request).services.admin.cancel_task(task_id)
    except TaskNotFound:
        return back(PATH, err="error.task_not_found")
    except TaskAlreadyEnded:
        return back(page, err="error.task_ended")
    return back(page, msg="flash.task_cancelled")


def router(app: FastAPI) -> APIRouter:
    routes = app_router(app, include_in_schema=False)
    routes.add_api_route(PATH, log_page, methods=["GET"], response_class=HTMLResponse)
    routes.add_api_route(PATH + "/{task_id}", detail_page, methods=["GET"])
    routes.add_api_route(PATH + "/{task_id}/status", status, methods=["GET"])
    routes.add_api_route(PATH + "/{task_id}/cancel", cancel, methods=["POST"])
    return routes
