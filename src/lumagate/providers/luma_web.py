"""The Luma web-app API ("luma-web" accounts: a logged-in browser session, UPSTREAM.md §2).

Auth is the browser's cookie string plus the Origin/Referer/User-Agent a browser sends; rotated
cookies are merged and persisted by :mod:`lumagate.providers.web_session`, and the upkeep loop
calls :meth:`LumaWebProvider.maintain` (``GET /api/users/v1/me`` as keep-alive, then
``/subscription/usage`` so the scheduler never plans past the plan's remaining generations).

The web API takes ``user_prompt``, ``aspect_ratio``, ``expand_prompt``, ``loop``, ``image_url``
and ``image_end_url``; model, resolution, duration and concepts are dropped and recorded.
Images not hosted by Luma (``/app_data/photon/``) are re-uploaded through ``file_upload`` and a
presigned PUT, because the web app refuses (or moderates away) foreign URLs. ``completed`` with
``video: null`` is not completion; at completion the watermark-free ``video_raw`` the list
already carries becomes the task's download, and only a generation without one costs a call to
``download_video_url`` (a presigned link, about an hour).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from lumagate.domain.accounts import AVAILABLE, CAPACITY, CHECKED_AT, AccountHandle
from lumagate.domain.clock import iso_z, utcnow
from lumagate.domain.request import GenerationRequest
from lumagate.media.store import MediaError
from lumagate.providers.base import (
    MediaAccess,
    ProviderError,
    Rejected,
    Submission,
    TransientError,
    UpstreamJob,
    UpstreamState,
    extend_source,
    image_extension,
)
from lumagate.providers.flat_shape import asset_url as _url
from lumagate.providers.flat_shape import flat_media, upload_public_url
from lumagate.providers.http import UpstreamHttp, UpstreamNotFound, fetch_or_gone, parse_json
from lumagate.providers.listing import CreatedIndex, Lister, Raw, TakenLookup, pick_unclaimed
from lumagate.providers.web_session import SessionJars

DEFAULT_BASE_URL = "https://internal-api.virginia.labs.lumalabs.ai"
PHOTON = "/api/photon/v1"
ME_PATH = "/api/users/v1/me"
HOSTED_MARK = "/app_data/photon/"
BROWSER_HEADERS = {
    "Origin": "https://lumalabs.ai",
    "Referer": "https://lumalabs.ai/",
    "User-Agent": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
    ),
}
PAGE_SIZE = 100
MAX_PAGES = 3
UPLOAD_CACHE = 512
STATES: dict[str, UpstreamState] = {
    "pending": UpstreamState.PENDING,
    "processing": UpstreamState.PROCESSING,
    "completed": UpstreamState.COMPLETED,
    "failed": UpstreamState.FAILED,
}
# What the web app cannot be told, with the value that needs no mention.
UNSUPPORTED: tuple[tuple[str, str], ...] = (
    ("model", "ray-2"),
    ("resolution", "720p"),
    ("duration", "5s"),
)


def dropped_fields(request: GenerationRequest) -> tuple[str, ...]:
    dropped = [name for name, plain in UNSUPPORTED if getattr(request, name) != plain]
    if request.concepts:
        dropped.append("concepts")
    return tuple(dropped)


class LumaWebProvider:
    """Provider for web-app sessions; one instance serves every account of the kind."""

    kind = "luma-web"

    def __init__(
        self, http: UpstreamHttp, media: MediaAccess, sessions: SessionJars, *, taken: TakenLookup
    ) -> None:
        self.http = http
        self.media = media
        self.sessions = sessions
        self.taken = taken
        self.index = CreatedIndex()
        self._uploads: OrderedDict[tuple[str, str], str] = OrderedDict()

    # -- provider interface -------------------------------------------------------------
    async def submit(self, account: AccountHandle, submission: Submission) -> UpstreamJob:
        return await self._create(account, submission, PHOTON + "/generations/")

    async def extend(self, account: AccountHandle, submission: Submission) -> UpstreamJob:
        source = extend_source(submission)
        return await self._create(account, submission, f"{PHOTON}/generations/{source}/extend")

    async def upload_image(self, account: AccountHandle, data: bytes, content_type: str) -> str:
        extension = image_extension(content_type)
        slot = await self._call(
            account,
            "POST",
            PHOTON + "/generations/file_upload",
            what="an image upload slot",
            params={"file_type": "image", "filename": f"file.{extension}"},
            idempotent=True,  # an unused slot costs nothing
        )
        if not isinstance(slot, dict) or not _url(slot.get("presigned_url")):
            raise TransientError("The upstream gave no upload URL")
        await self.http.send(
            "PUT",
            slot["presigned_url"],
            what="the image upload",
            headers={"Content-Type": content_type},
            content=data,
        )
        return upload_public_url(slot, "upstream")

    async def refresh_many(
        self, account: AccountHandle, upstream_ids: Sequence[str]
    ) -> dict[str, UpstreamJob]:
        raws = await self._lister(account).collect(upstream_ids)
        slots = asyncio.Semaphore(4)

        async def one(raw: Raw) -> UpstreamJob:
            async with slots:
                return await self.job(account, raw)

        jobs = await asyncio.gather(*(one(raw) for raw in raws.values()))
        return {job.upstream_id: job for job in jobs}

    async def find_submission(
        self, account: AccountHandle, submission: Submission
    ) -> UpstreamJob | None:
        request = submission.request
        recent = await self._lister(account).recent_since(submission.not_before)

        def matches(raw: Raw) -> bool:
            if (raw.get("prompt") or "") != request.prompt:
                return False
            if "aspect_ratio" in raw and raw["aspect_ratio"] not in (None, request.aspect_ratio):
                return False
            return "loop" not in raw or raw["loop"] in (None, request.loop)

        found = await pick_unclaimed(recent, matches, account.id, self.taken)
        return None if found is None else await self.job(account, found)

    async def download_url(self, account: AccountHandle, upstream_id: str) -> str | None:
        raw = await self._call(
            account,
            "GET",
            f"{PHOTON}/generations/{upstream_id}/download_video_url",
            what=f"the download link of {upstream_id}",
        )
        return _url(raw)

    async def close(self) -> None:
        """Nothing to release: the HTTP client is the gateway's."""

    # -- optional abilities -------------------------------------------------------------
    async def maintain(self, account: AccountHandle) -> Mapping[str, Any]:
        """Keep the session alive (and rotated), then read the plan's remaining generations."""
        await self._call(account, "GET", ME_PATH, what="the session keep-alive")
        usage = await self._call(account, "GET", PHOTON + "/subscription/usage", what="the usage")
        if not isinstance(usage, dict):
            return {CHECKED_AT: iso_z(utcnow())}
        available, capacity = usage.get("available"), usage.get("capacity")
        return {
            AVAILABLE: available if isinstance(available, int) else None,
            CAPACITY: capacity if isinstance(capacity, int) else None,
            CHECKED_AT: iso_z(utcnow()),
        }

    # -- mapping ------------------------------------------------------------------------
    async def job(self, account: AccountHandle, raw: Raw) -> UpstreamJob:
        """A web generation as an :class:`UpstreamJob`; fetches the download link at completion."""
        upstream_id = str(raw["id"])
        state = STATES.get(str(raw.get("state")), UpstreamState.PENDING)
        if state == UpstreamState.FAILED:
            reason = raw.get("failure_reason")
            return UpstreamJob(upstream_id, state, failure_reason=str(reason) if reason else None)
        if state != UpstreamState.COMPLETED:
            return UpstreamJob(upstream_id, state)
        if flat_media(raw, download=None) is None:
            return UpstreamJob(upstream_id, UpstreamState.PROCESSING, progress=99)  # not yet
        # Paid plans list the watermark-free ``video_raw``: no call needed (issue 10).
        download = _url(raw.get("video_raw")) or await self._download_link(
            account, upstream_id, _url(raw.get("video"))
        )
        if download is None:
            return UpstreamJob(upstream_id, UpstreamState.PROCESSING, progress=99)  # next poll
        return UpstreamJob(
            upstream_id,
            UpstreamState.COMPLETED,
            progress=100,
            media=flat_media(raw, download=download),
        )

    async def body(self, account: AccountHandle, submission: Submission) -> dict[str, Any]:
        request = submission.request
        body: dict[str, Any] = {
            "user_prompt": request.prompt,
            "aspect_ratio": request.aspect_ratio,
            "expand_prompt": request.expand_prompt,
            "loop": request.loop,
        }
        if request.start_image and submission.extend_of_upstream_id is None:
            body["image_url"] = await self._luma_hosted(account, request.start_image)
        if request.end_image:
            body["image_end_url"] = await self._luma_hosted(account, request.end_image)
        return body

    # -- plumbing -----------------------------------------------------------------------
    async def _create(
        self, account: AccountHandle, submission: Submission, path: str
    ) -> UpstreamJob:
        body = await self.body(account, submission)
        answer = await self._call(account, "POST", path, what="a new generation", json=body)
        raw = answer[0] if isinstance(answer, list) and answer else answer
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise TransientError("The upstream answered the create without a generation")
        job = await self.job(account, raw)
        return replace(job, dropped_fields=dropped_fields(submission.request))

    async def _download_link(
        self, account: AccountHandle, upstream_id: str, watermarked: str | None
    ) -> str | None:
        """The watermark-free link of a generation listed without ``video_raw``; the
        watermarked video when the plan has none; None to ask again on the next poll."""
        try:
            return await self.download_url(account, upstream_id)
        except (UpstreamNotFound, Rejected):
            return watermarked  # no watermark-free link for this plan: the video is the best
        except ProviderError:
            return None

    async def _luma_hosted(self, account: AccountHandle, ref: str) -> str:
        """``ref`` as a Luma-hosted URL: as is when it already is one, else re-uploaded."""
        if HOSTED_MARK in urlsplit(ref).path and ref.startswith(("http://", "https://")):
            return ref
        try:
            data, content_type = await self.media.read(ref)
        except MediaError as exc:
            raise Rejected(f"The image could not be read: {exc.message}") from exc
        cache_key = (account.id, hashlib.sha256(data).hexdigest())
        cached = self._uploads.get(cache_key)
        if cached is not None:
            return cached
        url = await self.upload_image(account, data, content_type)
        self._uploads[cache_key] = url
        while len(self._uploads) > UPLOAD_CACHE:
            self._uploads.popitem(last=False)
        return url

    async def _call(
        self,
        account: AccountHandle,
        method: str,
        path: str,
        *,
        what: str,
        json: Any = None,
        params: Mapping[str, str | int] | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        headers = {**BROWSER_HEADERS, "Cookie": self.sessions.cookie_for(account)}
        response = await self.http.send(
            method,
            (account.base_url or DEFAULT_BASE_URL).rstrip("/") + path,
            what=what,
            headers=headers,
            json=json,
            params=params,
            idempotent=idempotent,
        )
        await self.sessions.absorb(account, response.headers.get_list("set-cookie"))
        return parse_json(response, what) if response.content else None

    async def _fetch_one(self, account: AccountHandle, upstream_id: str) -> Raw | None:
        url, what = f"{PHOTON}/generations/{upstream_id}", f"generation {upstream_id}"
        return await fetch_or_gone(upstream_id, self._call(account, "GET", url, what=what))

    def _lister(self, account: AccountHandle) -> Lister:
        async def fetch_page(offset: int, limit: int) -> list[Raw]:
            raw = await self._call(
                account,
                "GET",
                PHOTON + "/user/generations/",
                what="the list of generations",
                params={"offset": offset, "limit": limit},
            )
            return [i for i in raw if isinstance(i, dict)] if isinstance(raw, list) else []

        async def fetch_one(upstream_id: str) -> Raw | None:
            return await self._fetch_one(account, upstream_id)

        return Lister(fetch_page, fetch_one, PAGE_SIZE, MAX_PAGES, self.index)
