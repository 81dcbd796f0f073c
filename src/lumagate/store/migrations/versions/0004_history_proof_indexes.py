"""Indexes that keep the hot queries bounded by what they return, not by history.

- ``ix_tasks_dispatch`` becomes (state, priority DESC, created_at, id): exactly the order the
  dispatcher walks the queue in, so a claim reads its batch off the index instead of sorting
  every queued task.
- ``ix_tasks_tenant_created`` becomes (tenant_id, created_at, id): a tenant's list page (newest
  first, id as tie-break) and its keyset cursor are an index walk, with no sort of the
  tenant's whole history.
- ``ix_tasks_finished`` (state, finished_at): the recent run time (the last completions) and
  the catch-up sweeps (failures and terminal tasks since a watermark) read only recent rows.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_tasks_dispatch", table_name="tasks")
    op.create_index(
        "ix_tasks_dispatch",
        "tasks",
        ["state", sa.text("priority DESC"), "created_at", "id"],
    )
    op.drop_index("ix_tasks_tenant_created", table_name="tasks")
    op.create_index("ix_tasks_tenant_created", "tasks", ["tenant_id", "created_at", "id"])
    op.create_index("ix_tasks_finished", "tasks", ["state", "finished_at"])


def downgrade() -> None:
    op.drop_index("ix_tasks_finished", table_name="tasks")
    op.drop_index("ix_tasks_tenant_created", table_name="tasks")
    op.create_index("ix_tasks_tenant_created", "tasks", ["tenant_id", "created_at"])
    op.drop_index("ix_tasks_dispatch", table_name="tasks")
    op.create_index("ix_tasks_dispatch", "tasks", ["state", "priority", "created_at"])
