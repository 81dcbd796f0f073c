"""``lumagate sim``: run the simulated Luma upstream from the command line.

Kept apart from the main CLI module so the command can be registered with
``app.command("sim")(sim)`` and tested on its own. Every ``SimConfig`` knob is an option here.

The option defaults are written out rather than read from ``SimConfig()``: building the CLI
(``lumagate --help``, ``lumagate keys create``) then loads neither the simulator nor its
pydantic model; ``tests/unit/cli/test_sim_command.py`` checks each default against
``SimConfig``, and ``--help`` groups them in panels as ``SimConfig`` does. ``sim`` is longer
than 60 lines because Typer declares one option per parameter (29 of them); its body is short.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from lumagate.sim.config import SimConfig

# --help groups the options as SimConfig does.
LIMITS = "Limits"
TIMELINE = "Timeline"
FAULTS = "Faults"
QUIRKS = "Quirks"
CREDENTIALS = "Credentials"
ACCOUNTING = "Accounting"
CALLBACKS = "Callbacks"
MEDIA = "Media and URLs"
#: Options that are not ``SimConfig`` fields (the server's own).
SERVER_OPTIONS = frozenset({"host", "port", "log_level", "port_file"})


def sim(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port to listen on (0: any free port).")] = 9000,
    max_concurrency: Annotated[
        int,
        typer.Option(
            rich_help_panel=LIMITS, help="Non-terminal generations per credential before 429."
        ),
    ] = 10,
    creates_per_minute: Annotated[
        int,
        typer.Option(
            rich_help_panel=LIMITS, help="Creates per credential in any 60 s window before 429."
        ),
    ] = 20,
    queued_seconds: Annotated[
        float,
        typer.Option(
            rich_help_panel=TIMELINE, help="Seconds a generation stays queued (web: pending)."
        ),
    ] = 1.0,
    dreaming_seconds: Annotated[
        float,
        typer.Option(
            rich_help_panel=TIMELINE, help="Seconds a generation stays dreaming (web: processing)."
        ),
    ] = 3.0,
    error_rate: Annotated[
        float,
        typer.Option(rich_help_panel=FAULTS, help="Share (0-1) of API requests answered 500."),
    ] = 0.0,
    timeout_rate: Annotated[
        float,
        typer.Option(
            rich_help_panel=FAULTS, help="Share (0-1) of API requests that hang, then answer 504."
        ),
    ] = 0.0,
    timeout_seconds: Annotated[
        float, typer.Option(rich_help_panel=FAULTS, help="How long a timed-out request hangs.")
    ] = 30.0,
    slow_rate: Annotated[
        float,
        typer.Option(
            rich_help_panel=FAULTS, help="Share (0-1) of API requests answered late but correctly."
        ),
    ] = 0.0,
    slow_seconds: Annotated[
        float, typer.Option(rich_help_panel=FAULTS, help="Extra delay of a slow answer.")
    ] = 2.0,
    lost_response_rate: Annotated[
        float,
        typer.Option(
            rich_help_panel=FAULTS,
            help="Share (0-1) of creates that are recorded but answered 502.",
        ),
    ] = 0.0,
    web_null_video_rate: Annotated[
        float,
        typer.Option(
            rich_help_panel=QUIRKS,
            help="Share (0-1) of web completions whose first poll shows video: null.",
        ),
    ] = 0.3,
    callback_duplicate_rate: Annotated[
        float,
        typer.Option(
            rich_help_panel=QUIRKS, help="Share (0-1) of official callbacks delivered twice."
        ),
    ] = 0.1,
    session_lifetime_seconds: Annotated[
        float,
        typer.Option(
            rich_help_panel=CREDENTIALS,
            help="A web access_token dies this long after it was issued.",
        ),
    ] = 3600.0,
    session_rotate_seconds: Annotated[
        float,
        typer.Option(
            rich_help_panel=CREDENTIALS,
            help="Tokens older than this get a fresh one via Set-Cookie.",
        ),
    ] = 600.0,
    moderation_marker: Annotated[
        str,
        typer.Option(
            rich_help_panel=FAULTS, help="Prompts containing this fail moderation ('' disables)."
        ),
    ] = "blocked-word",
    seed: Annotated[
        int | None,
        typer.Option(
            rich_help_panel=FAULTS, help="RNG seed for faults and quirks (reproducible runs)."
        ),
    ] = None,
    api_key_prefix: Annotated[
        str,
        typer.Option(rich_help_panel=CREDENTIALS, help="Official API keys must start with this."),
    ] = "luma-",
    web_token_prefix: Annotated[
        str,
        typer.Option(
            rich_help_panel=CREDENTIALS,
            help="New web access tokens must start with this ('' = any).",
        ),
    ] = "",
    initial_credits_cents: Annotated[
        int,
        typer.Option(rich_help_panel=ACCOUNTING, help="Official credit balance per key, in cents."),
    ] = 1_000_000,
    generation_cost_cents: Annotated[
        int,
        typer.Option(
            rich_help_panel=ACCOUNTING,
            help="Official credits charged per create (refunded on failure).",
        ),
    ] = 40,
    web_capacity: Annotated[
        int,
        typer.Option(
            rich_help_panel=LIMITS, help="Web generations a session's subscription allows."
        ),
    ] = 1000,
    callback_retries: Annotated[
        int, typer.Option(rich_help_panel=CALLBACKS, help="Callback retries after a non-2xx reply.")
    ] = 3,
    callback_retry_delay: Annotated[
        float, typer.Option(rich_help_panel=CALLBACKS, help="Seconds between callback attempts.")
    ] = 0.1,
    callback_timeout: Annotated[
        float,
        typer.Option(rich_help_panel=CALLBACKS, help="Timeout of one callback attempt, seconds."),
    ] = 5.0,
    tick_seconds: Annotated[
        float,
        typer.Option(rich_help_panel=TIMELINE, help="Period of the background timeline ticker."),
    ] = 0.05,
    media_dir: Annotated[
        Path | None,
        typer.Option(
            rich_help_panel=MEDIA, help="Where rendered clips are cached (default: a temp dir)."
        ),
    ] = None,
    public_base_url: Annotated[
        str | None,
        typer.Option(
            rich_help_panel=MEDIA,
            help="Base URL put in media/upload URLs (default: the request's host).",
        ),
    ] = None,
    media_ttl_seconds: Annotated[
        float | None,
        typer.Option(
            rich_help_panel=MEDIA,
            help="Media links expire (403) this long after they were handed out.",
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    port_file: Annotated[
        Path | None,
        typer.Option(help="Write the port actually bound to this file once it listens."),
    ] = None,
) -> None:
    """Run a simulated Luma upstream (official API + web app) for tests and load tests.

    One server answers both surfaces:

      official API  http://HOST:PORT/dream-machine/v1   (Authorization: Bearer luma-...)
      web app API   http://HOST:PORT/api/photon/v1       (Cookie: access_token=...)
      debug         http://HOST:PORT/_sim/ledger | stats | callbacks | config | reset

    Generations move queued -> dreaming -> completed on a timeline and point at real, playable
    MP4/JPEG files served by the sim. Limits, session rotation, callbacks, quirks and faults are
    set with the options below. Example: a flaky upstream for a load test,

      lumagate sim --port 9000 --error-rate 0.05 --lost-response-rate 0.02 --seed 7
    """
    config = _sim_config(dict(locals()))  # every parameter but the server's is a SimConfig field
    from lumagate.cli.listen import bind_listener, bound_port, serve_on, write_port_file

    listener = bind_listener(host, port)
    port = bound_port(listener)
    typer.echo(
        f"lumagate sim on http://{host}:{port}  "
        f"(official: /dream-machine/v1, web: /api/photon/v1, debug: /_sim)"
    )
    import uvicorn  # here, not at the top: the other commands start without it

    from lumagate.sim.app import create_sim_app

    sim_app = create_sim_app(config)
    if port_file is not None:
        write_port_file(port_file, port)
    serve_on(uvicorn.Config(sim_app, log_level=log_level), listener)


def _sim_config(options: dict[str, Any]) -> SimConfig:
    """The ``SimConfig`` of the command's options, or a usage error naming what is wrong."""
    from pydantic import ValidationError

    from lumagate.sim.config import SimConfig

    try:
        return SimConfig(**{k: v for k, v in options.items() if k not in SERVER_OPTIONS})
    except ValidationError as exc:
        raise typer.BadParameter(str(exc)) from exc
