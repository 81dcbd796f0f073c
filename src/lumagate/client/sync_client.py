"""The blocking client: :class:`LumagateClient` (see docs/client.md for examples).

Each method runs its flow from ``flows.py`` (the requests, decoding and waiting rules both
clients share) over the blocking session; only ``download``'s streaming is written here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Unpack

import httpx

from lumagate.client import flows
from lumagate.client.calls import CreateKeywords, ExtendKeywords, GenerationRef
from lumagate.client.errors import unreachable
from lumagate.client.files import AtomicFile
from lumagate.client.images import ImageInput
from lumagate.client.models import Generation, UploadedImage, Usage
from lumagate.client.transport import GatewaySession, checked
from lumagate.client.waiting import WaitKeywords


class LumagateClient(GatewaySession):
    """A lumagate gateway over its reseller dialect (``/luma/...``), blocking.

    ``channel`` (``default``, ``vip`` or ``pro``) is the default for creates and extends.
    Every method raises a :class:`~lumagate.client.LumagateError` subclass on failure. Use it
    as a context manager, or call :meth:`close`. :class:`AsyncLumagateClient` has the same
    methods, awaited.
    """

    def create(self, prompt: str = "", **keywords: Unpack[CreateKeywords]) -> Generation:
        """Create a video task from a prompt and/or start and end images (``image``,
        ``end_image``: URL, path or bytes), on ``channel`` (default: the client's), with an
        optional ``idempotency_key``. Video options left ``None`` take the gateway's defaults
        (16:9, ray-2, 720p, 5s)."""
        return self._run(flows.create(prompt, self.channel, keywords))

    def extend(
        self, source: GenerationRef, prompt: str, **keywords: Unpack[ExtendKeywords]
    ) -> Generation:
        """Continue a completed task's video as a new task (``end_image``, ``channel``,
        ``idempotency_key`` and the video options as for :meth:`create`)."""
        return self._run(flows.extend(source, prompt, self.channel, keywords))

    def get(self, task: GenerationRef) -> Generation:
        """One task (``stage`` and ``progress`` inferred from its state)."""
        return self._run(flows.get(task))

    def status(self, task: GenerationRef) -> Generation:
        """One task with the gateway's finer ``stage`` and its ``progress`` percentage."""
        return self._run(flows.status(task))

    def wait(self, task: GenerationRef, **options: Unpack[WaitKeywords]) -> Generation:
        """Poll until the task ends; return it completed, or raise ``TaskFailedError`` /
        ``WaitTimeoutError``. ``on_progress`` hears every poll; ``poll_interval`` (default
        1 s) is the pause between polls, ``timeout`` (default 600 s, ``None``: none) the
        deadline."""
        return self._run(flows.wait(task, options))

    def download_url(self, task: GenerationRef) -> str:
        """The best (watermark-free) MP4 link of a completed task."""
        return self._run(flows.download_url(task))

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
        return self._run(flows.listing(offset, limit))

    def usage(self) -> Usage:
        """The caller's usage (generations this month, and how many remain)."""
        return self._run(flows.usage())

    def upload(self, image: ImageInput) -> UploadedImage:
        """Store an image on the gateway; its ``public_url`` can be given as ``image``."""
        return self._run(flows.upload(image))
