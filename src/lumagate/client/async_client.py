"""The asyncio client: :class:`AsyncLumagateClient`, the blocking client's methods, awaited.

Each method runs the same flow from ``flows.py`` as :class:`LumagateClient`'s, over the asyncio
session, so the two cannot drift apart; what each method does is documented once, on the
blocking client (docs/client.md covers both).
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
from lumagate.client.transport import AsyncGatewaySession, checked
from lumagate.client.waiting import WaitKeywords


class AsyncLumagateClient(AsyncGatewaySession):
    """The asyncio twin of :class:`~lumagate.client.LumagateClient`: the same methods, awaited.

    Use it as an async context manager, or await :meth:`close`.
    """

    async def create(self, prompt: str = "", **keywords: Unpack[CreateKeywords]) -> Generation:
        """:meth:`LumagateClient.create <lumagate.client.LumagateClient.create>`, awaited."""
        return await self._run(flows.create(prompt, self.channel, keywords))

    async def extend(
        self, source: GenerationRef, prompt: str, **keywords: Unpack[ExtendKeywords]
    ) -> Generation:
        """:meth:`LumagateClient.extend <lumagate.client.LumagateClient.extend>`, awaited."""
        return await self._run(flows.extend(source, prompt, self.channel, keywords))

    async def get(self, task: GenerationRef) -> Generation:
        """:meth:`LumagateClient.get <lumagate.client.LumagateClient.get>`, awaited."""
        return await self._run(flows.get(task))

    async def status(self, task: GenerationRef) -> Generation:
        """:meth:`LumagateClient.status <lumagate.client.LumagateClient.status>`, awaited."""
        return await self._run(flows.status(task))

    async def wait(self, task: GenerationRef, **options: Unpack[WaitKeywords]) -> Generation:
        """:meth:`LumagateClient.wait <lumagate.client.LumagateClient.wait>`, awaited (the
        pauses between polls are ``asyncio.sleep``)."""
        return await self._run(flows.wait(task, options))

    async def download_url(self, task: GenerationRef) -> str:
        """:meth:`LumagateClient.download_url <lumagate.client.LumagateClient.download_url>`."""
        return await self._run(flows.download_url(task))

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
        """:meth:`LumagateClient.list <lumagate.client.LumagateClient.list>`, awaited."""
        return await self._run(flows.listing(offset, limit))

    async def usage(self) -> Usage:
        """:meth:`LumagateClient.usage <lumagate.client.LumagateClient.usage>`, awaited."""
        return await self._run(flows.usage())

    async def upload(self, image: ImageInput) -> UploadedImage:
        """:meth:`LumagateClient.upload <lumagate.client.LumagateClient.upload>`, awaited."""
        return await self._run(flows.upload(image))
