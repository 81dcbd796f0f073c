"""Keep finished upstream videos: one durable copy job per task (``media_mirrors``).

A task that completes on a real upstream is reported ``completed`` only once its video is in
the media store; the job row survives restarts and is claimed by one replica at a time
(``engine/mirroring.py``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "media_mirrors",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("account_id", sa.String(36), nullable=True),
        sa.Column("upstream_id", sa.String(200), nullable=True),
        sa.Column("source", sa.JSON, nullable=False),
        sa.Column("copied", sa.JSON, nullable=False),
        sa.Column("prefix", sa.String(100), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_media_mirrors_due", "media_mirrors", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_media_mirrors_due", table_name="media_mirrors")
    op.drop_table("media_mirrors")
