"""One settings object: ``LUMAGATE_*`` environment variables over an optional TOML file.

The TOML file is ``$LUMAGATE_CONFIG`` if set, else ``<data dir>/lumagate.toml`` if it exists.
Every default makes a fresh install work: SQLite and media under the data directory, the sandbox
provider when no upstream account is configured.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
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
    sandbox_enabled: bool = Field(
        default=True, description="Offer the sandbox renderer while no real account is eligible."
    )
    sandbox_always: bool = Field(
        default=False, description="Let the sandbox serve even when a real account is eligible."
    )
    sandbox_concurrency: int = Field(default=2, ge=1)
    sandbox_fail_marker: str = Field(
        default="[[fail]]", description="A prompt containing this fails in the sandbox (tests)."
    )
    refresh_interval_seconds: float = Field(default=2.0, gt=0)
    dispatch_interval_seconds: float = Field(
        default=1.0, gt=0, description="Longest the dispatcher sleeps without an event."
    )
    lease_seconds: float = Field(default=30.0, gt=0)
    log_level: str = "info"

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

    def with_overrides(self, **changes: Any) -> Settings:
        return self.model_copy(update=changes)


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
