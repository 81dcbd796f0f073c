"""Alembic environment: runs migrations on a connection handed in by lumagate.store.migrate.

The gateway applies migrations at start-up inside its own event loop, so this environment
never creates an engine or an event loop itself; it uses the synchronous connection the
caller passes in ``config.attributes["connection"]`` (Alembic's connection-sharing recipe).
"""

from __future__ import annotations

from alembic import context

from lumagate.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through 'lumagate db upgrade' (lumagate.store.migrate)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
