"""The asyncio client: :class:`AsyncLumagateClient`, the same methods as the blocking one."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Unpack

import httpx

from lumagate.client import calls
from lumagate.client.calls import CreateKeywords, ExtendKeywords, GenerationRef
from lumagate.client.errors import unreachable
from lumagate.client.files import AtomicFile
from lumagate.client.images import ImageInput
from lumagate.client.models import Generation, UploadedImage, Usage, parse_usage
from lumagate.client.transport import (
    DEFAULT_TIMEOUT_SECONDS,
    AsyncGatewaySession,
    checked,
)
from lumagate.client.waiting import (
    DEFAULT_POLL_SECONDS,
    DEFAULT_WAIT_SECONDS,
    ProgressCallback,
    WaitClock,
    outcome,
)


class AsyncLumagateClient(AsyncGatewaySession):
    """A lumagate gateway over its reseller dialect (``/luma/...``), for asyncio.

    ``channel`` (``default``, ``vip`` or ``pro``) is the default for creates and extends.
    Every method raises a :class:`~lumagate.client.LumagateError` subclass on failure. Use it
    as an async context manager, or await :meth:`close`.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        channel: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, api_key, timeout=timeout, transport=transport)
        self.channel = channel
        calls.prefix(channel)  # an unknown channel is refused now, not at the first create

    async def create(self, prompt: str = "", **keywords: Unpack[CreateKeywords]) -> Generation:
        """Create a video task from a prompt and/or start and end images (``image``,
        ``end_image``: URL, path or bytes), on ``channel`` (default: the client's), with an
        optional ``idempotency_key``. Video options left ``None`` take the gateway's defaults
        (16:9, ray-2, 720p, 5s)."""
        call = calls.create_call(prompt, self.channel, keywords)
        return calls.read_generation(await self._send(call))

    async def extend(
        self, source: GenerationRef, prompt: str, **keywords: Unpack[ExtendKeywords]
    ) -> Generation:
        """Continue a completed task's video as a new task (``end_image``, ``channel``,
        ``idempotency_key`` and the video options as for :meth:`create`)."""
        call = calls.extend_call(source, prompt, self.channel, keywords)
        return calls.read_generation(await self._send(call))

    async def get(self, task: GenerationRef) -> Generation:
        """One task (``stage`` and ``progress`` inferred from its state)."""
        return calls.read_generation(await self._send(calls.get_call(task)))

    async def status(self, task: GenerationRef) -> Generation:
        """One task with the gateway's finer ``stage`` and its ``progress`` percentage."""
        return calls.read_status(await self._send(calls.status_call(task)), task)

    async def wait(
        self,
        task: GenerationRef,
        *,
        on_progress: ProgressCallback | None = None,
        poll_interval: float = DEFAULT_POLL_SECONDS,
        timeout: float | None = DEFAULT_WAIT_SECONDS,
    ) -> Generation:
        """Poll until the task ends; return it completed, or raise ``TaskFailedError`` /
        ``WaitTimeoutError``. ``on_progress`` hears every poll."""
        clock = WaitClock(poll_interval, timeout)
        while True:
            latest = await self.status(task)
            if on_progress is not None:
                on_progress(latest)
            if latest.done:
                return outcome(latest)
            await asyncio.sleep(clock.pause_before_next(latest))

    async def download_url(self, task: GenerationRef) -> str:
        """The best (watermark-free) MP4 link of a completed task."""
        return calls.read_url(await self._send(calls.download_url_call(task)))

    async def download(self, task: GenerationRef, path: str | Path) -> Path:
        """Save a completed task's MP4 to ``path`` (written whole or not at all)."""
        url = await self.download_url(task)
        target = Path(path)
        try:
            async with self._http.stream("GET", url) as response:
                with AtomicFile(target) as out:
                    if not response.is_success:
                        await response.aread()
                        checked(response)
                    async for chunk in response.aiter_bytes():
                        out.write(chunk)
        except httpx.TransportError as error:
            raise unreachable(self.base_url, error) from None
        return target

    async def list(self, *, offset: int = 0, limit: int = 10) -> list[Generation]:
        """The caller's tasks, newest first."""
        return calls.read_list(await self._send(calls.list_call(offset, limit)))

    async def usage(self) -> Usage:
        """The caller's usage (generations this month, and how many remain)."""
        return parse_usage(calls.json_object(await self._send(calls.usage_call())))

    async def upload(self, image: ImageInput) -> UploadedImage:
        """Store an image on the gateway; its ``public_url`` can be given as ``image``."""
        return calls.read_upload(await self._send(calls.upload_call(image)))
