"""Helpers for tests that run a real gateway against ``lumagate sim``: accounts, tasks, ledger.

A gateway here is ``lumagate serve`` in a subprocess whose accounts are added with the real
``lumagate accounts add`` command (run in the test process: the server is the process under
test, the set-up command's Python start-up is not), with ``LUMAGATE_PUBLIC_URL`` set to its own
loopback address (so the sim can call it back and fetch published images).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from lumagate.security.crypto import load_secret_box
from tests.support.databases import pg_rows
from tests.support.http import tls
from tests.support.servers import (
    GatewayServer,
    ServerProcess,
    launch,
    server_env,
    wait_until_up,
)

Sim = Any  # a SimServer or a SimProcess: both have ``base_url`` and ``client()``

TERMINAL = ("completed", "failed")
MODERATION_MARKER = "blocked-word"

# Fast engine settings: follow often, cool down briefly, never fall back to the sandbox.
FAST_GATEWAY: dict[str, str] = {
    "refresh_interval_seconds": "0.3",
    "dispatch_interval_seconds": "0.2",
    "lease_seconds": "3",
    "rate_limit_cooldown_seconds": "1",
    "upstream_upkeep_seconds": "60",
    "sandbox_enabled": "false",
    "upstream_timeout_seconds": "10",
}


@dataclass(frozen=True)
class AccountSpec:
    """``lumagate accounts add <kind> ...`` arguments."""

    kind: str
    name: str
    args: tuple[str, ...]
    max_concurrency: int = 2


def official(
    sim: Sim, name: str, key: str, max_concurrency: int = 2, extra: tuple[str, ...] = ()
) -> AccountSpec:
    return AccountSpec(
        "luma-official",
        name,
        ("--api-key", key, "--base-url", sim.base_url + "/dream-machine/v1", *extra),
        max_concurrency,
    )


def web(sim: Sim, name: str, token: str, max_concurrency: int = 2) -> AccountSpec:
    cookie = f"access_token={token}; luma_session=s-{token}; refresh_token=r-{token}"
    return AccountSpec(
        "luma-web", name, ("--cookie", cookie, "--base-url", sim.base_url), max_concurrency
    )


def relay(base_url: str, name: str, key: str, max_concurrency: int = 4) -> AccountSpec:
    return AccountSpec("relay", name, ("--base-url", base_url, "--api-key", key), max_concurrency)


def make_gateway(data_dir: Path, accounts: Sequence[AccountSpec], **settings: str) -> GatewayServer:
    """A gateway (not started) with ``accounts`` added through the CLI."""
    data_dir.mkdir(parents=True, exist_ok=True)
    # No LUMAGATE_PUBLIC_URL: the server's own loopback address, with the port it binds.
    server = GatewayServer(data_dir, server_env(data_dir, **{**FAST_GATEWAY, **settings}))
    for spec in accounts:  # the real command, in this process: no start-up per account
        server.cli_in_process(
            "accounts",
            "add",
            spec.kind,
            *spec.args,
            "--name",
            spec.name,
            "--max-concurrency",
            str(spec.max_concurrency),
        )
    return server


def client(server: GatewayServer, key: str, timeout: float = 30.0) -> httpx.Client:
    return httpx.Client(
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {key}"},
        timeout=timeout,
        trust_env=False,
        verify=tls(),
    )


def create(http: httpx.Client, body: dict[str, Any], path: str = "/luma/generations") -> str:
    response = http.post(path, json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def wait_terminal(
    http: httpx.Client, ids: Iterable[str], deadline_seconds: float = 120.0, poll: float = 0.5
) -> dict[str, dict[str, Any]]:
    """Poll the batch query until every task is completed or failed; their flat objects."""
    wanted = list(dict.fromkeys(ids))
    done: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + deadline_seconds
    while True:
        pending = [i for i in wanted if i not in done]
        for start in range(0, len(pending), 100):
            response = http.post("/luma/tasks", json={"ids": pending[start : start + 100]})
            assert response.status_code == 200, response.text
            for record in response.json()["data"]:
                if record["data"]["state"] in TERMINAL:
                    done[record["id"]] = record["data"]
        if len(done) == len(wanted):
            return done
        if time.monotonic() > deadline:
            states = Counter(
                r["data"]["state"]
                for s in range(0, len(pending), 100)
                for r in http.post("/luma/tasks", json={"ids": pending[s : s + 100]}).json()["data"]
            )
            raise AssertionError(f"{len(wanted) - len(done)} tasks not terminal: {dict(states)}")
        time.sleep(poll)


def sim_get(sim: Sim, path: str) -> Any:
    with sim.client() as debug:
        response = debug.get(path)
        response.raise_for_status()
        return response.json()


def ledger(sim: Sim) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = sim_get(sim, "/_sim/ledger")["entries"]
    return entries


def ledger_prompt(entry: dict[str, Any]) -> str:
    request = entry["request"]
    return str(request.get("prompt") or request.get("user_prompt") or "")


def duplicate_prompts(entries: Iterable[dict[str, Any]]) -> dict[str, int]:
    counts = Counter(ledger_prompt(e) for e in entries)
    return {prompt: n for prompt, n in counts.items() if n > 1}


def db_rows(server: GatewayServer, query: str, *params: Any) -> list[dict[str, Any]]:
    """Rows of the gateway's database, SQLite or PostgreSQL (read-only; it may be running).

    ``query`` uses ``?`` placeholders."""
    url = server.env.get("LUMAGATE_DATABASE_URL", "")
    if url.startswith("postgresql"):
        return pg_rows(url, query, *params)
    path = server.data_dir / "lumagate.db"
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    connection.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in connection.execute(query, params)]
    finally:
        connection.close()


def task_rows(server: GatewayServer) -> dict[str, dict[str, Any]]:
    rows = db_rows(
        server,
        "SELECT t.id, t.state, t.upstream_id, t.failure_reason, t.request, a.name AS account "
        "FROM tasks t LEFT JOIN accounts a ON a.id = t.account_id",
    )
    for row in rows:
        if isinstance(row["request"], str):
            row["request"] = json.loads(row["request"])
    return {row["id"]: row for row in rows}


def stored_credentials(server: GatewayServer, account_name: str) -> dict[str, str]:
    """An account's credentials as the gateway stored them, opened with its secret key."""
    rows = db_rows(server, "SELECT credentials FROM accounts WHERE name = ?", account_name)
    box = load_secret_box(server.data_dir, None)
    opened: dict[str, str] = json.loads(box.decrypt(rows[0]["credentials"]))
    return opened


def account_states(server: GatewayServer) -> dict[str, dict[str, Any]]:
    rows = db_rows(server, "SELECT name, enabled, disabled_reason, settings FROM accounts")
    return {row["name"]: row for row in rows}


class SimProcess:
    """``lumagate sim`` in a subprocess on a loopback port it picks (as a user load-tests with
    it)."""

    def __init__(self, log_path: Path, **options: object) -> None:
        self.port = 0
        self.log_path = log_path
        self.options = options
        self.process: ServerProcess | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SimProcess:
        args = ["sim", "--port", str(self.port), "--log-level", "warning"]
        for name, value in self.options.items():
            args += [f"--{name.replace('_', '-')}", str(value)]
        port_file = self.log_path.with_suffix(".port")
        self.process, self.port = launch(args, port_file, self.log_path, dict(os.environ))
        wait_until_up(self.base_url + "/_sim/config", self.process)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None

    def client(self, **kwargs: Any) -> httpx.Client:
        kwargs.setdefault("timeout", 15.0)
        return httpx.Client(base_url=self.base_url, trust_env=False, verify=tls(), **kwargs)

    def __enter__(self) -> SimProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
