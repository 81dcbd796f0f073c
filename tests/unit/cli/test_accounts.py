"""``lumagate accounts add|list|disable|enable|remove`` in process, over a real SQLite data dir:
each kind's credentials and settings, the errors an operator can make, and the listing."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lumagate.cli.main import app
from lumagate.domain.accounts import CALLBACKS, HOOK_TOKEN, Account, AccountHandle
from lumagate.wiring.stores import open_stores
from tests.support.stores import sqlite_settings


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("LUMAGATE_DATABASE_URL", "LUMAGATE_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LUMAGATE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def _account(data_dir: Path, ref: str) -> tuple[Account, AccountHandle] | None:
    """The stored account and its handle (credentials unsealed), or None."""

    async def load() -> tuple[Account, AccountHandle] | None:
        stores = open_stores(sqlite_settings(data_dir))
        try:
            account = await stores.accounts.find(ref)
            handle = None if account is None else await stores.accounts.load_handle(account.id)
            return None if account is None or handle is None else (account, handle)
        finally:
            await stores.close()

    return asyncio.run(load())


def _handle(data_dir: Path, ref: str) -> AccountHandle:
    found = _account(data_dir, ref)
    assert found is not None, ref
    return found[1]


def _stored(data_dir: Path, ref: str) -> Account:
    found = _account(data_dir, ref)
    assert found is not None, ref
    return found[0]


def test_each_kind_is_added_with_its_credential_and_settings(data_dir: Path) -> None:
    code, out = _run("accounts", "add", "luma-official", "--api-key", " luma-k1 ", "--no-callbacks")
    assert code == 0, out
    official = _handle(data_dir, "luma-official-1")
    assert official.credentials == {"api_key": "luma-k1"}  # trimmed
    assert official.settings[CALLBACKS] is False and len(official.settings[HOOK_TOKEN]) > 20
    code, out = _run(
        "accounts", "add", "luma-web", "--cookie", "access_token=t", "--name", "web",
        "--channels", "vip",
    )  # fmt: skip
    assert code == 0, out
    web = _handle(data_dir, "web")
    assert web.credentials == {"cookie": "access_token=t"}
    assert _stored(data_dir, "web").max_concurrency == 2
    code, out = _run(
        "accounts", "add", "relay", "--base-url", "http://127.0.0.1:9/vip/", "--api-key", "k",
    )  # fmt: skip
    assert code == 0, out
    relay = _handle(data_dir, "relay-1")
    assert relay.base_url == "http://127.0.0.1:9/vip"
    assert _stored(data_dir, "relay-1").max_concurrency == 5
    code, listing = _run("accounts", "list")
    # The table's layout follows the terminal; what it must never hold is a credential.
    letters = re.sub(r"[^A-Za-z0-9]", "", listing)
    assert code == 0 and "lumak1" not in letters and "accesstokent" not in letters


@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (("luma-official", "--api-key", "  "), "--api-key"),
        (("luma-web", "--cookie", "c", "--channels", "gold"), "--channels"),
        (("relay", "--base-url", "ftp://x", "--api-key", "k"), "--base-url"),
        (("relay", "--base-url", " ", "--api-key", "k"), "--base-url"),
    ],
    ids=["empty-key", "bad-channel", "bad-scheme", "no-base-url"],
)
def test_bad_options_are_usage_errors_naming_the_option(
    data_dir: Path, args: tuple[str, ...], mentions: str
) -> None:
    code, out = _run("accounts", "add", *args)
    assert code == 2 and mentions in out
    assert "Traceback" not in out


def test_a_taken_name_is_one_clear_line(data_dir: Path) -> None:
    assert _run("accounts", "add", "luma-web", "--cookie", "c", "--name", "same")[0] == 0
    code, out = _run("accounts", "add", "luma-web", "--cookie", "d", "--name", "same")
    assert code == 1 and "'same' already exists" in " ".join(out.split())


def test_disable_enable_and_remove(data_dir: Path) -> None:
    assert _run("accounts", "add", "luma-web", "--cookie", "c", "--name", "w")[0] == 0
    code, out = _run("accounts", "disable", "w", "--reason", "maintenance")
    assert code == 0, out
    disabled = _stored(data_dir, "w")
    assert not disabled.enabled and disabled.disabled_reason == "maintenance"
    assert _run("accounts", "list")[0] == 0
    assert _run("accounts", "enable", "w")[0] == 0
    assert _stored(data_dir, "w").enabled
    assert _run("accounts", "remove", "w")[0] == 0
    assert _account(data_dir, "w") is None
