"""Settings (settings.py): ``LUMAGATE_MEDIA_URL`` is ``s3://bucket[/prefix]`` or unset; the
shared keys PostgreSQL replicas require; the public URL every link is built on."""

from __future__ import annotations

import os

import pytest
from pydantic import ValidationError

from lumagate.settings import Settings


def test_media_defaults_keep_media_in_the_data_dir_for_ever() -> None:
    settings = Settings()
    assert settings.media_url is None
    assert settings.media_serve == "proxy"
    assert settings.media_retention_days is None


@pytest.mark.parametrize(
    "value", ["s3://bucket", "s3://bucket/some/prefix"], ids=["bare", "prefix"]
)
def test_s3_urls_are_accepted(value: str) -> None:
    assert Settings(media_url=value).media_url == value


def test_empty_media_url_means_the_data_dir() -> None:
    assert Settings(media_url=" ").media_url is None


@pytest.mark.parametrize(
    "value",
    ["http://bucket/x", "s3://", "s3:///prefix", "s3://b/../x", "/srv/media"],
    ids=["http", "no-bucket", "empty-bucket", "dotdot", "path"],
)
def test_other_media_urls_are_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="LUMAGATE_MEDIA_URL"):
        Settings(media_url=value)


@pytest.mark.parametrize("field", ["media_serve", "media_retention_days"], ids=["serve", "days"])
def test_bad_serve_mode_and_retention_are_refused(field: str) -> None:
    bad: dict[str, object] = {"media_serve": "stream", "media_retention_days": 0}
    with pytest.raises(ValidationError):
        Settings(**{field: bad[field]})


PG = "postgresql+asyncpg://db.internal/lumagate"
SECRET = "x" * 44


@pytest.fixture(autouse=True)
def _no_lumagate_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("LUMAGATE_"):
            monkeypatch.delenv(name)


def test_sqlite_generates_its_keys_in_the_data_dir() -> None:
    assert Settings().replica_secrets_problem() is None


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        pytest.param({}, ["LUMAGATE_SECRET_KEY and LUMAGATE_ADMIN_KEY"], id="neither"),
        pytest.param({"admin_key": "sk-lg-admin-x"}, ["LUMAGATE_SECRET_KEY must"], id="no-secret"),
        pytest.param({"secret_key": SECRET}, ["LUMAGATE_ADMIN_KEY must"], id="no-admin"),
    ],
)
def test_postgresql_needs_both_shared_keys_and_says_why(
    given: dict[str, str], missing: list[str]
) -> None:
    problem = Settings(database_url=PG, **given).replica_secrets_problem()
    assert problem is not None
    for words in missing:
        assert words in problem
    assert "every replica" in problem and "docs/replicas.md" in problem
    assert SECRET not in problem and "sk-lg-admin-x" not in problem


def test_postgresql_with_both_keys_starts() -> None:
    settings = Settings(database_url=PG, secret_key=SECRET, admin_key="sk-lg-admin-x")
    assert settings.replica_secrets_problem() is None


def test_store_commands_need_only_the_secret_key() -> None:
    assert Settings(database_url=PG, secret_key=SECRET).replica_secrets_problem(admin=False) is None
    problem = Settings(database_url=PG).replica_secrets_problem(admin=False)
    assert problem is not None and "LUMAGATE_ADMIN_KEY" not in problem


def test_links_are_built_on_the_public_url_not_the_replicas_own_address() -> None:
    settings = Settings(host="10.0.0.7", port=8123, public_url="https://videos.example.com/")
    assert settings.resolved_public_url() == "https://videos.example.com"
    assert Settings(host="0.0.0.0", port=8123).resolved_public_url() == "http://127.0.0.1:8123"
