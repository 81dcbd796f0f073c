"""What ``lumagate generate`` does once its options are parsed: create, follow, save.

Imported only when the command runs (it pulls in the client, httpx and Rich). The progress
bar goes to stderr and each change of stage is also printed as its own line above the bar,
so a terminal (or a log) keeps the history ``queued → ... → completed``; stdout gets only the
task id (without ``--wait``) or the saved file's path, so the command composes in scripts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from lumagate.cli.remote import EXIT_AUTH, EXIT_FAILED, fail
from lumagate.client import Generation, LumagateClient

POLL_SECONDS = 1.0


@dataclass(frozen=True)
class GenerateRequest:
    """The video the user asked for, as given on the command line."""

    prompt: str
    image: str | None
    end_image: str | None
    aspect_ratio: str | None
    model: str | None
    resolution: str | None
    duration: str | None
    loop: bool | None
    channel: str | None


def run_generate(
    url: str, key: str, request: GenerateRequest, *, wait: bool, out: Path | None, timeout: float
) -> None:
    if not key:
        raise fail("no API key: pass --key or set LUMAGATE_API_KEY", EXIT_AUTH)
    if not request.prompt.strip() and not request.image:
        raise fail("give a prompt, or a start frame with --image", EXIT_FAILED)
    with LumagateClient(url, key, channel=request.channel) as client:
        task = client.create(
            request.prompt,
            image=request.image,
            end_image=request.end_image,
            aspect_ratio=request.aspect_ratio,
            model=request.model,
            resolution=request.resolution,
            duration=request.duration,
            loop=request.loop,
        )
        if not wait:
            print(task.id)
            return
        done = follow(client, task, timeout)
        target = out or Path(f"{done.id}.mp4")
        saved = client.download(done, target)
    size = f"{done.width}x{done.height}" if done.width and done.height else "video"
    Console(stderr=True, highlight=False).print(f"done: saved {size} to {saved}")
    print(saved)


def follow(client: LumagateClient, task: Generation, timeout: float) -> Generation:
    """Wait for ``task`` with a progress bar; print each new stage as a line of its own."""
    console = Console(stderr=True, highlight=False)
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description:<10}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        bar = progress.add_task(task.stage, total=100, completed=task.progress or 0)
        stages: list[str] = []

        def show(latest: Generation) -> None:
            if not stages or stages[-1] != latest.stage:
                stages.append(latest.stage)
                progress.console.print(f"task {latest.id}: {latest.stage}")
            progress.update(bar, description=latest.stage, completed=latest.progress or 0)

        show(task)
        return client.wait(task, on_progress=show, poll_interval=POLL_SECONDS, timeout=timeout)
