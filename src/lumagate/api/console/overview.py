"""``/console``: queues, account load, outcomes over 24 h and 7 d, callback backlog, spend."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse

from lumagate.api.console.charts import Column, bar_chart
from lumagate.api.console.deps import console_of, require_session
from lumagate.api.console.i18n import Translator
from lumagate.api.console.session import ConsoleSession
from lumagate.api.console.templating import translator_for
from lumagate.api.console.views import account_state
from lumagate.api.routers import app_router
from lumagate.domain.clock import utcnow
from lumagate.service.insights import Bucket

CHART_CSS = ("bar-ok", "bar-fail")


def _columns(buckets: list[Bucket], t: Translator, hourly: bool) -> list[Column]:
    columns = []
    for bucket in buckets:
        label = t.hour(bucket.start) if hourly else t.short_date(bucket.start)
        title = t("chart.bar_title", when=label, ok=bucket.completed, failed=bucket.failed)
        columns.append(Column(label, (bucket.completed, bucket.failed), title))
    return columns


async def overview(
    request: Request, session: ConsoleSession = Depends(require_session)
) -> HTMLResponse:
    console = console_of(request)
    now = utcnow()
    data = await console.services.insights.overview(now)
    t = translator_for(request)
    return console.pages.render(
        request,
        "overview.html",
        session,
        data=data,
        now=now,
        states={load.account.id: account_state(load.account, now) for load in data.accounts},
        hourly=bar_chart(_columns(data.hourly, t, hourly=True), CHART_CSS, label_every=3),
        daily=bar_chart(_columns(data.daily, t, hourly=False), CHART_CSS),
        totals_24h=(sum(b.completed for b in data.hourly), sum(b.failed for b in data.hourly)),
        totals_7d=(sum(b.completed for b in data.daily), sum(b.failed for b in data.daily)),
    )


def router(app: FastAPI) -> APIRouter:
    routes = app_router(app, include_in_schema=False)
    routes.add_api_route("/console", overview, methods=["GET"], response_class=HTMLResponse)
    return routes
