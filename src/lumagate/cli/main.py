"""The ``lumagate`` command: serve the gateway, manage keys, migrate, run the simulator."""

from __future__ import annotations

import gc
import logging
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lumagate.cli import accounts, generate_command, keys, media_command, tasks_command
from lumagate.cli.common import console
from lumagate.cli.sim_command import sim

if TYPE_CHECKING:
    from lumagate.settings import Settings

app = typer.Typer(
    help="lumagate: a self-hosted gateway for Luma Dream Machine video generation.\n\n"
    "Settings come from LUMAGATE_* environment variables (and an optional TOML file): "
    "LUMAGATE_DATA_DIR, LUMAGATE_DATABASE_URL, LUMAGATE_PUBLIC_URL, ...",
    no_args_is_help=True,
)
app.add_typer(keys.app, name="keys")
app.add_typer(accounts.app, name="accounts")
app.command("sim")(sim)
app.command("generate")(generate_command.generate)
app.add_typer(tasks_command.app, name="tasks")
app.add_typer(media_command.app, name="media")
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind (0: any free port).")] = 8000,
    log_level: Annotated[str, typer.Option(help="debug, info, warning, error.")] = "info",
    port_file: Annotated[
        Path | None,
        typer.Option(
            help="Write the port actually bound to this file once it listens.",
            envvar="LUMAGATE_PORT_FILE",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(min=1, help="Server processes on the one socket (more than 1: PostgreSQL)."),
    ] = 1,
) -> None:
    """Run the API and the engine in one process (SIGTERM/Ctrl-C shut down cleanly);
    ``--workers N`` runs N such processes on one socket (PostgreSQL only)."""
    if workers > 1:
        from lumagate.cli.workers import serve_workers

        raise typer.Exit(serve_workers(workers, host, port, log_level, port_file))
    gc.disable()  # start-up's objects are walked once, when it completes (api/serving.py)
    try:
        _serve_one(host, port, log_level, port_file)
    finally:
        gc.enable()  # a start-up that failed leaves no caller without its collector


def _serve_one(host: str, port: int, log_level: str, port_file: Path | None) -> None:
    from lumagate.api.app import create_app  # the server's imports stay out of other commands
    from lumagate.api.serving import server_config
    from lumagate.cli.listen import bind_listener, bound_port, serve_on, write_port_file
    from lumagate.settings import load_settings

    problem = load_settings().replica_secrets_problem()
    if problem is not None:
        console.print(f"[red]lumagate will not start:[/] {problem}")
        raise typer.Exit(2)
    listener = bind_listener(host, port)
    port = bound_port(listener)
    settings = load_settings(host=host, port=port, log_level=log_level)
    # uvicorn's Config sets up logging for our lines and its own (text or JSON,
    # LUMAGATE_LOG_FORMAT) and server_config installs the redaction after that.
    gateway_app = create_app(settings)
    config = server_config(
        gateway_app, settings, host=host, port=port, log_level=log_level, collector_paused=True
    )
    logging.captureWarnings(True)  # warnings become log lines too (JSON lines stay JSON)
    if settings.log_format == "text":
        _print_banner(settings)
    else:
        logging.getLogger("lumagate").info("lumagate on %s", settings.resolved_public_url())
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal to the handler that
    # was installed before it ran; exiting 0 there tells supervisors the stop was clean.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    if port_file is not None:
        write_port_file(port_file, port)
    serve_on(config, listener)  # server_config installed the log redaction


def _print_banner(settings: Settings) -> None:
    """How to make a first video, for a person at a terminal (text logs only). Click's echo,
    not rich: rich's console is ~5 % of the server's imports (styles dropped off a terminal)."""
    base = settings.resolved_public_url()
    typer.echo(
        typer.style("lumagate", bold=True) + f" on {base}  (data: {settings.data_dir.resolve()}, "
        f"database: {'SQLite' if settings.is_sqlite else 'PostgreSQL'})\n"
        "First video:\n"
        "  KEY=$(lumagate keys create --name me | tail -n1)\n"
        f"  curl -s -H \"Authorization: Bearer $KEY\" -H 'Content-Type: application/json' "
        f'-d \'{{"user_prompt":"a red fox running"}}\' {base}/luma/generations\n'
        f'  curl -s -H "Authorization: Bearer $KEY" {base}/luma/generations/<id>\n'
        f"API docs: {base}/docs",
        err=True,  # never wrapped: each command stays one line to copy
    )


def _exit_cleanly(signum: int, frame: object) -> None:
    raise SystemExit(0)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply schema migrations (the server also does this at start-up)."""
    from lumagate.settings import load_settings
    from lumagate.store import migrate
    from lumagate.store.database import Database

    settings = load_settings()

    async def main() -> str | None:
        database = Database(settings.resolved_database_url)
        try:
            await migrate.upgrade(database)
            return await migrate.current_revision(database)
        finally:
            await database.dispose()

    import asyncio  # loaded by the commands that run a loop, not by --help

    revision = asyncio.run(main())
    console.print(f"Database at revision {revision}")


if __name__ == "__main__":  # pragma: no cover
    app()
