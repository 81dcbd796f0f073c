"""``lumagate sim``: run the simulated Luma upstream from the command line.

Kept apart from the main CLI module so the command can be registered with
``app.command("sim")(sim)`` and tested on its own. Every ``SimConfig`` knob is an option here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from lumagate.sim.config import SimConfig

_DEFAULTS = SimConfig()


def sim(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port to listen on (0: any free port).")] = 9000,
    max_concurrency: Annotated[
        int, typer.Option(help="Non-terminal generations per credential before 429.")
    ] = _DEFAULTS.max_concurrency,
    creates_per_minute: Annotated[
        int, typer.Option(help="Creates per credential in any 60 s window before 429.")
    ] = _DEFAULTS.creates_per_minute,
    queued_seconds: Annotated[
        float, typer.Option(help="Seconds a generation stays queued (web: pending).")
    ] = _DEFAULTS.queued_seconds,
    dreaming_seconds: Annotated[
        float, typer.Option(help="Seconds a generation stays dreaming (web: processing).")
    ] = _DEFAULTS.dreaming_seconds,
    error_rate: Annotated[
        float, typer.Option(help="Share (0-1) of API requests answered 500.")
    ] = _DEFAULTS.error_rate,
    timeout_rate: Annotated[
        float, typer.Option(help="Share (0-1) of API requests that hang, then answer 504.")
    ] = _DEFAULTS.timeout_rate,
    timeout_seconds: Annotated[
        float, typer.Option(help="How long a timed-out request hangs.")
    ] = _DEFAULTS.timeout_seconds,
    slow_rate: Annotated[
        float, typer.Option(help="Share (0-1) of API requests answered late but correctly.")
    ] = _DEFAULTS.slow_rate,
    slow_seconds: Annotated[
        float, typer.Option(help="Extra delay of a slow answer.")
    ] = _DEFAULTS.slow_seconds,
    lost_response_rate: Annotated[
        float,
        typer.Option(help="Share (0-1) of creates that are recorded but answered 502."),
    ] = _DEFAULTS.lost_response_rate,
    web_null_video_rate: Annotated[
        float,
        typer.Option(help="Share (0-1) of web completions whose first poll shows video: null."),
    ] = _DEFAULTS.web_null_video_rate,
    callback_duplicate_rate: Annotated[
        float, typer.Option(help="Share (0-1) of official callbacks delivered twice.")
    ] = _DEFAULTS.callback_duplicate_rate,
    session_lifetime_seconds: Annotated[
        float, typer.Option(help="A web access_token dies this long after it was issued.")
    ] = _DEFAULTS.session_lifetime_seconds,
    session_rotate_seconds: Annotated[
        float,
        typer.Option(help="Tokens older than this get a fresh one via Set-Cookie."),
    ] = _DEFAULTS.session_rotate_seconds,
    moderation_marker: Annotated[
        str,
        typer.Option(help="Prompts containing this fail moderation ('' disables)."),
    ] = _DEFAULTS.moderation_marker,
    seed: Annotated[
        int | None, typer.Option(help="RNG seed for faults and quirks (reproducible runs).")
    ] = None,
    api_key_prefix: Annotated[
        str, typer.Option(help="Official API keys must start with this.")
    ] = _DEFAULTS.api_key_prefix,
    web_token_prefix: Annotated[
        str, typer.Option(help="New web access tokens must start with this ('' = any).")
    ] = _DEFAULTS.web_token_prefix,
    initial_credits_cents: Annotated[
        int, typer.Option(help="Official credit balance per key, in cents.")
    ] = _DEFAULTS.initial_credits_cents,
    generation_cost_cents: Annotated[
        int, typer.Option(help="Official credits charged per create (refunded on failure).")
    ] = _DEFAULTS.generation_cost_cents,
    web_capacity: Annotated[
        int, typer.Option(help="Web generations a session's subscription allows.")
    ] = _DEFAULTS.web_capacity,
    callback_retries: Annotated[
        int, typer.Option(help="Callback retries after a non-2xx reply.")
    ] = _DEFAULTS.callback_retries,
    callback_retry_delay: Annotated[
        float, typer.Option(help="Seconds between callback attempts.")
    ] = _DEFAULTS.callback_retry_delay,
    callback_timeout: Annotated[
        float, typer.Option(help="Timeout of one callback attempt, seconds.")
    ] = _DEFAULTS.callback_timeout,
    tick_seconds: Annotated[
        float, typer.Option(help="Period of the background timeline ticker.")
    ] = _DEFAULTS.tick_seconds,
    media_dir: Annotated[
        Path | None, typer.Option(help="Where rendered clips are cached (default: a temp dir).")
    ] = None,
    public_base_url: Annotated[
        str | None,
        typer.Option(help="Base URL put in media/upload URLs (default: the request's host)."),
    ] = None,
    media_ttl_seconds: Annotated[
        float | None,
        typer.Option(help="Media links expire (403) this long after they were handed out."),
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
    try:
        config = SimConfig(
            max_concurrency=max_concurrency,
            creates_per_minute=creates_per_minute,
            queued_seconds=queued_seconds,
            dreaming_seconds=dreaming_seconds,
            tick_seconds=tick_seconds,
            error_rate=error_rate,
            timeout_rate=timeout_rate,
            timeout_seconds=timeout_seconds,
            slow_rate=slow_rate,
            slow_seconds=slow_seconds,
            lost_response_rate=lost_response_rate,
            moderation_marker=moderation_marker,
            seed=seed,
            web_null_video_rate=web_null_video_rate,
            callback_duplicate_rate=callback_duplicate_rate,
            api_key_prefix=api_key_prefix,
            web_token_prefix=web_token_prefix,
            session_lifetime_seconds=session_lifetime_seconds,
            session_rotate_seconds=session_rotate_seconds,
            initial_credits_cents=initial_credits_cents,
            generation_cost_cents=generation_cost_cents,
            web_capacity=web_capacity,
            callback_retries=callback_retries,
            callback_retry_delay=callback_retry_delay,
            callback_timeout=callback_timeout,
            media_dir=media_dir,
            public_base_url=public_base_url,
            media_ttl_seconds=media_ttl_seconds,
        )
    except ValidationError as exc:
        raise typer.BadParameter(str(exc)) from exc
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
