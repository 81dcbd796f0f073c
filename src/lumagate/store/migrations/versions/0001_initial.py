"""Initial schema: api keys, upstream accounts, tasks.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("key_prefix", sa.String(16), nullable=False),
        sa.Column("credits", sa.BigInteger, nullable=True),
        sa.Column("channels", sa.String(64), nullable=False, server_default="default,vip,pro"),
        sa.Column("rpm", sa.Integer, nullable=True),
        sa.Column("max_running", sa.Integer, nullable=True),
        sa.Column("plan", sa.String(32), nullable=False, server_default="standard"),
        sa.Column("webhook_secret", sa.Text, nullable=True),
        _ts("expires_at"),
        _ts("revoked_at"),
        _ts("created_at", nullable=False),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("base_url", sa.Text, nullable=True),
        sa.Column("credentials", sa.Text, nullable=True),
        sa.Column("max_concurrency", sa.Integer, nullable=False),
        sa.Column("channels", sa.String(64), nullable=False, server_default="default,vip,pro"),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default="1"),
        sa.Column("disabled_reason", sa.Text, nullable=True),
        _ts("cooldown_until"),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("settings", sa.JSON, nullable=False),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
    )
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("dialect", sa.String(32), nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("source_task_id", sa.String(36), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("account_id", sa.String(36), nullable=True),
        sa.Column("upstream_id", sa.String(200), nullable=True),
        sa.Column("progress", sa.Integer, nullable=False, server_default="0"),
        sa.Column("media", sa.JSON, nullable=True),
        sa.Column("failure_reason", sa.Text, nullable=True),
        sa.Column("notify_url", sa.Text, nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("server_id", sa.String(200), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("hidden", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        _ts("lease_expires_at"),
        _ts("not_before"),
        _ts("next_poll_at"),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        _ts("submitted_at"),
        _ts("started_at"),
        _ts("finished_at"),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="uq_tasks_tenant_idempotency"),
    )
    op.create_index("ix_tasks_dispatch", "tasks", ["state", "priority", "created_at"])
    op.create_index("ix_tasks_tenant_created", "tasks", ["tenant_id", "created_at"])
    op.create_index("ix_tasks_account_state", "tasks", ["account_id", "state"])
    op.create_index("ix_tasks_poll", "tasks", ["state", "next_poll_at"])


def downgrade() -> None:
    op.drop_table("tasks")
    op.drop_table("accounts")
    op.drop_table("api_keys")
