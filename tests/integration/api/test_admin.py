"""The /admin API and ``lumagate keys`` over a real server: the admin key file, key creation
with limits and expiry, top-ups, revocation, accounts, tasks of any tenant, the ledger; and no
key or secret ever written to the server's log (access log at debug level included)."""

from __future__ import annotations

import stat
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from lumagate.domain.clock import utcnow
from lumagate.domain.pricing import PriceTable
from tests.support.acceptance import client, start_server, wait_for
from tests.support.servers import GatewayServer, server_env
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

PRICE = PriceTable().price("default", "ray-2", "720p", "5s")
EXPIRES_SECONDS = 5.0  # long enough to use the key first, short enough to wait for


def admin_client(server: GatewayServer) -> httpx.Client:
    return client(server.base_url, (server.data_dir / "admin.key").read_text().strip())


def test_admin_api_end_to_end(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data")
    try:
        path = server.data_dir / "admin.key"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        with client(server.base_url) as anonymous:
            assert anonymous.get("/admin/keys").status_code == 401
        with client(server.base_url, "sk-lg-admin-wrong") as wrong:
            assert wrong.get("/admin/keys").json()["error"]["code"] == "invalid_admin_key"
        with admin_client(server) as admin:
            created = admin.post(
                "/admin/keys",
                json={
                    "name": "acme",
                    "credits": 2 * PRICE,
                    "channels": ["default", "vip"],
                    "rpm": 30,
                    "max_running": 3,
                    "expires_days": 7,
                },
            )
            assert created.status_code == 201, created.text
            body = created.json()
            key, secret = body["key"], body["webhook_secret"]
            assert (body["credits"], body["rpm"], body["max_running"]) == (2 * PRICE, 30, 3)
            assert body["channels"] == ["default", "vip"] and body["expires_at"]
            assert admin.post("/admin/keys", json={"name": "x", "rpm": 0}).status_code == 400
            assert admin.post("/admin/keys", json={"name": "x", "bogus": 1}).status_code == 400

            listed = admin.get("/admin/keys").json()["data"]
            assert [k["name"] for k in listed] == ["acme"]
            assert key not in str(listed) and secret not in str(listed)
            shown = admin.get(f"/admin/keys/{body['id']}").json()
            assert shown["webhook_secret"] == secret
            assert admin.get("/admin/keys/nope").status_code == 404

            with client(server.base_url, key) as tenant:
                assert (
                    tenant.post("/pro/luma/generations", json={"user_prompt": "x"}).status_code
                    == 403
                )
                task = tenant.post(
                    "/luma/generations", json={"user_prompt": "a fox [[fail]]"}
                ).json()
                wait_for(tenant, task["id"], states={"failed"})

            topped = admin.post(f"/admin/keys/{body['id']}/top-up", json={"amount": 500})
            assert topped.status_code == 200, topped.text
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:  # the refund lands right after the failure
                kinds = [
                    e["kind"]
                    for e in admin.get("/admin/ledger", params={"key": "acme"}).json()["data"]
                ]
                if "refund" in kinds:
                    break
                time.sleep(0.1)
            assert sorted(kinds) == ["charge", "opening", "refund", "top_up"]
            assert admin.get(f"/admin/keys/{body['id']}").json()["credits"] == 2 * PRICE + 500
            by_task = admin.get("/admin/ledger", params={"task": task["id"]}).json()["data"]
            assert {e["kind"] for e in by_task} == {"charge", "refund"}

            other = server.create_key("other-tenant")
            with client(server.base_url, other) as tenant:
                tenant.post("/luma/generations", json={"user_prompt": "b [[fail]]"})
            tasks = admin.get("/admin/tasks").json()
            assert tasks["total"] == 2 and len({t["tenant_id"] for t in tasks["data"]}) == 2
            only = admin.get("/admin/tasks", params={"key": "acme"}).json()["data"]
            assert [t["id"] for t in only] == [task["id"]]
            one = admin.get(f"/admin/tasks/{task['id']}").json()
            assert one["body"]["id"] == task["id"] and one["body"]["state"] == "failed"
            assert admin.get(f"/admin/tasks/{uuid.uuid4()}").status_code == 404
            assert admin.get(f"/admin/tasks/{task['id']}/deliveries").json() == {"data": []}
            assert admin.get("/admin/tasks", params={"state": "nonsense"}).status_code == 400

            accounts = admin.get("/admin/accounts").json()["data"]
            sandbox = next(a for a in accounts if a["kind"] == "sandbox")
            disabled = admin.post(
                f"/admin/accounts/{sandbox['id']}/disable", json={"reason": "maintenance"}
            )
            assert disabled.json()["enabled"] is False
            assert disabled.json()["disabled_reason"] == "maintenance"
            assert admin.post(f"/admin/accounts/{sandbox['name']}/enable").json()["enabled"] is True

            assert admin.post(f"/admin/keys/{body['id']}/revoke").status_code == 200
            with client(server.base_url, key) as tenant:
                assert tenant.get("/luma/users/me").status_code == 401
            assert admin.post(f"/admin/keys/{body['id']}/revoke").status_code == 404
    finally:
        server.stop()


def test_configured_admin_key_replaces_the_file(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", admin_key="sk-lg-admin-from-env")
    try:
        assert not (server.data_dir / "admin.key").exists()
        with client(server.base_url, "sk-lg-admin-from-env") as admin:
            assert admin.get("/admin/keys").status_code == 200
    finally:
        server.stop()


def test_keys_cli_create_limits_top_up_expiry_and_revoke(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    server = GatewayServer(data_dir, server_env(data_dir))
    made = server.cli(
        "keys",
        "create",
        "--name",
        "cli",
        "--credits",
        "300",
        "--channels",
        "default,vip",
        "--rpm",
        "5",
        "--max-running",
        "2",
        "--expires-days",
        "30",
    )
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("sk-lg-") and key not in made.stderr
    assert "Webhook secret: whsec_" in made.stderr
    assert server.cli("keys", "top-up", "nobody", "5", check=False).returncode == 1
    # The two runs above are processes of their own (the key on fd 1, the secret on fd 2, the
    # exit code the shell sees); the rest is the same commands without a process start-up each.
    cli = server.cli_in_process
    listed = cli("keys", "list")
    listing = listed.stderr + listed.stdout
    assert "cli" in listing and "300" in listing and key not in listing

    topped = cli("keys", "top-up", "cli", "200")
    assert topped.stdout.strip().splitlines()[-1] == "500"
    assert cli("keys", "top-up", "cli", "--", "-1000", check=False).returncode == 1
    assert cli("keys", "create", "--name", "bad", "--rpm", "0", check=False).returncode != 0

    server.start()
    try:
        with client(server.base_url, key) as http:
            profile = http.get("/luma/users/me").json()
            assert profile["credits"] == 500 and profile["channels"] == ["default", "vip"]
        with admin_client(server) as admin:
            expires_at = datetime.fromisoformat(admin.get("/admin/keys/cli").json()["expires_at"])
        assert abs(expires_at - (utcnow() + timedelta(days=30))) < timedelta(minutes=10)

        short = server.create_key("short", "--expires-days", str(EXPIRES_SECONDS / 86400))
        with client(server.base_url, short) as http:
            assert http.get("/luma/users/me").status_code == 200  # works until it expires
            wait_until(
                lambda: http.get("/luma/users/me").status_code == 401,
                "the short-lived key expired",
                timeout=EXPIRES_SECONDS + 30,
            )
        cli("keys", "revoke", "cli")
        with client(server.base_url, key) as http:
            assert http.get("/luma/users/me").status_code == 401
        assert cli("keys", "revoke", "cli", check=False).returncode == 1
    finally:
        server.stop()


def test_no_key_or_secret_reaches_the_log(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = server_env(data_dir, refresh_interval_seconds="0.5")
    made = GatewayServer(data_dir, env).cli("keys", "create", "--name", "logged", "--credits", "0")
    key = made.stdout.strip().splitlines()[-1]
    secret = made.stderr.split("Webhook secret: ", 1)[1].split()[0]
    server = GatewayServer(data_dir, env, log_level="debug")  # the access log on
    log_path = server.log_path
    server.start()
    try:
        admin_key = (data_dir / "admin.key").read_text().strip()
        hook = "http://10.0.0.1/hook?token=hook-token-value"
        calls: list[tuple[str, str, dict[str, Any] | None, dict[str, str]]] = [
            (
                "POST",
                "/luma/generations",
                {"user_prompt": "x", "notify_hook": hook},
                {"Authorization": f"Bearer {key}"},
            ),
            ("GET", "/luma/users/me", None, {"Authorization": f"Bearer {key}"}),
            ("GET", "/api/generations", None, {"Secret-Key": key}),
            ("GET", "/luma/users/me", None, {"Authorization": f"Bearer {key}x"}),
            ("GET", "/admin/keys", None, {"Authorization": f"Bearer {admin_key}"}),
            ("GET", "/admin/keys/logged", None, {"Authorization": f"Bearer {admin_key}"}),
            ("GET", "/admin/keys", None, {"Authorization": f"Bearer {admin_key}x"}),
        ]
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            for method, path, body, headers in calls:
                http.request(method, path, json=body, headers=headers)
            paid = http.post(
                "/luma/generations",
                json={"user_prompt": "y [[fail]]", "notify_hook": hook},
                headers={"Authorization": f"Bearer {server.create_key('paid')}"},
            ).json()
            wait_until(  # until its callback was refused (and logged)
                lambda: "refused" in log_path.read_text(errors="replace"),
                "the paid task's callback refused",
            )
            got = http.get(
                f"/luma/generations/{paid['id']}/deliveries",
                headers={"Authorization": f"Bearer {admin_key}"},
            )
    finally:
        server.stop()
    text = log_path.read_text(errors="replace")
    assert '"GET /luma/users/me HTTP/1.1"' in text  # the access log was on
    for secret_value in (key, key[6:], admin_key, secret, "hook-token-value"):
        assert secret_value not in text, secret_value
    assert got is not None
