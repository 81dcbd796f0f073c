"""A number per task for clients that want an integer id (new-api's ``TaskDto.id int64``).

``tasks.numeric_id`` is ``domain.numeric_ids.numeric_id(tasks.id)`` (53 bits of the id's
SHA-256), written at insert; existing tasks get theirs here. Indexed with the tenant, because a
task is looked up by number only among its owner's tasks.

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lumagate.domain.numeric_ids import numeric_id

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("numeric_id", sa.BigInteger(), nullable=True))
    conn = op.get_bind()
    table = sa.table("tasks", sa.column("id", sa.String), sa.column("numeric_id", sa.BigInteger))
    while True:
        ids = [
            row[0]
            for row in conn.execute(
                sa.select(table.c.id).where(table.c.numeric_id.is_(None)).limit(BATCH)
            )
        ]
        if not ids:
            break
        conn.execute(
            sa.update(table).where(table.c.id == sa.bindparam("tid")),
            [{"tid": i, "numeric_id": numeric_id(i)} for i in ids],
        )
    op.create_index(
        "ix_tasks_tenant_numeric", "tasks", ["tenant_id", "numeric_id", "created_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_tasks_tenant_numeric", table_name="tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("numeric_id")
