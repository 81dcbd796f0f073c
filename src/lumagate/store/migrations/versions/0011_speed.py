"""An index for the operator's task list across tenants (issue 10, item 4).

``ix_tasks_created`` (created_at, id): ``GET /admin/tasks`` and the console's task search
without a tenant, newest first, walk the index instead of sorting every task; their totals
are counted a bounded way (``store.tasks.page_of_tasks``). No (state, created_at) index: both
planners then preferred it for a tenant's list by state, walking every tenant's tasks in
that state instead of the tenant's own; an operator's list by state walks ``ix_tasks_created``.

Revision ID: 0011
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tasks_created", "tasks", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_tasks_created", table_name="tasks")
