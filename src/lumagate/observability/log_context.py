"""What a log line is about: request id, task id, tenant key name, account — in contextvars.

The request-id middleware binds ``request_id`` for everything one request logs; the API binds
the tenant's key *name* once it is authenticated (never the key); the engine binds
``task_id`` and ``account`` while it works on a task (:func:`bind`). A task created by a
request remembers that request's id (per replica, the most recent tasks only), so the
engine's lines for the task carry the id the client sent in ``X-Request-Id``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

FIELDS = ("request_id", "task_id", "tenant", "account")
REMEMBERED_TASKS = 10_000

_vars: dict[str, ContextVar[str | None]] = {
    name: ContextVar(f"lumagate_log_{name}", default=None) for name in FIELDS
}
_request_of_task: OrderedDict[str, str] = OrderedDict()


def current() -> dict[str, str | None]:
    """The bound fields (``None`` where unbound)."""
    return {name: var.get() for name, var in _vars.items()}


def set_field(name: str, value: str | None) -> None:
    """Bind one field for the rest of the current context (a request's task)."""
    _vars[name].set(value)


@contextmanager
def bind(**fields: str | None) -> Iterator[None]:
    """Bind fields for a block; a task id brings the request id that created it."""
    task_id = fields.get("task_id")
    if task_id and "request_id" not in fields and task_id in _request_of_task:
        fields["request_id"] = _request_of_task[task_id]
    tokens = [(_vars[name], _vars[name].set(value)) for name, value in fields.items()]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def remember_task(task_id: str) -> None:
    """Called when a task is stored: link it to the current request id."""
    request_id = _vars["request_id"].get()
    if request_id is None:
        return
    _request_of_task[task_id] = request_id
    if len(_request_of_task) > REMEMBERED_TASKS:
        _request_of_task.popitem(last=False)
