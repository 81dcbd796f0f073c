"""How ``lumagate tasks`` prints: a Rich table of a page, or one task's fields; or JSON."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table

from lumagate.client.admin import TaskPage

LIST_COLUMNS = ("id", "state", "progress", "channel", "dialect", "created_at", "failure_reason")
SHOW_FIELDS = (
    "id",
    "state",
    "progress",
    "channel",
    "dialect",
    "tenant_id",
    "account_id",
    "upstream_id",
    "server_id",
    "attempts",
    "failure_reason",
    "created_at",
    "submitted_at",
    "finished_at",
)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def print_page(page: TaskPage, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"data": page.tasks, "total": page.total, "offset": page.offset}))
        return
    table = Table(*LIST_COLUMNS, title=f"{len(page.tasks)} of {page.total} tasks")
    for task in page.tasks:
        table.add_row(*(_cell(task.get(column)) for column in LIST_COLUMNS))
    Console().print(table)


def print_task(task: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(task))
        return
    table = Table("field", "value", show_header=False)
    for name in SHOW_FIELDS:
        table.add_row(name, _cell(task.get(name)))
    table.add_row("request", json.dumps(task.get("request")))
    for entry in task.get("ledger") or []:
        table.add_row("ledger", json.dumps(entry))
    Console().print(table)
