"""One settings object: ``LUMAGATE_*`` environment variables over an optional TOML file.

The TOML file is ``$LUMAGATE_CONFIG`` if set, else ``<data dir>/lumagate.toml`` if it exists.
Every default makes a fresh install work: SQLite and media under the data directory, the sandbox
provider when no upstream account is configured.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from lumagate.domain.pricing import (
    DEFAULT_BASE,
    DEFAULT_CHANNEL,
    DEFAULT_DURATION,
    DEFAULT_RESOLUTION,
)
from lumagate.domain.video import FRAMES_PER_SECOND

# Response headers browser code may read by default: the rate-limit and retry hints, the id.
CORS_EXPOSED_HEADERS = (
    "Retry-After",
    "X-Request-Id",
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
)


def _config_file() -> Path | None:
    explicit = os.environ.get("LUMAGATE_CONFIG")
    if explicit:
        return Path(explicit)
    data_dir = Path(os.environ.get("LUMAGATE_DATA_DIR", "./lumagate-data"))
    candidate = data_dir / "lumagate.toml"
    return candidate if candidate.is_file() else None


class Settings(BaseSettings):
    """Gateway settings. Field ``x`` is read from ``LUMAGATE_X`` or key ``x`` of the TOML file."""

    model_config = SettingsConfigDict(env_prefix="LUMAGATE_", extra="ignore")

    data_dir: Path = Field(default=Path("./lumagate-data"), description="Database, media, secrets.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy async URL; default SQLite in the data dir."
    )
    public_url: str | None = Field(
        default=None, description="Base for links in responses; default from host and port."
    )
    host: str = "127.0.0.1"
    port: int = 8000
    server_id: str = Field(default="lumagate", description="Replica label shown as server_id.")
    default_model: str = "ray-2"
    max_body_bytes: int = 16 * 1024 * 1024
    max_image_bytes: int = 10 * 1024 * 1024
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])
    cors_allow_headers: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["*"],
        description="Request headers browsers may send (comma-separated; * any).",
    )
    cors_expose_headers: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(CORS_EXPOSED_HEADERS),
        description="Response headers browser code may read (comma-separated).",
    )
    sandbox_enabled: bool = Field(
        default=True, description="Offer the sandbox renderer while no real account is eligible."
    )
    sandbox_always: bool = Field(
        default=False, description="Let the sandbox serve even when a real account is eligible."
    )
    sandbox_concurrency: int = Field(default=2, ge=1)
    sandbox_fps: int = Field(
        default=FRAMES_PER_SECOND,
        ge=6,
        le=FRAMES_PER_SECOND,
        description="Frame rate of sandbox clips (Luma's is 24); a lower one renders in a "
        "fraction of the CPU, for a client's CI on a small machine (the gateway's tests use 6).",
    )
    degrade_to_deliverable: bool = Field(
        default=False,
        description=(
            "When no account of a task's channel can deliver what it asks (e.g. 1080p on web "
            "sessions), accept it at what can be delivered (recorded, shown and charged as "
            "such) instead of refusing it with a 400."
        ),
    )
    sandbox_fail_marker: str = Field(
        default="[[fail]]", description="A prompt containing this fails in the sandbox (tests)."
    )
    refresh_interval_seconds: float = Field(default=2.0, gt=0)
    dispatch_interval_seconds: float = Field(
        default=1.0, gt=0, description="Longest the dispatcher sleeps without an event."
    )
    lease_seconds: float = Field(default=30.0, gt=0)
    task_deadline_minutes: float = Field(
        default=120.0,
        ge=0,
        description="An unfinished task fails this long after its create (0: no deadline); a "
        "key's deadline_minutes overrides it. Fractions are allowed (tests use seconds).",
    )
    deadline_check_seconds: float = Field(
        default=10.0, gt=0, description="How often the engine looks for tasks past deadline."
    )
    upstream_cancel_retry_seconds: float = Field(
        default=30.0, gt=0, description="Wait before retrying an upstream cancel that failed."
    )
    chat_timeout_seconds: float = Field(
        default=600.0, gt=0, description="Longest a chat completion waits for its video."
    )
    log_level: str = "info"
    log_format: Literal["text", "json"] = Field(
        default="text", description="text: readable lines; json: one JSON object per line."
    )
    metrics_token: str | None = Field(
        default=None, description="When set, /metrics requires Authorization: Bearer <token>."
    )

    # -- the boundary (docs/security.md) -------------------------------------------------
    image_fetch_timeout_seconds: float = Field(
        default=15.0, gt=0, description="Longest fetch of an image at a tenant's URL, redirects in."
    )
    body_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Longest a request body may take to arrive (then 408)."
    )
    header_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Longest a connection may take to send a request's headers."
    )
    keep_alive_seconds: int = Field(
        default=5, ge=1, description="How long an idle keep-alive connection is kept open."
    )
    media_url: str | None = Field(
        default=None,
        description="Where media live: s3://bucket/prefix (S3-compatible); unset: the data dir.",
    )
    s3_endpoint_url: str | None = Field(
        default=None,
        description="S3 endpoint of a non-AWS store (MinIO, R2, moto); path-style addressing.",
    )
    s3_region: str | None = Field(default=None, description="Region of the S3 bucket.")
    media_serve: Literal["proxy", "redirect"] = Field(
        default="proxy",
        description="/files streams media (proxy) or redirects to a presigned S3 URL (redirect).",
    )
    media_retention_days: float | None = Field(
        default=None,
        gt=0,
        description="Remove media older than this many days (default: keep for ever).",
    )
    media_retention_sweep_seconds: float = Field(
        default=3600.0, gt=0, description="How often the retention sweep runs (with a retention)."
    )
    media_url_ttl_seconds: float | None = Field(
        default=None,
        gt=0,
        description="Sign /files links and let them expire after this long (default: no expiry).",
    )

    # -- tenants, billing, callbacks (docs/billing-and-callbacks.md) ---------------------
    admin_key: str | None = Field(
        default=None,
        repr=False,
        description="Key of the /admin API; default: generated into admin.key.",
    )
    secret_key: str | None = Field(
        default=None,
        repr=False,
        description="Fernet key sealing credentials at rest; default: generated secret.key.",
    )
    console_session_hours: float = Field(
        default=12.0, gt=0, description="How long an operator console sign-in lasts."
    )
    console_sign_in_attempts: int = Field(
        default=5, ge=1, description="Wrong console sign-ins per client per 5 minutes before 429."
    )
    price_base: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_BASE),
        description="Credits of a 720p 5 s default-channel generation, per model.",
    )
    price_resolution: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_RESOLUTION))
    price_duration: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_DURATION))
    price_channel: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_CHANNEL))
    price_overrides: dict[str, int] = Field(
        default_factory=dict,
        description='Exact prices: {"pro/ray-2/4k/9s": 2000, "*/ray-flash-2/*/*": 30}.',
    )
    credit_usd: float = Field(
        default=0.01, ge=0, description="USD value of one credit (one-api billing endpoints)."
    )
    running_limit_retry_after_seconds: int = Field(default=10, ge=1)
    callback_allow: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="CIDRs and host names callbacks may reach despite the SSRF rules.",
    )
    callback_timeout_seconds: float = Field(default=10.0, gt=0)
    callback_backoff_base_seconds: float = Field(default=5.0, gt=0)
    callback_backoff_cap_seconds: float = Field(default=3600.0, gt=0)
    callback_max_age_seconds: float = Field(
        default=24 * 3600.0, gt=0, description="Stop retrying a callback this long after its event."
    )
    callback_concurrency: int = Field(default=16, ge=1)

    # -- upstream accounts (docs/upstreams.md) -------------------------------------------
    upstream_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Read/write timeout of one upstream HTTP call."
    )
    upstream_get_attempts: int = Field(
        default=3, ge=1, description="Tries of an idempotent upstream call on transient errors."
    )
    upstream_callbacks: bool = Field(
        default=True, description="Ask official-API upstreams to call back on state changes."
    )
    upstream_callback_poll_seconds: float = Field(
        default=30.0, gt=0, description="Fallback poll interval of tasks that will be called back."
    )
    upstream_upkeep_seconds: float = Field(
        default=300.0, gt=0, description="Web session keep-alive and usage/credit refresh period."
    )
    rate_limit_cooldown_seconds: float = Field(
        default=30.0, gt=0, description="Cool-down after a 429 that names no Retry-After."
    )
    session_grace_seconds: float = Field(
        default=1800.0,
        ge=0,
        description="How long tasks of an account whose session died wait for it to be renewed.",
    )

    # -- keeping finished videos (docs/operations.md#keeping-videos) ---------------------
    mirror_media: bool = Field(
        default=True, description="Copy finished upstream videos into the media store."
    )
    mirror_pass_through_kinds: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Account kinds whose videos are not copied: their upstream links are given.",
    )
    mirror_attempts: int = Field(
        default=8, ge=1, description="Tries of a copy that fails transiently before the task fails."
    )
    mirror_backoff_base_seconds: float = Field(default=2.0, gt=0)
    mirror_backoff_cap_seconds: float = Field(default=300.0, gt=0)
    mirror_timeout_seconds: float = Field(
        default=900.0, gt=0, description="Longest one copy of one file may take."
    )
    mirror_max_bytes: int = Field(
        default=2 * 1024 * 1024 * 1024, gt=0, description="Largest file a copy accepts."
    )
    mirror_concurrency: int = Field(default=4, ge=1, description="Copies in flight per replica.")

    @field_validator(
        "callback_allow",
        "cors_allow_headers",
        "cors_expose_headers",
        "mirror_pass_through_kinds",
        mode="before",
    )
    @classmethod
    def _split_allow(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("media_url")
    @classmethod
    def _check_media_url(cls, value: str | None) -> str | None:
        """``s3://bucket[/prefix]`` or unset (an empty value means unset too)."""
        if value is None or not value.strip():
            return None
        bucket, _, prefix = value.strip().removeprefix("s3://").partition("/")
        if not value.startswith("s3://") or not bucket or ".." in prefix.split("/"):
            raise ValueError("LUMAGATE_MEDIA_URL must be s3://bucket or s3://bucket/prefix")
        return value.strip()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config = _config_file()
        if config is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config))
        return tuple(sources)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'lumagate.db').resolve()}"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    def resolved_public_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = self.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def replica_secrets_problem(self, *, admin: bool = True) -> str | None:
        """Why this process must not start as a replica, or None (docs/replicas.md).

        On PostgreSQL several replicas share one database: a credential one replica sealed
        with its own generated ``secret.key`` could not be opened by another, and each would
        accept a different ``/admin`` key. So there both keys must be given in the settings;
        SQLite is single-node and keeps generating them into the data dir. ``admin=False``
        checks only the secret key (the CLI's store commands never use the admin key).
        """
        if self.is_sqlite:
            return None
        missing = [
            f"LUMAGATE_{name.upper()}"
            for name, value in (("secret_key", self.secret_key), ("admin_key", self.admin_key))
            if not value and (admin or name == "secret_key")
        ]
        if not missing:
            return None
        return (
            f"{' and '.join(missing)} must be set on PostgreSQL: every replica of one database "
            "must seal and open credentials with the same secret key and accept the same admin "
            "key, so they cannot be generated per data dir (see docs/replicas.md; generate a "
            "secret key with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')"
        )

    def with_overrides(self, **changes: Any) -> Settings:
        return self.model_copy(update=changes)


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
