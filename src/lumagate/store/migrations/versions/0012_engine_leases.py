"""Engine leases: one row per job a single replica of the set runs at a time (issue 10).

``engine_leases`` holds the polling lease (``store/engine_leases.py``): the replica that holds
it follows every running task with its poll schedule in memory, so a poll that changes nothing
writes nothing on PostgreSQL either (docs/replicas.md). Times are the database's clock.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "engine_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("engine_leases")
