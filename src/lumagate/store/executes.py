"""What a unit of work's stores need of a connection: SQLAlchemy's or the raw driver's.

The create's transaction runs either on the engine (an ``AsyncConnection``) or on the raw
driver (``store/hot_write.py``); the stores it uses (``task_writes.py``, ``ledger.py``,
``quotas.py``, ``accounts.py``) type their connection by this protocol, so they run unchanged on
both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy.sql import Executable


class MappedRows(Protocol):
    """What the stores read from ``result.mappings()``."""

    def first(self) -> Any: ...

    def one(self) -> Any: ...

    def all(self) -> Sequence[Any]: ...


class Rows(Protocol):
    """What the stores read from a statement's result (SQLAlchemy's ``CursorResult`` has it)."""

    @property
    def rowcount(self) -> int: ...

    def mappings(self) -> MappedRows: ...

    def first(self) -> Any: ...

    def all(self) -> Sequence[Any]: ...

    def scalar_one(self) -> Any: ...

    def scalar_one_or_none(self) -> Any: ...


class Executes(Protocol):
    """A connection inside a transaction: SQLAlchemy's ``AsyncConnection`` or a raw one."""

    async def execute(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> Rows: ...
