"""Idempotency as Stripe's: remember what request an Idempotency-Key was first used for.

A replay of the same request answers the first task; the same key with a different body,
channel or dialect is refused (409). The fingerprint is a SHA-256 of the normalized request
(``service/idempotency.py``). Tasks stored before this revision have none, and any request
with their key still answers them (what the gateway promised when they were made).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("idempotency_fingerprint", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("idempotency_fingerprint")
