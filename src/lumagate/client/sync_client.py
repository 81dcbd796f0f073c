"""The blocking client: :class:`LumagateClient` (see docs/client.md for examples)."""

from __future__ import annotations

import time
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
    GatewaySession,
    checked,
)
from lumagate.client.waiting import (
    DEFAULT_POLL_SECONDS,
    DEFAULT_WAIT_SECONDS,
    ProgressCallback,
    WaitClock,
    outcome,
)


class LumagateClient(GatewaySession):
    """A lumagate gateway over its reseller dialect (``/luma/...``), blocking.

    ``channel`` (``default``, ``vip`` or ``pro``) is the default for creates and extends.
    Every method raises a :class:`~lumagate.client.LumagateError` subclass on failure. Use it
    as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        channel: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, api_key, timeout=timeout, transport=transport)
        self.channel = channel
        calls.prefix(channel)  # an unknown channel is refused now, not at the first create

    def create(self, prompt: str = "", **keywords: Unpack[CreateKeywords]) -> Generation:
        """Create a video task from a prompt and/or start and end images (``image``,
        ``end_image``: URL, path or bytes), on ``channel`` (default: the client's), with an
        optional ``idempotency_key``. Video options left ``None`` take the gateway's defaults
        (16:9, ray-2, 720p, 5s)."""
        call = calls.create_call(prompt, self.channel, keywords)
        return calls.read_generation(self._send(call))

    def extend(
        self, source: GenerationRef, prompt: str, **keywords: Unpack[ExtendKeywords]
    ) -> Generation:
        """Continue a completed task's video as a new task (``end_image``, ``channel``,
        ``idempotency_key`` and the video options as for :meth:`create`)."""
        call = calls.extend_call(source, prompt, self.channel, keywords)
        return calls.read_generation(self._send(call))

    def get(self, task: GenerationRef) -> Generation:
        """One task (``stage`` and ``progress`` inferred from its state)."""
        return calls.read_generation(self._send(calls.get_call(task)))

    def status(self, task: GenerationRef) -> Generation:
        """One task with the gateway's finer ``stage`` and its ``progress`` percentage."""
        return calls.read_status(self._send(calls.status_call(task)), task)

    def wait(
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
            latest = self.status(task)
            if on_progress is not None:
                on_progress(latest)
            if latest.done:
                return outcome(latest)
            time.sleep(clock.pause_before_next(latest))

    def download_url(self, task: GenerationRef) -> str:
        """The best (watermark-free) MP4 link of a completed task."""
        return calls.read_url(self._send(calls.download_url_call(task)))

    def download(self, task: GenerationRef, path: str | Path) -> Path:
        """Save a completed task's MP4 to ``path`` (written whole or not at all)."""
        url = self.download_url(task)
        target = Path(path)
        try:
            with self._http.stream("GET", url) as response, AtomicFile(target) as out:
                if not response.is_success:
                    response.read()
                    checked(response)
                for chunk in response.iter_bytes():
                    out.write(chunk)
        except httpx.TransportError as error:
            raise unreachable(self.base_url, error) from None
        return target

    def list(self, *, offset: int = 0, limit: int = 10) -> list[Generation]:
        """The caller's tasks, newest first."""
        return calls.read_list(self._send(calls.list_call(offset, limit)))

    def usage(self) -> Usage:
        """The caller's usage (generations this month, and how many remain)."""
        return parse_usage(calls.json_object(self._send(calls.usage_call())))

    def upload(self, image: ImageInput) -> UploadedImage:
        """Store an image on the gateway; its ``public_url`` can be given as ``image``."""
        return calls.read_upload(self._send(calls.upload_call(image)))
