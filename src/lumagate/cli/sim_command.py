"""``lumagate sim``: run the simulated Luma upstream from the command line.

Kept apart from the main CLI module so the command can be registered with
``app.command("sim")(sim)`` and tested on its own. Every ``SimConfig`` knob is an option here.

The options are a table (:data:`OPTIONS`: name, type, default, ``--help`` panel, help text)
that gives ``sim`` its signature, so Typer sees one typed parameter per row, in table order,
exactly as if each were written out. The defaults are written out rather than read from
``SimConfig()``: building the CLI (``lumagate --help``, ``lumagate keys create``) then loads
neither the simulator nor its pydantic model; ``tests/unit/cli/test_sim_command.py`` checks
each default against ``SimConfig``, and ``--help`` groups them in panels as ``SimConfig`` does.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Option:
    """One ``--option`` of ``sim``: its parameter name, type, default, panel and help."""

    name: str
    kind: Any
    default: Any
    panel: str | None
    help: str

    def annotation(self) -> Any:
        """The parameter's type as Typer reads it (``Annotated[type, typer.Option(...)]``)."""
        return Annotated[self.kind, typer.Option(rich_help_panel=self.panel, help=self.help)]


# fmt: off
OPTIONS: tuple[_Option, ...] = (  # name, type, default, --help panel, help
    _Option("host", str, "127.0.0.1", None, "Interface to listen on."),
    _Option("port", int, 9000, None, "TCP port to listen on (0: any free port)."),
    _Option("max_concurrency", int, 10, LIMITS,
            "Non-terminal generations per credential before 429."),
    _Option("creates_per_minute", int, 20, LIMITS,
            "Creates per credential in any 60 s window before 429."),
    _Option("queued_seconds", float, 1.0, TIMELINE,
            "Seconds a generation stays queued (web: pending)."),
    _Option("dreaming_seconds", float, 3.0, TIMELINE,
            "Seconds a generation stays dreaming (web: processing)."),
    _Option("error_rate", float, 0.0, FAULTS, "Share (0-1) of API requests answered 500."),
    _Option("timeout_rate", float, 0.0, FAULTS,
            "Share (0-1) of API requests that hang, then answer 504."),
    _Option("timeout_seconds", float, 30.0, FAULTS, "How long a timed-out request hangs."),
    _Option("slow_rate", float, 0.0, FAULTS,
            "Share (0-1) of API requests answered late but correctly."),
    _Option("slow_seconds", float, 2.0, FAULTS, "Extra delay of a slow answer."),
    _Option("lost_response_rate", float, 0.0, FAULTS,
            "Share (0-1) of creates that are recorded but answered 502."),
    _Option("web_null_video_rate", float, 0.3, QUIRKS,
            "Share (0-1) of web completions whose first poll shows video: null."),
    _Option("callback_duplicate_rate", float, 0.1, QUIRKS,
            "Share (0-1) of official callbacks delivered twice."),
    _Option("session_lifetime_seconds", float, 3600.0, CREDENTIALS,
            "A web access_token dies this long after it was issued."),
    _Option("session_rotate_seconds", float, 600.0, CREDENTIALS,
            "Tokens older than this get a fresh one via Set-Cookie."),
    _Option("moderation_marker", str, "blocked-word", FAULTS,
            "Prompts containing this fail moderation ('' disables)."),
    _Option("seed", int | None, None, FAULTS,
            "RNG seed for faults and quirks (reproducible runs)."),
    _Option("api_key_prefix", str, "luma-", CREDENTIALS, "Official API keys must start with this."),
    _Option("web_token_prefix", str, "", CREDENTIALS,
            "New web access tokens must start with this ('' = any)."),
    _Option("initial_credits_cents", int, 1_000_000, ACCOUNTING,
            "Official credit balance per key, in cents."),
    _Option("generation_cost_cents", int, 40, ACCOUNTING,
            "Official credits charged per create (refunded on failure)."),
    _Option("web_capacity", int, 1000, LIMITS, "Web generations a session's subscription allows."),
    _Option("callback_retries", int, 3, CALLBACKS, "Callback retries after a non-2xx reply."),
    _Option("callback_retry_delay", float, 0.1, CALLBACKS, "Seconds between callback attempts."),
    _Option("callback_timeout", float, 5.0, CALLBACKS, "Timeout of one callback attempt, seconds."),
    _Option("tick_seconds", float, 0.05, TIMELINE, "Longest sleep of the timeline ticker."),
    _Option("media_dir", Path | None, None, MEDIA,
            "Where rendered clips are cached (default: a temp dir)."),
    _Option("public_base_url", str | None, None, MEDIA,
            "Base URL put in media/upload URLs (default: the request's host)."),
    _Option("media_ttl_seconds", float | None, None, MEDIA,
            "Media links expire (403) this long after they were handed out."),
    _Option("log_level", str, "info", None, "uvicorn log level."),
    _Option("port_file", Path | None, None, None,
            "Write the port actually bound to this file once it listens."),
)
# fmt: on


def _takes_options(command: Any) -> Any:
    """Give ``command`` (which takes ``**options``) one parameter per row of :data:`OPTIONS`."""
    command.__signature__ = inspect.Signature(
        [
            inspect.Parameter(
                option.name,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=option.default,
                annotation=option.annotation(),
            )
            for option in OPTIONS
        ],
        return_annotation=None,
    )
    command.__annotations__ = {option.name: option.annotation() for option in OPTIONS}
    command.__annotations__["return"] = None
    return command


@_takes_options
def sim(**options: Any) -> None:
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
    config = _sim_config(options)  # every option but the server's is a SimConfig field
    from lumagate.cli.listen import bind_listener, bound_port, serve_on, write_port_file

    host: str = options["host"]
    listener = bind_listener(host, options["port"])
    port = bound_port(listener)
    typer.echo(
        f"lumagate sim on http://{host}:{port}  "
        f"(official: /dream-machine/v1, web: /api/photon/v1, debug: /_sim)"
    )
    import uvicorn  # here, not at the top: the other commands start without it

    from lumagate.sim.app import create_sim_app

    sim_app = create_sim_app(config)
    port_file: Path | None = options["port_file"]
    if port_file is not None:
        write_port_file(port_file, port)
    serve_on(uvicorn.Config(sim_app, log_level=options["log_level"]), listener)


def _sim_config(options: dict[str, Any]) -> SimConfig:
    """The ``SimConfig`` of the command's options, or a usage error naming what is wrong."""
    from pydantic import ValidationError

    from lumagate.sim.config import SimConfig

    try:
        return SimConfig(**{k: v for k, v in options.items() if k not in SERVER_OPTIONS})
    except ValidationError as exc:
        raise typer.BadParameter(str(exc)) from exc
