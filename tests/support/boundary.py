"""Shared by the boundary acceptance tests: one server per database (SQLite, PostgreSQL) with a
tenant and an admin client, and readers of each dialect's error shape."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.acceptance import client
from tests.support.databases import (
    drop_pg_database,
    migrated_pg_database,
    postgres_available,
    replica_secrets,
)
from tests.support.servers import GatewayServer, server_env

ADMIN_KEY = "sk-lg-admin-bad-input-test"
UNKNOWN = "00000000-0000-4000-8000-000000000000"


@dataclass
class Env:
    server: GatewayServer
    database: str
    http: httpx.Client
    admin: httpx.Client


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    settings = {"admin_key": ADMIN_KEY}
    pg_name = None
    if request.param == "postgresql":
        reason = postgres_available()
        if reason is not None:
            if os.environ.get("CI"):
                pytest.fail(reason)  # CI has PostgreSQL: its absence is a failure there
            pytest.skip(reason)
        pg_name, settings["database_url"] = migrated_pg_database()
        settings["secret_key"] = replica_secrets()["secret_key"]
    data_dir = tmp_path_factory.mktemp(f"bad-{request.param}") / "data"
    data_dir.mkdir()
    settings["refresh_interval_seconds"] = "0.5"
    # Two servers per module on a shared two-core machine: allow a slow start.
    server = GatewayServer(data_dir, server_env(data_dir, **settings), startup_seconds=120)
    try:
        server.start()
        key = server.create_key("tenant")
        with client(server.base_url, key) as http, client(server.base_url, ADMIN_KEY) as admin:
            yield Env(server, settings.get("database_url", ""), http, admin)
    finally:
        server.stop()
        if pg_name is not None:
            drop_pg_database(pg_name)


# -- the dialects' error shapes -----------------------------------------------------------------
def openai_message(body: Any) -> str:
    assert set(body) == {"error"}, body
    return str(body["error"]["message"])


def reseller_message(body: Any) -> str:
    """The reseller shape: OpenAI's ``error`` beside the Go project's ``detail.reason``."""
    assert set(body) == {"error", "detail"}, body
    assert body["detail"]["reason"] == body["error"]["message"], body
    return str(body["error"]["message"])


def official_message(body: Any) -> str:
    assert set(body) == {"detail"}, body
    detail = body["detail"]
    if isinstance(detail, list):
        return " ".join(f"{'.'.join(map(str, d['loc']))}: {d['msg']}" for d in detail)
    return str(detail)


def mock_message(body: Any) -> str:
    assert set(body) == {"message"}, body
    return str(body["message"])


def newapi_message(body: Any) -> str:
    assert set(body) >= {"code", "message"}, body
    return str(body["message"])


def message_of(path: str) -> Callable[[Any], str]:
    if path.startswith("/dream-machine/"):
        return official_message
    if path.startswith("/api/"):
        return mock_message
    if path.startswith("/v1/video/"):
        return newapi_message
    if "/luma/" in path:
        return reseller_message
    return openai_message


def refused(response: httpx.Response, *mentions: str, status: int | None = None) -> str:
    """A 4xx (``status`` exactly, when given) in the path's dialect mentioning each word."""
    path = response.request.url.path
    assert 400 <= response.status_code < 500, (path, response.status_code, response.text[:300])
    if status is not None:
        assert response.status_code == status, (path, response.status_code, response.text[:300])
    message = message_of(path)(response.json())
    for word in mentions:
        assert word in message, f"{path}: {word!r} not in {message!r}"
    return message
