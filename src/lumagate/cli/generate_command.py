"""``lumagate generate``: a first video from the terminal, through a running gateway.

Built on :mod:`lumagate.client`. Only Typer is imported at module level, so registering the
command costs nothing at start-up; the client, httpx and Rich load when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lumagate.cli.remote import GatewayUrl, exit_on_client_error

ApiKeyOption = Annotated[
    str,
    typer.Option(
        "--key",
        envvar="LUMAGATE_API_KEY",
        help="API key (sk-lg-...); or LUMAGATE_API_KEY.",
        show_default=False,
    ),
]


def generate(
    prompt: Annotated[str, typer.Argument(help="What the video shows.")] = "",
    image: Annotated[
        str | None, typer.Option("--image", help="Start frame: a file path or an http(s) URL.")
    ] = None,
    end_image: Annotated[
        str | None, typer.Option("--end-image", help="End frame: a file path or an http(s) URL.")
    ] = None,
    aspect_ratio: Annotated[
        str | None, typer.Option(help="16:9 (default), 1:1, 9:16, 4:3, 3:4, 21:9, 9:21.")
    ] = None,
    model: Annotated[str | None, typer.Option(help="ray-2 (default), ray-flash-2, ...")] = None,
    resolution: Annotated[str | None, typer.Option(help="540p, 720p (default), ...")] = None,
    duration: Annotated[str | None, typer.Option(help="5s (default) or 9s.")] = None,
    loop: Annotated[bool, typer.Option("--loop", help="Make the video loop.")] = False,
    channel: Annotated[str | None, typer.Option(help="default, vip or pro.")] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Follow the task with a progress bar, then save it.")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Where --wait saves the MP4 (default <id>.mp4).")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Longest --wait, in seconds.")] = 900.0,
    url: GatewayUrl = "http://127.0.0.1:8000",
    key: ApiKeyOption = "",
) -> None:
    """Create a video task on a running gateway; with --wait, follow it and save the MP4.

    Exit codes: 0 done, 1 refused or failed, 3 wrong key, 4 gateway unreachable, 5 timed out.
    """
    from lumagate.cli.generate_run import GenerateRequest, run_generate

    request = GenerateRequest(
        prompt=prompt,
        image=image,
        end_image=end_image,
        aspect_ratio=aspect_ratio,
        model=model,
        resolution=resolution,
        duration=duration,
        loop=loop or None,
        channel=channel,
    )
    with exit_on_client_error():
        run_generate(url, key, request, wait=wait or out is not None, out=out, timeout=timeout)
