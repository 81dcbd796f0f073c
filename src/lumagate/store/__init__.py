"""The store: the only code that knows SQL. One code path for SQLite and PostgreSQL."""

from lumagate.store import core_asyncio

core_asyncio.install()  # before any store module imports sqlalchemy.ext.asyncio (no ORM)
