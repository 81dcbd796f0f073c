"""SQLAlchemy statements run on a raw driver connection, with the engine's own SQL and values.

The create's write transaction (``store/hot_write.py``) runs the stores' statements (the very
objects ``task_writes.py``, ``ledger.py`` and ``quotas.py`` build) on the stdlib :mod:`sqlite3`
or on asyncpg, without SQLAlchemy's execution machinery (on SQLite: aiosqlite's thread
hand-offs; on PostgreSQL: the greenlet adapter). :class:`Prepared` compiles a statement once for
the dialect and turns each call's values into what the engine would send: the same SQL, the
parameters through the same bind processors (:meth:`SQLCompiler.construct_expanded_state`, as
SQLAlchemy's own execution does), the rows decoded by the columns' result processors. The stores
do not know which connection runs them: both satisfy
:class:`~lumagate.store.executes.Executes`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert, UpdateBase
from sqlalchemy.sql.selectable import Select

from lumagate.store.hot_read import Processor, result_processor

PREPARED = 64  # statements kept compiled; the create's constants stay, per-call ones pass through


class RawRows:
    """The decoded rows of one statement (all fetched), read the way ``CursorResult`` is."""

    def __init__(self, keys: Sequence[str], rows: list[tuple[Any, ...]], rowcount: int) -> None:
        self.keys = keys
        self.rows = rows
        self.rowcount = rowcount

    def mappings(self) -> RawMappings:
        return RawMappings([dict(zip(self.keys, row, strict=True)) for row in self.rows])

    def first(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    def all(self) -> list[tuple[Any, ...]]:
        return self.rows

    def scalar_one(self) -> Any:
        if len(self.rows) != 1:
            raise LookupError(f"expected one row, got {len(self.rows)}")
        return self.rows[0][0]

    def scalar_one_or_none(self) -> Any:
        if len(self.rows) > 1:
            raise LookupError(f"expected at most one row, got {len(self.rows)}")
        return self.rows[0][0] if self.rows else None


class RawMappings:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def first(self) -> dict[str, Any] | None:
        return self.rows[0] if self.rows else None

    def one(self) -> dict[str, Any]:
        if len(self.rows) != 1:
            raise LookupError(f"expected one row, got {len(self.rows)}")
        return self.rows[0]

    def all(self) -> list[dict[str, Any]]:
        return self.rows


class Prepared:
    """One statement compiled for ``dialect`` (an INSERT for the columns it is given)."""

    def __init__(
        self, statement: Executable, dialect: Dialect, column_keys: Sequence[str] | None
    ) -> None:
        self.statement = statement  # held: the cache's key is its id
        assert isinstance(statement, ClauseElement)  # a select, insert or update
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)
        assert isinstance(compiled, SQLCompiler)
        self.compiled = compiled
        # Each bound value's processor, as SQLAlchemy's execution takes them (expanded IN
        # parameters add theirs per call).
        self.bind_processors: dict[str, Processor] = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for bind, name in compiled.bind_names.items()
        }
        columns = _returned_columns(statement)
        self.processors: list[Processor] = [result_processor(c, dialect) for c in columns]
        self.returns_rows = bool(columns)
        # Every value a caller's parameter, the text fixed (no IN list to expand): the create's
        # statements, built once with bind parameters. Their values go to the driver directly;
        # SQLAlchemy's parameter construction and post-compile pass (a regular expression over
        # the text) cost more than the statement. Anything else takes that construction.
        fixed = not compiled.post_compile_params and not compiled.literal_execute_params
        names = compiled.positiontup
        self._direct = (
            tuple((name, self.bind_processors.get(name)) for name in names)
            if fixed and names is not None and all(b.required for b in compiled.binds.values())
            else None
        )

    def arguments(self, values: Mapping[str, Any] | None) -> tuple[str, tuple[Any, ...]]:
        """The SQL text and its positional parameters, as the engine would send them."""
        if self._direct is not None:
            given = values or {}
            return self.compiled.string, tuple(
                _processed(process, given[name]) for name, process in self._direct
            )
        state = self.compiled.construct_expanded_state(values)
        processors = self.bind_processors
        if state.processors:  # an expanded IN: its elements' processors
            processors = {**processors, **state.processors}
        parameters = state.parameters
        assert state.positiontup is not None  # both dialects' paramstyles are positional
        return state.statement, tuple(
            _processed(processors.get(name), parameters[name]) for name in state.positiontup
        )

    def decode(self, row: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            value if process is None or value is None else process(value)
            for process, value in zip(self.processors, row, strict=True)
        )


class PreparedStatements:
    """Compiled statements by identity (each held, so its id cannot be reused), LRU-bounded."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._cache: OrderedDict[tuple[int, tuple[str, ...] | None], Prepared] = OrderedDict()

    def get(self, statement: Executable, values: Mapping[str, Any] | None) -> Prepared:
        column_keys = tuple(values) if isinstance(statement, Insert) and values else None
        key = (id(statement), column_keys)
        prepared = self._cache.get(key)
        if prepared is not None and prepared.statement is statement:
            self._cache.move_to_end(key)
            return prepared
        prepared = Prepared(statement, self.dialect, column_keys)
        self._cache[key] = prepared
        if len(self._cache) > PREPARED:
            self._cache.popitem(last=False)
        return prepared


def _processed(process: Processor, value: Any) -> Any:
    return value if process is None else process(value)


def _returned_columns(statement: Executable) -> list[Any]:
    if isinstance(statement, Select):
        return list(statement.selected_columns)
    if isinstance(statement, UpdateBase):
        return list(statement.exported_columns)
    raise TypeError(f"not a statement the raw driver runs: {type(statement).__name__}")
