"""The ``lumagate sim`` command, mounted on a local Typer app like the main CLI will mount it."""

from __future__ import annotations

from typing import Any

import pytest
import typer
import uvicorn
from typer.testing import CliRunner

from lumagate.cli import sim_command
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


def test_options_reach_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def fake_run(app: Any, **kwargs: Any) -> None:
        calls.append({"app": app, **kwargs})

    monkeypatch.setattr(uvicorn, "run", fake_run)
    result = CliRunner().invoke(
        make_app(),
        ["sim", "--port", "9123", "--max-concurrency", "3", "--error-rate", "0.25", "--seed", "9"],
    )
    assert result.exit_code == 0, result.output
    (call,) = calls
    assert (call["host"], call["port"]) == ("127.0.0.1", 9123)
    runtime: SimRuntime = call["app"].state.sim_runtime
    assert runtime.config.max_concurrency == 3
    assert runtime.config.error_rate == 0.25
    assert runtime.config.seed == 9


def test_invalid_values_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    result = CliRunner().invoke(make_app(), ["sim", "--error-rate", "2"])
    assert result.exit_code != 0
