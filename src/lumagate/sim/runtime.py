"""The running sim: config, world, sessions, uploads, media, callbacks and the ticker together.

Routes reach it through the ``Runtime`` dependency. ``sync`` moves the timeline forward and
turns state changes into callbacks and quirks; it runs in the background at the next phase change
of a running generation (or every ``tick_seconds`` at the latest) and again at the start of every
API request, so answers are exact even between ticks and a callback leaves when its state begins,
not up to a tick later (a created generation wakes the ticker so its changes are timed too).
A created generation's clip is rendered at once in the background, so the first download after
it completes does not wait for a render (a real upstream's video exists when it completes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Annotated, Any, cast

from fastapi import Depends, Request

from lumagate.sim.callbacks import CallbackDispatcher, Redelivery
from lumagate.sim.clips import ClipCache
from lumagate.sim.config import SimConfig
from lumagate.sim.faults import Dice
from lumagate.sim.media_links import MediaLinks
from lumagate.sim.sessions import SessionRegistry
from lumagate.sim.uploads import UploadStore
from lumagate.sim.views import official_view
from lumagate.sim.world import SimGeneration, World

logger = logging.getLogger(__name__)


def _quirk_seed(seed: int | None) -> int | None:
    return None if seed is None else seed + 1


class SimRuntime:
    """Everything one sim app owns; created by ``create_sim_app``."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.world = World()
        self.sessions = SessionRegistry()
        self.uploads = UploadStore()
        self.callbacks = CallbackDispatcher()
        self.links = MediaLinks(config.media_ttl_seconds)
        self.fault_dice = Dice(config.seed)
        self.quirk_dice = Dice(_quirk_seed(config.seed))
        # Without a configured cache, render into a private temp dir (created on first render,
        # removed at shutdown).
        self._temp_media: Path | None = None
        if config.media_dir is None:
            self._temp_media = (
                Path(tempfile.gettempdir()) / f"lumagate-sim-media-{uuid.uuid4().hex}"
            )
        self.clips = ClipCache(config.media_dir or self._temp_media or Path("."))
        self._ticker: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._warming: set[asyncio.Task[object]] = set()

    @staticmethod
    def now() -> float:
        return time.monotonic()

    def base_url(self, request: Request) -> str:
        """Where clients reach the sim: the configured public base URL, else the request's."""
        if self.config.public_base_url:
            return self.config.public_base_url.rstrip("/")
        return str(request.base_url).rstrip("/")

    def lose_response(self) -> bool:
        """Roll for a lost create response (the create is already recorded)."""
        return self.fault_dice.roll(self.config.lost_response_rate)

    def sync(self) -> None:
        """Advance the timeline; fire callbacks and arm the web ``video: null`` quirk."""
        config = self.config
        policy = Redelivery(
            retries=config.callback_retries,
            delay=config.callback_retry_delay,
            timeout=config.callback_timeout,
        )
        for transition in self.world.advance(self.now()):
            generation = transition.generation
            if generation.surface == "web":
                if transition.state == "completed" and self.quirk_dice.roll(
                    config.web_null_video_rate
                ):
                    generation.null_video_polls = 1
                continue
            if generation.callback_url:
                copies = 2 if self.quirk_dice.roll(config.callback_duplicate_rate) else 1
                self.callbacks.submit(
                    generation.callback_url,
                    generation.id,
                    official_view(generation, transition.state, self.links),
                    copies=copies,
                    policy=policy,
                )

    def start_generation(
        self, http: Request, now: float, /, *, prompt: str, **asked: Any
    ) -> SimGeneration:
        """Record a generation created by ``http`` at ``now``: its id, sequence, base URL, phase
        timings and moderation come from this sim; ``asked`` holds the other
        :class:`SimGeneration` fields, as each dialect's create reads them from its body."""
        marker = self.config.moderation_marker.lower()
        generation = SimGeneration(
            id=self.world.new_generation_id(),
            seq=self.world.next_seq(),
            prompt=prompt,
            base_url=self.base_url(http),
            started=now,
            queued_seconds=self.config.queued_seconds,
            dreaming_seconds=self.config.dreaming_seconds,
            moderated=bool(marker) and marker in prompt.lower(),
            **asked,
        )
        self.created(generation)
        return generation

    def created(self, generation: SimGeneration) -> None:
        """Record a new generation: time its phase changes, and render its clip ahead."""
        self.world.record(generation)
        self._wake.set()
        warm = asyncio.get_running_loop().create_task(self.clips.get(generation.aspect_ratio))
        self._warming.add(warm)
        warm.add_done_callback(self._warmed)

    def _warmed(self, task: asyncio.Task[object]) -> None:
        self._warming.discard(task)
        if not task.cancelled() and task.exception() is not None:  # a download renders again
            logger.warning("sim clip render failed: %r", task.exception())

    def set_config(self, config: SimConfig) -> None:
        """Swap the config at run time; a new seed reseeds the dice."""
        if config.seed != self.config.seed:
            self.fault_dice.reseed(config.seed)
            self.quirk_dice.reseed(_quirk_seed(config.seed))
        if config.media_dir is not None and config.media_dir != self.clips.directory:
            self.clips = ClipCache(config.media_dir)
        self.links.ttl_seconds = config.media_ttl_seconds
        self.config = config

    def reset(self) -> None:
        """Forget all generations, ledger, stats, sessions, uploads and callback history."""
        self.world.reset()
        self.sessions.reset()
        self.uploads.reset()
        self.callbacks.clear()
        self.links.reset()
        self.fault_dice.reseed(self.config.seed)
        self.quirk_dice.reseed(_quirk_seed(self.config.seed))

    async def start(self) -> None:
        if self._ticker is None:
            self._ticker = asyncio.get_running_loop().create_task(self._tick_forever())

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        for warm in list(self._warming):
            warm.cancel()
        await self.callbacks.aclose()
        if self._temp_media is not None:
            shutil.rmtree(self._temp_media, ignore_errors=True)

    async def _tick_forever(self) -> None:
        while True:
            try:
                self.sync()
            except Exception:  # the ticker must survive anything a single tick does
                logger.exception("sim tick failed")
            await self._wait_for_next_change()

    async def _wait_for_next_change(self) -> None:
        """Until the next phase change, a new generation, or ``tick_seconds``, the soonest."""
        wait = self.config.tick_seconds
        due = self.world.next_change()
        if due is not None:
            wait = max(0.0, min(wait, due - self.now()))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait):
                await self._wake.wait()
        self._wake.clear()


def get_runtime(request: Request) -> SimRuntime:
    return cast(SimRuntime, request.app.state.sim_runtime)


async def _plain_runtime(request: Request) -> SimRuntime:
    # async on purpose: FastAPI runs sync dependencies in a thread, the world is loop-only.
    return get_runtime(request)


async def _synced_runtime(request: Request) -> SimRuntime:
    """The runtime with the timeline brought up to date for this request."""
    runtime = get_runtime(request)
    runtime.sync()
    return runtime


Runtime = Annotated[SimRuntime, Depends(_synced_runtime)]
DebugRuntime = Annotated[SimRuntime, Depends(_plain_runtime)]
