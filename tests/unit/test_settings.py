"""Settings that replicas depend on (settings.py): the shared keys PostgreSQL requires, and the
public URL every link is built on."""

from __future__ import annotations

import pytest

from lumagate.settings import Settings

PG = "postgresql+asyncpg://db.internal/lumagate"
SECRET = "x" * 44


@pytest.fixture(autouse=True)
def _no_lumagate_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

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
