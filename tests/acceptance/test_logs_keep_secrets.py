"""The whole server log of a busy run: one access line per request, not one secret.

``lumagate serve`` at log level info with every kind of secret in play: a tenant key, a relay
account (whose key is another tenant key of the same gateway), a web account with a cookie, an
official account whose upstream calls the gateway back on ``/upstream-hooks/<token>``, a
callback with a token in its URL and signed with a webhook secret, and admin calls (one giving
a full API key as the ``ref``, one creating a key). Afterwards the log is searched for each of
those values, and for the ``--- Logging error ---`` dump the redactor used to cause.

Routing keeps the relay from looping: the tenant's ``vip`` task goes to the relay account,
which creates a ``pro`` task on this same gateway with its own key; ``pro`` is served by the
web account and ``default`` by the official one.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lumagate.sim.testing import SimServer, StartSim
from tests.support.receiver import CallbackReceiver
from tests.support.servers import GatewayServer, server_env
from tests.support.upstreams import FAST_GATEWAY, account_states, db_rows

pytestmark = pytest.mark.slow

WEB_TOKEN = "webcookie-access-7f3a9c1e5b"
OFFICIAL_KEY = "luma-official-key-93be77d02c"
CALLBACK_TOKEN = "cbtoken-5d41402abc4b2a76b9719d911017c592"
ACCESS_LINE = re.compile(r'"(GET|POST|HEAD|DELETE|PUT|PATCH) (\S+) HTTP/1\.1" (\d{3})')


@pytest.fixture
def receiver() -> Iterator[CallbackReceiver]:
    listening = CallbackReceiver().start()
    try:
        yield listening
    finally:
        listening.stop()


def _add_account(server: GatewayServer, kind: str, name: str, *args: str) -> None:
    server.cli_in_process("accounts", "add", kind, *args, "--name", name, "--max-concurrency", "2")


def _gateway(data_dir: Path, sim: SimServer) -> tuple[GatewayServer, str, str]:
    data_dir.mkdir(parents=True)
    settings = {**FAST_GATEWAY, "callback_allow": "127.0.0.1/32"}
    server = GatewayServer(data_dir, server_env(data_dir, **settings), log_level="info")
    server.start().stop()  # learn the port it binds (restarts bind it again): the relay needs it
    relay_key = server.create_key("relay-tenant", "--channels", "pro")
    cookie = f"access_token={WEB_TOKEN}; luma_session=s-{WEB_TOKEN}; refresh_token=r-{WEB_TOKEN}"
    _add_account(
        server,
        "luma-web",
        "web",
        "--cookie",
        cookie,
        "--base-url",
        sim.base_url,
        "--channels",
        "pro",
    )
    _add_account(
        server,
        "luma-official",
        "official",
        "--api-key",
        OFFICIAL_KEY,
        "--base-url",
        sim.base_url + "/dream-machine/v1",
        "--channels",
        "default",
    )
    _add_account(
        server,
        "relay",
        "relay",
        "--base-url",
        server.base_url + "/pro",
        "--api-key",
        relay_key,
        "--channels",
        "vip",
    )
    created = server.cli_in_process(
        "keys", "create", "--name", "tenant", "--channels", "default,vip"
    )
    tenant_key = created.stdout.strip().splitlines()[-1]
    secret = re.search(r"whsec_\S+", created.stderr)
    assert secret is not None, created.stderr
    return server.start(), tenant_key, relay_key + " " + secret.group(0)


def test_one_access_line_per_request_and_no_secret(
    tmp_path: Path, start_sim: StartSim, receiver: CallbackReceiver
) -> None:
    sim = start_sim()
    server, tenant_key, more = _gateway(tmp_path / "gw", sim)
    relay_key, webhook_secret = more.split()
    admin_key = (server.data_dir / "admin.key").read_text().strip()
    asked: list[str] = []  # paths this test requested (each with a unique probe number)
    try:
        with httpx.Client(base_url=server.base_url, timeout=30, trust_env=False) as raw:

            def call(method: str, path: str, key: str, **kwargs: Any) -> httpx.Response:
                probe = f"{path}{'&' if '?' in path else '?'}probe={len(asked)}"
                asked.append(probe)
                headers = {"Authorization": f"Bearer {key}"}
                return raw.request(method, probe, headers=headers, **kwargs)

            hook = f"{receiver.url}/hook?token={CALLBACK_TOKEN}"
            first = call(
                "POST",
                "/luma/generations",
                tenant_key,
                json={"user_prompt": "a quiet harbour", "notify_hook": hook},
            )
            relayed = call(
                "POST", "/vip/luma/generations", tenant_key, json={"user_prompt": "a paper boat"}
            )
            assert first.status_code == relayed.status_code == 200, (first.text, relayed.text)
            for task_id in (first.json()["id"], relayed.json()["id"]):
                deadline = time.monotonic() + 120
                while True:
                    task = call("GET", f"/luma/generations/{task_id}", tenant_key).json()
                    if task["state"] in ("completed", "failed") or time.monotonic() > deadline:
                        break
                    time.sleep(0.5)
                assert task["state"] == "completed", task
            deadline = time.monotonic() + 60
            while not receiver.received and time.monotonic() < deadline:
                time.sleep(0.2)
            assert receiver.received, "the callback never came"
            assert (
                call("GET", f"/admin/keys/{tenant_key}", admin_key).status_code == 404
            )  # not a ref
            assert call("GET", f"/admin/keys/{relay_key}x", admin_key).status_code == 404
            made = call("POST", "/admin/keys", admin_key, json={"name": "made-by-admin"})
            assert made.status_code in (200, 201), made.text
            made_key, made_secret = made.json()["key"], made.json()["webhook_secret"]
            assert call("GET", "/luma/users/me", made_key).status_code == 200
    finally:
        server.stop()

    hook_token = str(account_states(server)["official"]["settings"])
    token = re.search(r'"hook_token":\s*"([^"]+)"', hook_token)
    assert token is not None, hook_token
    log = server.log_text()
    secrets = {
        "tenant key": tenant_key,
        "relay key": relay_key,
        "admin key": admin_key,
        "webhook secret": webhook_secret,
        "admin-made key": made_key,
        "admin-made webhook secret": made_secret,
        "web cookie": WEB_TOKEN,
        "official key": OFFICIAL_KEY,
        "callback token": CALLBACK_TOKEN,
        "hook token": token.group(1),
    }
    leaked = {name: value for name, value in secrets.items() if value in log}
    assert leaked == {}, f"in the server log: {sorted(leaked)}"
    assert "Logging error" not in log and "Traceback" not in log, log[-3000:]

    lines = [ACCESS_LINE.search(line) for line in log.splitlines()]
    paths = [m.group(2) for m in lines if m is not None]
    for probe in asked:  # each request this test made: exactly one access line
        shown = re.sub(r"sk-lg-[A-Za-z0-9_\-]+", "sk-lg-[redacted]", probe)
        assert paths.count(shown) == 1, (probe, [p for p in paths if "probe" in p])
    hooks = [p for p in paths if p.startswith("/upstream-hooks/")]
    assert hooks and all(p == "/upstream-hooks/[redacted]" for p in hooks), hooks
    assert any(p.startswith("/pro/luma/generations") for p in paths)  # the relay's own calls
    assert db_rows(server, "SELECT id FROM tasks WHERE state = 'failed'") == []
