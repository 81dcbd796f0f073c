"""The ``lumagate sim`` command, mounted on a local Typer app like the main CLI will mount it."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
import typer
import uvicorn
from typer.testing import CliRunner

from lumagate.cli import listen, sim_command
from lumagate.sim.runtime import SimRuntime


def make_app() -> typer.Typer:
    app = typer.Typer()
    app.command("sim")(sim_command.sim)

    @app.command("version")
    def version() -> None:  # a second command, so "sim" stays a subcommand
        typer.echo("0")

    return app


def test_help_lists_every_knob() -> None:
    result = CliRunner().invoke(make_app(), ["sim", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in (
        "--max-concurrency",
        "--creates-per-minute",
        "--queued-seconds",
        "--dreaming-seconds",
        "--error-rate",
        "--timeout-rate",
        "--slow-rate",
        "--lost-response-rate",
        "--session-lifetime-seconds",
        "--session-rotate-seconds",
        "--callback-duplicate-rate",
        "--moderation-marker",
        "--seed",
    ):
        assert option in result.output
    assert "dream-machine/v1" in result.output


def test_options_reach_the_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls: list[dict[str, Any]] = []

    def fake_serve_on(config: uvicorn.Config, sock: socket.socket) -> None:
        calls.append(
            {"app": config.app, "address": sock.getsockname(), "log_level": config.log_level}
        )
        sock.close()

    monkeypatch.setattr(listen, "serve_on", fake_serve_on)
    port_file = tmp_path / "sim.port"
    result = CliRunner().invoke(
        make_app(),
        [
            *("sim", "--port", "0", "--port-file", str(port_file), "--log-level", "warning"),
            *("--max-concurrency", "3", "--error-rate", "0.25", "--seed", "9"),
        ],
    )
    assert result.exit_code == 0, result.output
    (call,) = calls
    host, port = call["address"]
    assert host == "127.0.0.1" and port > 0 and call["log_level"] == "warning"
    assert port_file.read_text().strip() == str(port)  # the port bound, not the 0 asked for
    assert f"http://127.0.0.1:{port}" in result.output
    runtime: SimRuntime = call["app"].state.sim_runtime
    assert runtime.config.max_concurrency == 3
    assert runtime.config.error_rate == 0.25
    assert runtime.config.seed == 9


def test_invalid_values_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listen, "serve_on", lambda *a, **k: None)
    result = CliRunner().invoke(make_app(), ["sim", "--error-rate", "2"])
    assert result.exit_code != 0
