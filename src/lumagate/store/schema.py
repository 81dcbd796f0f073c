"""Table definitions (SQLAlchemy Core). Migrations under ``migrations/`` create exactly these."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()


def _ts(name: str, nullable: bool = True) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("key_prefix", String(16), nullable=False),
    Column("credits", BigInteger, nullable=True),  # NULL: unlimited
    Column("channels", String(64), nullable=False, server_default="default,vip,pro"),
    Column("rpm", Integer, nullable=True),
    Column("max_running", Integer, nullable=True),
    Column("plan", String(32), nullable=False, server_default="standard"),
    Column("webhook_secret", Text, nullable=True),  # encrypted
    Column("deadline_minutes", Integer, nullable=True),  # migration 0009; NULL: the setting
    _ts("expires_at"),
    _ts("revoked_at"),
    _ts("created_at", nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("base_url", Text, nullable=True),
    Column("credentials", Text, nullable=True),  # encrypted JSON
    Column("max_concurrency", Integer, nullable=False),
    Column("channels", String(64), nullable=False, server_default="default,vip,pro"),
    Column("enabled", Boolean, nullable=False, server_default="1"),
    Column("disabled_reason", Text, nullable=True),
    _ts("cooldown_until"),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=True),
    Column("settings", JSON, nullable=False, default=dict),
    _ts("created_at", nullable=False),
    _ts("updated_at", nullable=False),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("tenant_id", String(36), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("dialect", String(32), nullable=False),
    Column("request", JSON, nullable=False),
    Column("source_task_id", String(36), nullable=True),
    Column("state", String(16), nullable=False),
    Column("account_id", String(36), nullable=True),
    Column("upstream_id", String(200), nullable=True),
    Column("progress", Integer, nullable=False, server_default="0"),
    Column("media", JSON, nullable=True),
    Column("failure_reason", Text, nullable=True),
    Column("notify_url", Text, nullable=True),
    Column("idempotency_key", String(200), nullable=True),
    Column("idempotency_fingerprint", String(64), nullable=True),  # migration 0005
    Column("numeric_id", BigInteger, nullable=True),  # migration 0008 (domain/numeric_ids.py)
    _ts("media_removed_at"),  # migration 0007: the retention policy removed the media
    Column("server_id", String(200), nullable=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("hidden", Boolean, nullable=False, server_default="0"),
    Column("lease_owner", String(64), nullable=True),
    _ts("lease_expires_at"),
    _ts("not_before"),
    _ts("next_poll_at"),
    _ts("created_at", nullable=False),
    _ts("updated_at", nullable=False),
    _ts("submitted_at"),
    _ts("started_at"),
    _ts("finished_at"),
    _ts("deadline_at"),  # migration 0009
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_tasks_tenant_idempotency"),
    Index("ix_tasks_account_state", "account_id", "state"),
    Index("ix_tasks_poll", "state", "next_poll_at"),
    Index("ix_tasks_account_upstream", "account_id", "upstream_id"),  # migration 0003
)

# Migration 0004: the dispatcher's walk order, a tenant's list order, recent completions.
Index(
    "ix_tasks_dispatch",
    tasks.c.state,
    tasks.c.priority.desc(),
    tasks.c.created_at,
    tasks.c.id,
)
Index("ix_tasks_tenant_created", tasks.c.tenant_id, tasks.c.created_at, tasks.c.id)
# Migration 0008: a task by its number among its tenant's, oldest first (no sort).
Index(
    "ix_tasks_tenant_numeric",
    tasks.c.tenant_id,
    tasks.c.numeric_id,
    tasks.c.created_at,
    tasks.c.id,
)
Index("ix_tasks_finished", tasks.c.state, tasks.c.finished_at)
# Migration 0009: unfinished tasks past their deadline.
Index("ix_tasks_deadline", tasks.c.state, tasks.c.deadline_at)
# Migration 0011: the operator's list across tenants, newest first.
Index("ix_tasks_created", tasks.c.created_at, tasks.c.id)

# -- billing and callbacks (migration 0002) ------------------------------------------------
_autoincrement_id = BigInteger().with_variant(Integer, "sqlite")

ledger = Table(
    "ledger",
    metadata,
    Column("id", _autoincrement_id, primary_key=True, autoincrement=True),
    Column("key_id", String(36), nullable=False),
    Column("task_id", String(36), nullable=True),
    Column("kind", String(16), nullable=False),  # opening, charge, refund, top_up
    Column("delta", BigInteger, nullable=False),  # change of the balance (charge < 0)
    Column("balance_after", BigInteger, nullable=True),  # NULL: unlimited key
    Column("note", Text, nullable=True),
    _ts("created_at", nullable=False),
    UniqueConstraint("task_id", "kind", name="uq_ledger_task_kind"),
    Index("ix_ledger_key_created", "key_id", "created_at"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("task_id", String(36), nullable=False),
    Column("tenant_id", String(36), nullable=False),
    Column("event", String(16), nullable=False),
    Column("url", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("state", String(16), nullable=False),  # pending, delivered, refused, failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    _ts("next_attempt_at"),
    Column("last_status", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    _ts("created_at", nullable=False),
    _ts("updated_at", nullable=False),
    _ts("delivered_at"),
    UniqueConstraint("task_id", "event", name="uq_deliveries_task_event"),
    Index("ix_deliveries_due", "state", "next_attempt_at"),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", _autoincrement_id, primary_key=True, autoincrement=True),
    Column("delivery_id", String(36), nullable=False),
    Column("attempt", Integer, nullable=False),
    _ts("started_at", nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Index("ix_delivery_attempts_delivery", "delivery_id", "attempt"),
)

render_jobs = Table(  # migration 0010: sandbox renders with a lease any replica can take over
    "render_jobs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("request", Text, nullable=False),  # JSON of the GenerationRequest
    Column("source", String(64), nullable=True),
    Column("media_folder", Text, nullable=False),
    Column("state", String(16), nullable=False),  # waiting, rendering, completed, failed
    Column("failure_reason", Text, nullable=True),
    Column("owner", String(64), nullable=True),
    _ts("lease_expires_at"),
    Column("renders", Integer, nullable=False, server_default="0"),
    _ts("created_at", nullable=False),
    _ts("updated_at", nullable=False),
)

engine_leases = Table(  # migration 0012: a job one replica runs at a time (the polling lease)
    "engine_leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("owner", String(64), nullable=False),
    _ts("taken_at", nullable=False),  # when ``owner`` took it (kept by renewals: its term)
    _ts("expires_at", nullable=False),  # the database's clock
)

# -- keeping finished videos (migration 0006) -------------------------------------------
media_mirrors = Table(
    "media_mirrors",
    metadata,
    Column("id", String(36), primary_key=True),  # the task's id: one copy job per task
    Column("account_id", String(36), nullable=True),
    Column("upstream_id", String(200), nullable=True),
    Column("source", JSON, nullable=False),  # the upstream's links (refreshed when expired)
    Column("copied", JSON, nullable=False),  # asset -> media key, as each file is kept
    Column("prefix", String(100), nullable=False),
    Column("state", String(16), nullable=False),  # pending, done, failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    _ts("next_attempt_at"),  # due time; pushed out by a hold while a replica copies
    Column("lease_owner", String(64), nullable=True),
    Column("last_error", Text, nullable=True),
    _ts("created_at", nullable=False),
    _ts("updated_at", nullable=False),
    Index("ix_media_mirrors_due", "state", "next_attempt_at"),
)
