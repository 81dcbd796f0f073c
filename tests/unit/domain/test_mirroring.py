"""The plain logic of mirror jobs: what is copied, under which keys, and what a failure means."""

from __future__ import annotations

import pytest

from lumagate.domain.mirroring import (
    SKIPPED,
    Asset,
    MirrorJob,
    Verdict,
    judge,
    kept_keys,
    mirrored_media,
    new_prefix,
    pending_copies,
    too_large_reason,
    wants_mirror,
)
from lumagate.domain.task import TaskMedia

WEB = TaskMedia(
    video="https://cdn.example/v/abc.mp4?wm=1",
    width=1280,
    height=720,
    download="https://cdn.example/v/abc.mp4?download=1&sig=x",
    video_raw="https://cdn.example/v/abc.mp4",
    thumbnail="https://cdn.example/v/abc.jpg",
    last_frame="https://cdn.example/v/abc-last.png",
)
OFFICIAL = TaskMedia(
    video="https://cdn.example/g/1.mp4",
    width=1280,
    height=720,
    thumbnail="https://cdn.example/g/1.jpg",
)


def _job(source: TaskMedia, copied: dict[str, str] | None = None) -> MirrorJob:
    return MirrorJob("t-1", "a-1", "up-1", source, "mirrors/p", copied=copied or {})


def test_the_watermark_free_video_comes_first_and_every_asset_has_its_own_key() -> None:
    plan = pending_copies(_job(WEB))
    assert [c.asset for c in plan] == list(Asset)
    assert plan[0].url == WEB.download  # watermark-free, not the watermarked ``video``
    assert [c.key for c in plan] == [
        "mirrors/p/video.mp4",
        "mirrors/p/video_raw.mp4",
        "mirrors/p/thumbnail.jpg",
        "mirrors/p/last_frame.png",
    ]
    assert [c.required for c in plan] == [True, False, False, False]
    assert plan[3].content_type == "image/png"


def test_a_raw_video_that_is_the_video_itself_is_copied_once() -> None:
    source = TaskMedia(video="https://c/x.mp4", width=2, height=2, video_raw="https://c/x.mp4")
    plan = pending_copies(_job(source))
    assert [c.asset for c in plan] == [Asset.VIDEO]
    media = mirrored_media(_job(source, {"video": "mirrors/p/video.mp4"}))
    assert media.video == media.download == media.video_raw == "media:mirrors/p/video.mp4"


def test_kept_and_skipped_assets_are_not_copied_again() -> None:
    job = _job(OFFICIAL, {"video": "mirrors/p/video.mp4", "thumbnail": SKIPPED})
    assert pending_copies(job) == []
    media = mirrored_media(job)
    assert media.video == "media:mirrors/p/video.mp4" and media.thumbnail is None
    assert (media.width, media.height) == (1280, 720)


def test_the_media_of_a_done_job_are_all_gateway_references() -> None:
    copied = {c.asset.value: c.key for c in pending_copies(_job(WEB))}
    media = mirrored_media(_job(WEB, copied))
    links = [media.video, media.download, media.video_raw, media.thumbnail, media.last_frame]
    assert all(link is not None and link.startswith("media:mirrors/p/") for link in links)
    assert media.video_raw == "media:mirrors/p/video_raw.mp4"


def test_media_without_the_video_is_not_done() -> None:
    with pytest.raises(ValueError, match="not kept"):
        mirrored_media(_job(OFFICIAL, {"thumbnail": "mirrors/p/thumbnail.jpg"}))


def test_links_already_in_the_store_stay_as_they_are() -> None:
    source = TaskMedia(video="media:videos/x/video.mp4", width=2, height=2, thumbnail="https://c/t")
    plan = pending_copies(_job(source))
    assert [c.asset for c in plan] == [Asset.THUMBNAIL]
    media = mirrored_media(_job(source, {"thumbnail": "mirrors/p/thumbnail.jpg"}))
    assert media.video == "media:videos/x/video.mp4"


@pytest.mark.parametrize(
    ("kind", "enabled", "pass_through", "expected"),
    [
        ("luma-web", True, (), True),
        ("luma-official", True, ("relay",), True),
        ("relay", True, ("relay",), False),
        ("luma-web", False, (), False),
        ("sandbox", True, (), False),
    ],
    ids=["web", "official-others-pass", "relay-passes", "switched-off", "sandbox"],
)
def test_which_completions_are_copied(
    kind: str, enabled: bool, pass_through: tuple[str, ...], expected: bool
) -> None:
    assert wants_mirror(WEB, kind, enabled=enabled, pass_through=pass_through) is expected


def test_media_already_kept_need_no_copy() -> None:
    local = TaskMedia(video="media:videos/a/v.mp4", width=2, height=2, thumbnail="media:a.jpg")
    assert not wants_mirror(local, "luma-web", enabled=True, pass_through=())
    assert not wants_mirror(None, "luma-web", enabled=True, pass_through=())


@pytest.mark.parametrize(
    ("status", "refreshed", "refused", "verdict"),
    [
        (403, False, False, Verdict.REFRESH),
        (404, False, False, Verdict.REFRESH),
        (403, True, False, Verdict.GIVE_UP),
        (410, True, False, Verdict.GIVE_UP),
        (503, False, False, Verdict.RETRY),
        (None, True, False, Verdict.RETRY),
        (None, False, True, Verdict.GIVE_UP),
    ],
    ids=["expired", "missing", "expired-again", "gone", "outage", "no-answer", "refused"],
)
def test_the_verdict_on_a_failed_copy(
    status: int | None, refreshed: bool, refused: bool, verdict: Verdict
) -> None:
    assert judge(status, refreshed=refreshed, refused=refused) == verdict


def test_prefixes_are_random() -> None:
    first, second = new_prefix(), new_prefix()
    assert first != second and first.startswith("mirrors/") and len(first) == len("mirrors/") + 32


def test_kept_keys_are_the_copied_files_without_the_skipped_ones() -> None:
    job = _job(WEB, {"video": "mirrors/p/video.mp4", "thumbnail": SKIPPED})
    assert kept_keys(job) == ["mirrors/p/video.mp4"]
    assert kept_keys(_job(WEB)) == []


def test_the_too_large_reason_names_the_setting_and_its_limit() -> None:
    reason = too_large_reason("the file at cdn.example is larger than 1 KB", 1024)
    assert "LUMAGATE_MIRROR_MAX_BYTES" in reason and "1024 bytes" in reason
    assert reason.endswith("the file at cdn.example is larger than 1 KB")
