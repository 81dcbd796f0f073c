"""Media retention: remember when the retention policy removed a task's media.

``lumagate media gc`` and the background sweep delete media older than
``LUMAGATE_MEDIA_RETENTION_DAYS``; a completed task whose media went is stamped here (its
``media`` cleared), so every dialect answers ``video: null`` with a reason instead of a dead
link (docs/media.md).

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("media_removed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("media_removed_at")
