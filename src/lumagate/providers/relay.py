"""Another reseller gateway as an upstream ("relay" accounts, UPSTREAM.md §3).

Anything speaking the reseller dialect (CONTRACT §1) — another lumagate included — with a base
URL (optionally ending in a channel prefix such as ``/pro``) and a Bearer key. Creates and
extends are passed through as reseller bodies; tasks are followed with the batch query
``POST /luma/tasks`` (up to 100 ids per call); ``download_video_url`` is passed through.

Every create carries ``Idempotency-Key: lumagate-<task id>`` (CONTRACT §0: the same key within
24 h returns the first task). That makes a relay create safe to retry in the call, and it is
how :meth:`RelayProvider.find_submission` works: replaying the create with the same key returns
the generation if the first call made one, and makes it now if it did not — either way exactly
one generation exists. Stored images are sent as data URIs, so the other gateway never has to
reach this one.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from lumagate.domain.accounts import AccountHandle
from lumagate.domain.request import is_media_ref
from lumagate.media.store import MediaError
from lumagate.providers.base import (
    AuthenticationFailed,
    MediaAccess,
    Rejected,
    Submission,
    TransientError,
    UpstreamJob,
    UpstreamState,
    extend_source,
)
from lumagate.providers.flat_shape import asset_url as _url
from lumagate.providers.flat_shape import flat_media, upload_public_url
from lumagate.providers.http import UpstreamHttp, fetch_or_gone

BATCH = 100
IDEMPOTENCY_PREFIX = "lumagate-"
STATES: dict[str, UpstreamState] = {
    "pending": UpstreamState.PENDING,
    "processing": UpstreamState.PROCESSING,
    "completed": UpstreamState.COMPLETED,
    "failed": UpstreamState.FAILED,
}


def _progress(value: Any) -> int | None:
    text = str(value).strip().rstrip("%") if value is not None else ""
    try:
        return max(0, min(100, int(float(text))))
    except ValueError:
        return None


def job_from_flat(flat: dict[str, Any], progress: int | None = None) -> UpstreamJob:
    """The reseller's flat generation object as an :class:`UpstreamJob`."""
    upstream_id = str(flat["id"])
    state = STATES.get(str(flat.get("state")), UpstreamState.PENDING)
    if state == UpstreamState.FAILED:
        reason = flat.get("failure_reason")
        return UpstreamJob(upstream_id, state, failure_reason=str(reason) if reason else None)
    if state != UpstreamState.COMPLETED:
        return UpstreamJob(upstream_id, state, progress=progress)
    video = flat.get("video")
    download = _url(video.get("download_url")) if isinstance(video, dict) else None
    media = flat_media(flat, download=download)
    if media is None:
        return UpstreamJob(upstream_id, UpstreamState.PROCESSING, progress=99)
    return UpstreamJob(upstream_id, UpstreamState.COMPLETED, progress=100, media=media)


class RelayProvider:
    """Provider for relay accounts; one instance serves every account of the kind."""

    kind = "relay"

    def __init__(self, http: UpstreamHttp, media: MediaAccess) -> None:
        self.http = http
        self.media = media

    # -- provider interface -------------------------------------------------------------
    async def submit(self, account: AccountHandle, submission: Submission) -> UpstreamJob:
        return await self._create(account, submission)

    async def extend(self, account: AccountHandle, submission: Submission) -> UpstreamJob:
        extend_source(submission)  # the relay extends its own id of the source
        return await self._create(account, submission)

    async def upload_image(self, account: AccountHandle, data: bytes, content_type: str) -> str:
        raw = await self.http.json(
            "POST",
            self._base(account) + "/luma/generations/file_upload",
            what="an image upload",
            headers=self._headers(account),
            json={"url": _data_uri(data, content_type)},
            idempotent=True,
        )
        return upload_public_url(raw, "relay")

    async def refresh_many(
        self, account: AccountHandle, upstream_ids: Sequence[str]
    ) -> dict[str, UpstreamJob]:
        jobs: dict[str, UpstreamJob] = {}
        ids = list(dict.fromkeys(upstream_ids))
        for start in range(0, len(ids), BATCH):
            raw = await self.http.json(
                "POST",
                self._base(account) + "/luma/tasks",
                what="the batch task query",
                headers=self._headers(account),
                json={"ids": ids[start : start + BATCH]},
                idempotent=True,  # a query
            )
            records = raw.get("data") if isinstance(raw, dict) else None
            for record in records if isinstance(records, list) else []:
                flat = record.get("data") if isinstance(record, dict) else None
                if isinstance(flat, dict) and isinstance(flat.get("id"), str):
                    jobs[flat["id"]] = job_from_flat(flat, _progress(record.get("progress")))
        for upstream_id in [i for i in ids if i not in jobs]:  # left out: ask once, directly
            job = await self._fetch_one(account, upstream_id)
            if job is not None:
                jobs[upstream_id] = job
        return jobs

    async def _fetch_one(self, account: AccountHandle, upstream_id: str) -> UpstreamJob | None:
        url = f"{self._base(account)}/luma/generations/{upstream_id}"
        what, headers = f"task {upstream_id}", self._headers(account)
        raw = await fetch_or_gone(
            upstream_id, self.http.json("GET", url, what=what, headers=headers)
        )
        return job_from_flat(raw) if raw is not None and "id" in raw else None

    async def find_submission(
        self, account: AccountHandle, submission: Submission
    ) -> UpstreamJob | None:
        # Replaying the create under the same Idempotency-Key returns the first generation if
        # there was one, or makes the only one now (see the module docstring).
        return await self._create(account, submission)

    async def download_url(self, account: AccountHandle, upstream_id: str) -> str | None:
        raw = await self.http.json(
            "GET",
            f"{self._base(account)}/luma/generations/{upstream_id}/download_video_url",
            what=f"the download link of {upstream_id}",
            headers=self._headers(account),
        )
        return _url(raw)

    async def close(self) -> None:
        """Nothing to release: the HTTP client is the gateway's."""

    # -- plumbing -----------------------------------------------------------------------
    async def body(self, submission: Submission) -> dict[str, Any]:
        request = submission.request
        body: dict[str, Any] = {
            "user_prompt": request.prompt,
            "aspect_ratio": request.aspect_ratio,
            "expand_prompt": request.expand_prompt,
            "loop": request.loop,
            "model_name": request.model,
            "resolution": request.resolution,
            "duration": request.duration,
        }
        if request.start_image and submission.extend_of_upstream_id is None:
            body["image_url"] = await self._portable(request.start_image)
        if request.end_image:
            body["image_end_url"] = await self._portable(request.end_image)
        return body

    async def _create(self, account: AccountHandle, submission: Submission) -> UpstreamJob:
        path = "/luma/generations"
        if submission.extend_of_upstream_id is not None:
            path += f"/{submission.extend_of_upstream_id}/extend"
        raw = await self.http.json(
            "POST",
            self._base(account) + path,
            what="a new generation",
            headers={
                **self._headers(account),
                "Idempotency-Key": IDEMPOTENCY_PREFIX + submission.intent_id,
            },
            json=await self.body(submission),
            idempotent=True,  # the key makes a replay return the first task
        )
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise TransientError("The relay answered the create without a task id")
        dropped = ("concepts",) if submission.request.concepts else ()
        return replace(job_from_flat(raw), dropped_fields=dropped)

    async def _portable(self, ref: str) -> str:
        """A stored image as a data URI (the relay need not reach us); URLs pass through."""
        if not is_media_ref(ref):
            return ref
        try:
            data, content_type = await self.media.read(ref)
        except MediaError as exc:
            raise Rejected(f"The image could not be read: {exc.message}") from exc
        return _data_uri(data, content_type)

    @staticmethod
    def _base(account: AccountHandle) -> str:
        if not account.base_url:
            raise Rejected("The relay account has no base URL")
        return account.base_url.rstrip("/")

    @staticmethod
    def _headers(account: AccountHandle) -> dict[str, str]:
        key = account.credentials.get("api_key")
        if not key:
            raise AuthenticationFailed("The relay account has no API key")
        return {"Authorization": f"Bearer {key}"}


def _data_uri(data: bytes, content_type: str) -> str:
    return f"data:{content_type};base64,{base64.b64encode(data).decode('ascii')}"
