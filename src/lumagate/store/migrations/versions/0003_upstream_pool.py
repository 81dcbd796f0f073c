"""Upstream pool: find a task by its account and upstream generation id quickly.

Upstream callbacks (``Refresher.poke``), progress callbacks and the reconciler's "is this
generation already some task's?" check all look tasks up by (account, upstream id); without
an index that is a scan of every task the account ever ran.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tasks_account_upstream", "tasks", ["account_id", "upstream_id"])


def downgrade() -> None:
    op.drop_index("ix_tasks_account_upstream", table_name="tasks")
