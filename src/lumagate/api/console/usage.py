"""``/console/usage``: generations and credits per key and day, as a chart, a table and CSV.

Numbers come from the credit ledger (charges less refunds), the same source tenants' usage
endpoints read; days are UTC days.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import timedelta

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from lumagate.api.console.charts import Column, bar_chart
from lumagate.api.console.deps import ConsoleServices, console_of, require_session
from lumagate.api.console.session import ConsoleSession
from lumagate.api.console.templating import translator_for
from lumagate.api.routers import app_router
from lumagate.domain.clock import utcnow
from lumagate.domain.errors import KeyNotFound
from lumagate.service.insights import UsageRow

PATH = "/console/usage"
PERIODS = (7, 30, 90)


async def _rows(services: ConsoleServices, request: Request) -> tuple[int, str, list[UsageRow]]:
    try:
        days = int(request.query_params.get("days", "7"))
    except ValueError:
        days = 7
    days = days if days in PERIODS else 7
    key_ref = request.query_params.get("key", "").strip()
    key_ids: tuple[str, ...] = ()
    if key_ref:
        try:
            key_ids = ((await services.admin.key(key_ref)).id,)
        except KeyNotFound:
            return days, key_ref, []
    return days, key_ref, await services.insights.usage(days, key_ids)


async def _usage(
    services: ConsoleServices, request: Request
) -> tuple[int, str, list[UsageRow], dict[str, str]]:
    """:func:`_rows`, and every key's name by id (the page and the CSV name the keys)."""
    days, key_ref, rows = await _rows(services, request)
    return days, key_ref, rows, {k.id: k.name for k in await services.admin.list_keys()}


async def usage_page(
    request: Request, session: ConsoleSession = Depends(require_session)
) -> HTMLResponse:
    console = console_of(request)
    days, key_ref, rows, names = await _usage(console.services, request)
    t = translator_for(request)
    per_day: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        per_day[row.day.isoformat()][0] += row.generations
        per_day[row.day.isoformat()][1] += row.credits
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    columns = []
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        generations, credits = per_day.get(day.isoformat(), [0, 0])
        label = t.short_date(day)
        title = t("chart.usage_title", when=label, generations=generations, credits=credits)
        columns.append(Column(label, (max(0, credits),), title))
    return console.pages.render(
        request,
        "usage.html",
        session,
        rows=rows,
        names=names,
        days=days,
        periods=PERIODS,
        key_ref=key_ref,
        usage_chart=bar_chart(columns, ("bar-credit",), label_every=max(1, days // 10)),
        total_generations=sum(r.generations for r in rows),
        total_credits=sum(r.credits for r in rows),
    )


def _cell(text: str) -> str:
    """A name as a CSV cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def usage_csv(
    request: Request, session: ConsoleSession = Depends(require_session)
) -> Response:
    days, _, rows, names = await _usage(console_of(request).services, request)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["day", "key_id", "key_name", "generations", "credits"])
    for row in rows:
        writer.writerow(
            [
                row.day.date().isoformat(),
                row.key_id,
                _cell(names.get(row.key_id, "")),
                row.generations,
                row.credits,
            ]
        )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="lumagate-usage-{days}d.csv"',
            "Cache-Control": "no-store",
        },
    )


def router(app: FastAPI) -> APIRouter:
    routes = app_router(app, include_in_schema=False)
    routes.add_api_route(PATH, usage_page, methods=["GET"], response_class=HTMLResponse)
    routes.add_api_route(PATH + ".csv", usage_csv, methods=["GET"])
    return routes
