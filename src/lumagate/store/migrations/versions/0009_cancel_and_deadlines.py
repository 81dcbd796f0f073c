"""Cancel and deadlines: a deadline per task, a per-key deadline, and the index that finds
the tasks past theirs.

- ``tasks.deadline_at``: when a task that has not ended fails with ``timed out after N
  minutes`` (NULL: no deadline). Set at create from the key's ``deadline_minutes`` or the
  ``task_deadline_minutes`` setting.
- ``api_keys.deadline_minutes``: the key's own deadline (NULL: the setting; 0: none).
- ``ix_tasks_deadline`` (state, deadline_at): the deadline loop reads only the unfinished tasks
  whose deadline has passed, whatever the history holds.

The ``cancelled`` state needs no schema change (``tasks.state`` is a string); a cancelled or
timed-out task whose upstream generation is still to be cancelled keeps ``next_poll_at`` set
(``ix_tasks_poll`` finds it).

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("deadline_minutes", sa.Integer, nullable=True))
    op.create_index("ix_tasks_deadline", "tasks", ["state", "deadline_at"])


def downgrade() -> None:
    op.drop_index("ix_tasks_deadline", table_name="tasks")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("deadline_minutes")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("deadline_at")
