"""copy_round with a fake copy and a recording ``record``: the video is opened alone, the other
files start beside it only once its upstream answered, each kept file is recorded at once (the
round's last one left to the completion), failures come back in plan order, and a failure that
is none of a copy's own cancels the other copies and is raised as itself."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from lumagate.domain.fetching import FetchFailed
from lumagate.domain.mirroring import Asset, AssetCopy
from lumagate.engine.mirror_round import Failure, Opened, copy_round

VIDEO = AssetCopy(Asset.VIDEO, "http://up/v.mp4", "m/video.mp4", "video/mp4", required=True)
THUMB = AssetCopy(Asset.THUMBNAIL, "http://up/t.jpg", "m/thumbnail.jpg", "image/jpeg", False)
FRAME = AssetCopy(Asset.LAST_FRAME, "http://up/f.jpg", "m/last_frame.jpg", "image/jpeg", False)


class Records:
    """``record`` as the copier gives it: every state of ``copied`` written, in order."""

    def __init__(self) -> None:
        self.written: list[dict[str, str]] = []

    async def __call__(self, copied: Mapping[str, str]) -> None:
        self.written.append(dict(copied))


class Copies:
    """A copy per asset: ``started`` in order; the video's copy waits for ``video_may_end``
    (set by any other copy's end) after calling ``opened``; an asset in ``errors`` fails with
    its error before its upstream answered."""

    def __init__(self, errors: Mapping[Asset, Exception] | None = None) -> None:
        self.errors = dict(errors or {})
        self.started: list[Asset] = []
        self.started_before_opened: list[Asset] = []
        self.video_may_end = asyncio.Event()
        self.video_cancelled = False

    async def __call__(self, copy: AssetCopy, opened: Opened | None) -> None:
        self.started.append(copy.asset)
        if copy.asset != Asset.VIDEO:
            try:
                if copy.asset in self.errors:
                    raise self.errors[copy.asset]
                if opened is not None:  # the lead of a round whose video is kept already
                    opened()
            finally:
                self.video_may_end.set()
            return
        if copy.asset in self.errors:
            raise self.errors[copy.asset]
        await asyncio.sleep(0)  # a yield, no wait: copies started with it would run here
        self.started_before_opened = list(self.started)
        if opened is not None:
            opened()
        try:
            await self.video_may_end.wait()
        except asyncio.CancelledError:
            self.video_cancelled = True
            raise


async def _round(
    copies: Copies, records: Records, *plan: AssetCopy
) -> tuple[dict[str, str], list[Failure]]:
    async with asyncio.timeout(5):  # a copy that never started would hang the video's copy
        return await copy_round(plan, {}, copies, records)


async def test_the_others_start_only_once_the_video_answered_and_run_beside_it() -> None:
    copies, records = Copies(), Records()
    kept, failures = await _round(copies, records, VIDEO, THUMB, FRAME)
    assert copies.started_before_opened == [Asset.VIDEO]
    assert copies.started == [Asset.VIDEO, Asset.THUMBNAIL, Asset.LAST_FRAME]
    assert failures == []
    assert kept == {"video": VIDEO.key, "thumbnail": THUMB.key, "last_frame": FRAME.key}
    # each file recorded as kept at once, the round's last (the video) left to the completion
    assert records.written == [
        {"thumbnail": THUMB.key},
        {"thumbnail": THUMB.key, "last_frame": FRAME.key},
    ]


async def test_a_video_that_fails_before_answering_costs_no_other_download() -> None:
    gone = FetchFailed("404 Not Found", status=404)
    copies, records = Copies({Asset.VIDEO: gone}), Records()
    kept, failures = await _round(copies, records, VIDEO, THUMB)
    assert copies.started == [Asset.VIDEO]
    assert kept == {} and records.written == []
    assert failures == [Failure(VIDEO, gone)]


async def test_a_failed_file_is_never_recorded_and_the_rest_is_recorded_at_once() -> None:
    lost = FetchFailed("connection reset")
    copies, records = Copies({Asset.THUMBNAIL: lost}), Records()
    kept, failures = await _round(copies, records, VIDEO, THUMB)
    assert kept == {"video": VIDEO.key}
    assert records.written == [{"video": VIDEO.key}]  # a failure: the completion will not come
    assert failures == [Failure(THUMB, lost)]


async def test_failures_come_back_in_plan_order() -> None:
    first, second = FetchFailed("a"), OSError("disk full")
    copies = Copies({Asset.THUMBNAIL: first, Asset.LAST_FRAME: second})
    kept, failures = await _round(copies, Records(), VIDEO, FRAME, THUMB)
    assert [f.copy.asset for f in failures] == [Asset.LAST_FRAME, Asset.THUMBNAIL]
    assert [f.error for f in failures] == [second, first]
    assert kept == {"video": VIDEO.key}


async def test_the_copied_files_of_before_are_kept_and_recorded_with_the_new_ones() -> None:
    copies, records = Copies(), Records()
    kept, _ = await copy_round([THUMB, FRAME], {"video": VIDEO.key}, copies, records)
    assert copies.started == [Asset.THUMBNAIL, Asset.LAST_FRAME]
    assert kept == {"video": VIDEO.key, "thumbnail": THUMB.key, "last_frame": FRAME.key}
    assert records.written == [{"video": VIDEO.key, "thumbnail": THUMB.key}]


async def test_a_bug_in_one_copy_cancels_the_others_and_is_raised_as_itself() -> None:
    copies = Copies()

    async def bug_then_wait(copy: AssetCopy, opened: Opened | None) -> None:
        if copy.asset == Asset.THUMBNAIL:
            raise ValueError("a bug")  # the video's copy is left waiting, never released
        await copies(copy, opened)

    with pytest.raises(ValueError, match="a bug"):
        async with asyncio.timeout(5):
            await copy_round([VIDEO, THUMB], {}, bug_then_wait, Records())
    assert copies.video_cancelled
