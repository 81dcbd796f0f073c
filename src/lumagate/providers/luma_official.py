"""The official Luma Dream Machine API ("luma-official" accounts, UPSTREAM.md §1).

Maps the gateway's request onto ``POST /generations/video``: ``prompt``, ``model``,
``aspect_ratio``, ``loop``, ``resolution``, ``duration``, ``keyframes.frame0/frame1`` and
``concepts``. What the API cannot take is dropped and recorded on the task (``expand_prompt``
always; ``resolution``/``duration`` for ``ray-1-6``). Images must be public URLs, so stored
images are published under ``LUMAGATE_PUBLIC_URL``; an extend continues the source generation
through ``frame0 = {"type": "generation", "id": …}`` on the account that made it.

Following tasks: each create passes a ``callback_url`` with the account's unguessable hook token
(``api/upstream_hooks.py`` receives it), and polling becomes the slow fallback. Polling reads
one ``GET /generations?limit=100`` page for all running tasks of the account. After a crash the
reconciler finds a lost create in the same list (``find_submission``). A cancelled or timed-out
task's generation is deleted upstream (``cancel``: ``DELETE /generations/{id}``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from lumagate.domain.accounts import (
    CALLBACKS,
    CHECKED_AT,
    CREDIT_BALANCE,
    HOOK_TOKEN,
    AccountHandle,
)
from lumagate.domain.clock import iso_z, utcnow
from lumagate.domain.request import media_ref
from lumagate.domain.task import TaskMedia
from lumagate.domain.video import frame_size
from lumagate.media.store import MediaStore
from lumagate.providers.base import (
    AuthenticationFailed,
    Rejected,
    Submission,
    TransientError,
    UpstreamJob,
    UpstreamState,
    extend_source,
    image_extension,
)
from lumagate.providers.http import UpstreamHttp, UpstreamNotFound, fetch_or_gone, is_loopback_url
from lumagate.providers.listing import CreatedIndex, Lister, Raw, TakenLookup, pick_unclaimed

DEFAULT_BASE_URL = "https://api.lumalabs.ai/dream-machine/v1"
HOOK_PATH = "/upstream-hooks/"
PAGE_SIZE = 100
MAX_PAGES = 5
STATES: dict[str, UpstreamState] = {
    "queued": UpstreamState.PENDING,
    "dreaming": UpstreamState.PROCESSING,
    "completed": UpstreamState.COMPLETED,
    "failed": UpstreamState.FAILED,
}
MATCHED_FIELDS = ("model", "aspect_ratio", "loop", "resolution", "duration", "keyframes")
UNREACHABLE_IMAGE = (
    "The image is only reachable on this machine ({url}); set LUMAGATE_PUBLIC_URL to an "
    "address the upstream can fetch"
)


def _size(request: Mapping[str, Any]) -> tuple[int, int]:
    try:
        size = frame_size(
            str(request.get("aspect_ratio") or "16:9"), str(request.get("resolution") or "720p")
        )
    except ValueError:
        return 1280, 720
    return size.width, size.height


def _frames(keyframes: Any) -> dict[str, tuple[str, str]]:
    """``keyframes`` reduced to comparable (type, url-or-id) pairs."""
    if not isinstance(keyframes, dict):
        return {}
    frames: dict[str, tuple[str, str]] = {}
    for name in ("frame0", "frame1"):
        frame = keyframes.get(name)
        if isinstance(frame, dict):
            frames[name] = (str(frame.get("type")), str(frame.get("url") or frame.get("id")))
    return frames


def same_request(sent: Mapping[str, Any], echoed: Mapping[str, Any]) -> bool:
    """Whether an upstream ``request`` echo is the body we send (fields it omits are not held
    against it, except the prompt)."""
    if (echoed.get("prompt") or "") != (sent.get("prompt") or ""):
        return False
    for name in MATCHED_FIELDS:
        if name not in echoed:
            continue
        if name == "keyframes":
            if _frames(echoed[name]) != _frames(sent.get(name)):
                return False
        elif echoed[name] != sent.get(name, False if name == "loop" else None):
            return False
    return True


class LumaOfficialProvider:
    """Provider for official API keys; one instance serves every account of the kind."""

    kind = "luma-official"

    def __init__(
        self,
        http: UpstreamHttp,
        media: MediaStore,
        *,
        public_base_url: str,
        taken: TakenLookup,
        callbacks: bool = True,
        callback_poll_seconds: float = 30.0,
    ) -> None:
        self.http = http
        self.media = media
        self.public_base_url = public_base_url.rstrip("/")
        self.taken = taken
        self.callbacks = callbacks
        self.callback_poll_seconds = callback_poll_seconds
        self.index = CreatedIndex()

    # -- provider interface -------------------------------------------------------------
    async def submit(self, account: AccountHandle, submission: Submission) -> UpstreamJob:
        body, dropped = self.body(account, submission)
        raw = await self.http.json(
            "POST",
            self._base(account) + "/generations/video",
            what="a new generation",
            headers=self._headers(account),
            json=body,
        )
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise TransientError("The upstream answered the create without a generation id")
        return replace(self.job(raw, poll_after=self._poll_after(account)), dropped_fields=dropped)

    async def extend(self, account: AccountHandle, submission: Submission) -> UpstreamJob:
        extend_source(submission)  # the keyframes name it; it must be known upstream
        return await self.submit(account, submission)

    async def upload_image(self, account: AccountHandle, data: bytes, content_type: str) -> str:
        suffix = "." + image_extension(content_type)
        key = await self.media.asave_bytes(data, "uploads", suffix)
        return self.media.public_url(media_ref(key))

    async def refresh_many(
        self, account: AccountHandle, upstream_ids: Sequence[str]
    ) -> dict[str, UpstreamJob]:
        raws = await self._lister(account).collect(upstream_ids)
        poll_after = self._poll_after(account)
        return {i: self.job(raw, poll_after=poll_after) for i, raw in raws.items()}

    async def find_submission(
        self, account: AccountHandle, submission: Submission
    ) -> UpstreamJob | None:
        try:
            sent, _ = self.body(account, submission)
        except Rejected:
            return None  # the create would have been refused the same way: nothing was made
        recent = await self._lister(account).recent_since(submission.not_before)

        def matches(raw: Raw) -> bool:
            echoed = raw.get("request")
            return isinstance(echoed, dict) and same_request(sent, echoed)

        found = await pick_unclaimed(recent, matches, account.id, self.taken)
        return None if found is None else self.job(found, poll_after=self._poll_after(account))

    async def download_url(self, account: AccountHandle, upstream_id: str) -> str | None:
        raw = await self._fetch_one(account, upstream_id)
        assets = raw.get("assets") if raw else None
        video = assets.get("video") if isinstance(assets, dict) else None
        return video if isinstance(video, str) and video else None

    async def cancel(self, account: AccountHandle, upstream_id: str) -> None:
        """``DELETE /generations/{id}`` (204); an id the API no longer has is gone already."""
        try:
            await self.http.send(
                "DELETE",
                f"{self._base(account)}/generations/{upstream_id}",
                what=f"the cancel of generation {upstream_id}",
                headers=self._headers(account),
                idempotent=True,
            )
        except UpstreamNotFound:
            return

    async def close(self) -> None:
        """Nothing to release: the HTTP client is the gateway's."""

    # -- optional abilities -------------------------------------------------------------
    async def maintain(self, account: AccountHandle) -> Mapping[str, Any]:
        """Read the credit balance (shown by ``lumagate accounts list``)."""
        raw = await self.http.json(
            "GET",
            self._base(account) + "/credits",
            what="the credits",
            headers=self._headers(account),
        )
        balance = raw.get("credit_balance") if isinstance(raw, dict) else None
        return {CREDIT_BALANCE: balance, CHECKED_AT: iso_z(utcnow())}

    def job_from_callback(self, payload: Any) -> UpstreamJob | None:
        if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
            return None
        return self.job(payload, poll_after=self.callback_poll_seconds)

    # -- mapping ------------------------------------------------------------------------
    def body(
        self, account: AccountHandle, submission: Submission
    ) -> tuple[dict[str, Any], tuple[str, ...]]:
        """The create body for ``submission`` and the request fields it had to drop."""
        request = submission.request
        body: dict[str, Any] = {
            "model": request.model,
            "aspect_ratio": request.aspect_ratio,
            "loop": request.loop,
        }
        dropped: list[str] = []
        if request.expand_prompt:
            dropped.append("expand_prompt")  # the official API has no prompt expansion
        if request.model == "ray-1-6":  # ray-1-6 takes neither resolution nor duration
            dropped += [
                f
                for f, v, d in (
                    ("resolution", request.resolution, "720p"),
                    ("duration", request.duration, "5s"),
                )
                if v != d
            ]
        else:
            body["resolution"] = request.resolution
            body["duration"] = request.duration
        if request.prompt:
            body["prompt"] = request.prompt
        keyframes: dict[str, Any] = {}
        if submission.extend_of_upstream_id is not None:
            keyframes["frame0"] = {"type": "generation", "id": submission.extend_of_upstream_id}
        elif request.start_image:
            keyframes["frame0"] = {
                "type": "image",
                "url": self._image_url(account, request.start_image),
            }
        if request.end_image:
            keyframes["frame1"] = {
                "type": "image",
                "url": self._image_url(account, request.end_image),
            }
        if keyframes:
            body["keyframes"] = keyframes
        if request.concepts:
            body["concepts"] = [{"key": concept} for concept in request.concepts]
        callback = submission.callback_url or self.callback_url(account)
        if callback:
            body["callback_url"] = callback
        return body, tuple(dropped)

    def job(self, raw: Raw, *, poll_after: float | None = None) -> UpstreamJob:
        """A Generation object as the engine's :class:`UpstreamJob`."""
        state = STATES.get(str(raw.get("state")), UpstreamState.PENDING)
        media: TaskMedia | None = None
        if state == UpstreamState.COMPLETED:
            found = raw.get("assets")
            assets: dict[str, Any] = found if isinstance(found, dict) else {}
            video = assets.get("video")
            if isinstance(video, str) and video:
                echoed = raw.get("request")
                width, height = _size(echoed if isinstance(echoed, dict) else {})
                image = assets.get("image")
                media = TaskMedia(
                    video=video,
                    width=width,
                    height=height,
                    download=video,
                    video_raw=video,
                    thumbnail=image if isinstance(image, str) and image else None,
                )
            else:
                state = UpstreamState.PROCESSING  # not done until the video is there
        reason = raw.get("failure_reason")
        return UpstreamJob(
            upstream_id=str(raw["id"]),
            state=state,
            progress=100 if media is not None else None,
            failure_reason=str(reason) if state == UpstreamState.FAILED and reason else None,
            media=media,
            poll_after=None if state == UpstreamState.COMPLETED else poll_after,
        )

    def callback_url(self, account: AccountHandle) -> str | None:
        """Where the upstream should post this account's state changes, if it can reach us."""
        token = account.settings.get(HOOK_TOKEN)
        if not self.callbacks or account.settings.get(CALLBACKS) is False:
            return None
        if not isinstance(token, str) or not token:
            return None
        url = self.public_base_url + HOOK_PATH + token
        if is_loopback_url(url) and not is_loopback_url(self._base(account)):
            return None  # the upstream cannot reach a loopback URL: poll instead
        return url

    # -- plumbing -----------------------------------------------------------------------
    def _poll_after(self, account: AccountHandle) -> float | None:
        return self.callback_poll_seconds if self.callback_url(account) else None

    def _image_url(self, account: AccountHandle, ref: str) -> str:
        url = self.media.public_url(ref)
        if is_loopback_url(url) and not is_loopback_url(self._base(account)):
            raise Rejected(UNREACHABLE_IMAGE.format(url=url))
        return url

    @staticmethod
    def _base(account: AccountHandle) -> str:
        return (account.base_url or DEFAULT_BASE_URL).rstrip("/")

    @staticmethod
    def _headers(account: AccountHandle) -> dict[str, str]:
        key = account.credentials.get("api_key")
        if not key:
            raise AuthenticationFailed("The account has no API key")
        return {"Authorization": f"Bearer {key}"}

    async def _fetch_one(self, account: AccountHandle, upstream_id: str) -> Raw | None:
        url = f"{self._base(account)}/generations/{upstream_id}"
        what, headers = f"generation {upstream_id}", self._headers(account)
        return await fetch_or_gone(
            upstream_id, self.http.json("GET", url, what=what, headers=headers)
        )

    def _lister(self, account: AccountHandle) -> Lister:
        async def fetch_page(offset: int, limit: int) -> list[Raw]:
            raw = await self.http.json(
                "GET",
                self._base(account) + "/generations",
                what="the list of generations",
                headers=self._headers(account),
                params={"limit": limit, "offset": offset},
            )
            items = raw.get("generations") if isinstance(raw, dict) else None
            return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []

        async def fetch_one(upstream_id: str) -> Raw | None:
            return await self._fetch_one(account, upstream_id)

        return Lister(fetch_page, fetch_one, PAGE_SIZE, MAX_PAGES, self.index)
