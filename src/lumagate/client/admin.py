"""The operator's side of the client: ``/admin/tasks`` with the admin key (blocking).

Tasks are returned as the gateway's admin views (plain dicts: every tenant's tasks carry
fields no tenant sees, such as the account and upstream id), so the operator gets all of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from lumagate.client.calls import Call, json_object
from lumagate.client.transport import (
    DEFAULT_TIMEOUT_SECONDS,
    GatewaySession,
)


@dataclass(frozen=True)
class TaskPage:
    """One page of tasks across tenants, newest first, and how many match in all."""

    tasks: list[dict[str, Any]]
    total: int
    offset: int


class AdminClient(GatewaySession):
    """Reads tasks of every tenant over ``/admin`` (``Authorization: Bearer <admin key>``)."""

    def __init__(
        self,
        base_url: str,
        admin_key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, admin_key, timeout=timeout, transport=transport)

    def _get(self, call: Call) -> dict[str, Any]:
        return json_object(self._send(call))

    def list_tasks(
        self, *, state: str | None = None, key: str | None = None, offset: int = 0, limit: int = 20
    ) -> TaskPage:
        """Tasks of any tenant; ``state`` is an engine state, ``key`` a key name or prefix."""
        params: dict[str, Any] = {"offset": offset, "limit": limit}
        if state:
            params["state"] = state
        if key:
            params["key"] = key
        body = self._get(Call("GET", "/admin/tasks", params=params))
        tasks = [t for t in body.get("data") or [] if isinstance(t, dict)]
        total = body.get("total")
        return TaskPage(tasks, total if isinstance(total, int) else len(tasks), offset)

    def get_task(self, task_id: str) -> dict[str, Any]:
        """One task: the admin view, its dialect body and its ledger entries."""
        return self._get(Call("GET", f"/admin/tasks/{quote(task_id, safe='')}"))
