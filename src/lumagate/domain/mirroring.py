"""Keeping a finished upstream video: what to copy, where it goes, and when to give up.

When a task completes on a real upstream its files are links the upstream expires (presigned
for about an hour). A *mirror job* copies them into the media store before the task is reported
``completed``; this module is its plain logic, with no I/O: which assets a job copies and under
which keys, the media a finished job gives the task, and the decision after a failed copy
(retry later, ask the upstream for a fresh link, or fail the task with a reason).
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from lumagate.domain.media_types import type_by_suffix
from lumagate.domain.request import is_media_ref, media_ref
from lumagate.domain.task import TaskMedia

MIRROR_FOLDER = "mirrors"
SANDBOX_KIND = "sandbox"
GONE_STATUSES = frozenset({401, 403, 404, 410})
"""Answers of a storage link that expired or whose file is gone: a fresh link may help."""

_VIDEO_SUFFIXES = (".mp4", ".webm", ".mov")
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif")


class MirrorState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class Asset(StrEnum):
    """The files of a finished task, in the order they are copied (the video first)."""

    VIDEO = "video"
    VIDEO_RAW = "video_raw"
    THUMBNAIL = "thumbnail"
    LAST_FRAME = "last_frame"


SKIPPED = ""
"""``copied[asset]`` when an optional asset could not be had from the upstream at all."""


@dataclass(frozen=True)
class MirrorJob:
    """One task's copy: the upstream's links (``source``) and what is already kept."""

    task_id: str
    account_id: str | None
    upstream_id: str | None
    source: TaskMedia
    prefix: str
    state: MirrorState = MirrorState.PENDING
    copied: Mapping[str, str] = field(default_factory=dict)
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = None


@dataclass(frozen=True)
class AssetCopy:
    """One file to copy: from ``url`` to media key ``key``; ``required`` only for the video."""

    asset: Asset
    url: str
    key: str
    content_type: str
    required: bool


def new_prefix() -> str:
    """Where a job's files go: ``mirrors/<random>``, so no link can be guessed from a task id."""
    return f"{MIRROR_FOLDER}/{secrets.token_hex(16)}"


def has_remote_links(media: TaskMedia) -> bool:
    links = (media.best_download, media.video_raw, media.thumbnail, media.last_frame)
    return any(link is not None and not is_media_ref(link) for link in links)


def wants_mirror(
    media: TaskMedia | None, kind: str, *, enabled: bool, pass_through: Collection[str]
) -> bool:
    """Whether a task that completed with ``media`` on an account of ``kind`` is copied first.

    The sandbox renders into the media store already; operators may keep upstream links for
    whole kinds (``LUMAGATE_MIRROR_PASS_THROUGH_KINDS``) or for all (``LUMAGATE_MIRROR_MEDIA``).
    """
    if media is None or not enabled or kind == SANDBOX_KIND or kind in pass_through:
        return False
    return has_remote_links(media)


def _suffix(url: str, allowed: tuple[str, ...], default: str) -> str:
    path = urlsplit(url).path.lower()
    return next((s for s in allowed if path.endswith(s)), default)


def _link(source: TaskMedia, asset: Asset) -> str | None:
    if asset == Asset.VIDEO:
        return source.best_download
    if asset == Asset.VIDEO_RAW:
        # The raw video is usually the link the video itself was taken from: copied once.
        raw = source.video_raw
        return None if raw is None or raw == source.best_download else raw
    return source.thumbnail if asset == Asset.THUMBNAIL else source.last_frame


def pending_copies(job: MirrorJob) -> list[AssetCopy]:
    """The assets of ``job`` still to copy, video first; links already in the store are kept."""
    plan: list[AssetCopy] = []
    for asset in Asset:
        url = _link(job.source, asset)
        if url is None or asset.value in job.copied or is_media_ref(url):
            continue
        if asset in (Asset.VIDEO, Asset.VIDEO_RAW):
            suffix = _suffix(url, _VIDEO_SUFFIXES, ".mp4")
        else:
            suffix = _suffix(url, _IMAGE_SUFFIXES, ".jpg")
        key = f"{job.prefix}/{asset.value}{suffix}"
        plan.append(AssetCopy(asset, url, key, type_by_suffix(key), required=asset == Asset.VIDEO))
    return plan


def _kept(job: MirrorJob, asset: Asset) -> str | None:
    """The reference of ``asset`` once copied (or already a media reference); else None."""
    key = job.copied.get(asset.value)
    if key:
        return media_ref(key)
    link = _link(job.source, asset)
    return link if link is not None and is_media_ref(link) else None


def kept_keys(job: MirrorJob) -> list[str]:
    """The media keys of the files ``job`` has kept so far (what a dropped job removes)."""
    return [key for key in job.copied.values() if key and key != SKIPPED]


def mirrored_media(job: MirrorJob) -> TaskMedia:
    """The task's media once the job is done: every link a gateway reference.

    Raises ``ValueError`` if the video is not kept yet (the job is not done).
    """
    video = _kept(job, Asset.VIDEO)
    if video is None:
        raise ValueError(f"the video of task {job.task_id} is not kept yet")
    raw = _kept(job, Asset.VIDEO_RAW)
    if raw is None and job.source.video_raw is not None and Asset.VIDEO_RAW.value not in job.copied:
        raw = video  # the raw video was the link the video was copied from
    return TaskMedia(
        video=video,
        width=job.source.width,
        height=job.source.height,
        download=video,
        video_raw=raw,
        thumbnail=_kept(job, Asset.THUMBNAIL),
        last_frame=_kept(job, Asset.LAST_FRAME),
    )


class Verdict(StrEnum):
    """What to do after one copy failed."""

    REFRESH = "refresh"  # the link expired or is gone: ask the upstream for a fresh one
    RETRY = "retry"  # a transient failure: try again after a backoff
    GIVE_UP = "give_up"  # nothing more can be had


def judge(status: int | None, *, refreshed: bool, refused: bool = False) -> Verdict:
    """The verdict on a failed copy: the HTTP ``status`` (None: no answer), whether the link was
    already refreshed in this attempt, and whether the SSRF guard refused the link."""
    if refused:
        return Verdict.GIVE_UP
    if status in GONE_STATUSES:
        return Verdict.GIVE_UP if refreshed else Verdict.REFRESH
    return Verdict.RETRY


def gone_reason(detail: str) -> str:
    return f"The upstream no longer gives this task's video: {detail}"


def exhausted_reason(attempts: int, detail: str) -> str:
    return f"The video could not be copied from the upstream after {attempts} attempts: {detail}"


def too_large_reason(detail: str, limit_bytes: int) -> str:
    return (
        f"The upstream's video is too large to keep (the limit, LUMAGATE_MIRROR_MAX_BYTES, is "
        f"{limit_bytes} bytes): {detail}"
    )


def store_reason(detail: str) -> str:
    """A failed attempt on this side: the media store refused the file (retried, counted)."""
    return f"the media store refused the file: {detail}"


DROPPED_REASON = "the task ended before its video was kept; the copies were removed"


def refused_reason(detail: str) -> str:
    return f"The upstream's video link is not allowed: {detail}"
