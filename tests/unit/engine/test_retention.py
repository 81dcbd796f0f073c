"""MediaRetention over fakes of the media store and the task rows: what a sweep deletes and
keeps, which tasks it stamps (a file it removed, or one already gone), what it leaves to a
replica sweeping at the same time, a dry run that changes nothing, and paging the rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from lumagate.domain.task import MEDIA_REMOVED_REASON, TaskMedia
from lumagate.engine import retention
from lumagate.engine.retention import MediaRetention, media_keys
from lumagate.media.backend import MediaObject
from lumagate.store.media_retention import RetentionCandidate

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=31)
NEW = NOW - timedelta(days=1)


class FakeMedia:
    """Objects by key; ``taken`` keys are deleted by another replica just before this one."""

    def __init__(self, *objects: tuple[str, datetime, int]) -> None:
        self.objects = {key: MediaObject(key, size, at, "video/mp4") for key, at, size in objects}
        self.taken: set[str] = set()
        self.deleted: list[str] = []

    async def list(self, prefix: str = "") -> AsyncIterator[MediaObject]:
        for key in sorted(self.objects):
            if key.startswith(prefix):
                yield self.objects[key]

    async def delete(self, key: str) -> bool:
        if key in self.taken:
            self.objects.pop(key, None)
            return False
        self.deleted.append(key)
        return self.objects.pop(key, None) is not None

    async def exists(self, key: str) -> bool:
        return key in self.objects


class FakeRows:
    """Completed tasks' media by id; ``raced`` ids are stamped by another replica first."""

    def __init__(self, media: dict[str, TaskMedia]) -> None:
        self.media = media
        self.stamped: dict[str, tuple[str, datetime]] = {}
        self.raced: set[str] = set()
        self.asked: list[tuple[datetime, str, int]] = []

    async def candidates(
        self, finished_before: datetime, after_id: str = "", limit: int = 500
    ) -> list[RetentionCandidate]:
        self.asked.append((finished_before, after_id, limit))
        ids = sorted(i for i in self.media if i > after_id and i not in self.stamped)
        return [RetentionCandidate(i, self.media[i]) for i in ids[:limit]]

    async def mark_removed(self, task_id: str, reason: str, now: datetime) -> bool:
        if task_id in self.raced or task_id in self.stamped:
            return False
        self.stamped[task_id] = (reason, now)
        return True


def _video(name: str, **more: str) -> TaskMedia:
    return TaskMedia(video=f"media:videos/{name}.mp4", width=1280, height=720, **more)


def _retention(rows: FakeRows, media: FakeMedia) -> MediaRetention:
    return MediaRetention(rows, media, retention_days=30, now=lambda: NOW)


def test_a_tasks_keys_are_its_media_references_only() -> None:
    media = TaskMedia(
        video="media:videos/a.mp4",
        width=1,
        height=1,
        download="https://upstream.test/a.mp4",  # an upstream link is not the gateway's
        video_raw="media:videos/a.raw.mp4",
        thumbnail="media:thumbs/a.jpg",
        last_frame="media:frames/a.png",
    )
    assert media_keys(media) == {
        "videos/a.mp4",
        "videos/a.raw.mp4",
        "thumbs/a.jpg",
        "frames/a.png",
    }


async def test_old_objects_are_removed_and_their_tasks_stamped() -> None:
    media = FakeMedia(
        ("videos/old.mp4", OLD, 1000),
        ("uploads/old.png", OLD, 20),
        ("videos/new.mp4", NEW, 5000),
    )
    rows = FakeRows({"t-old": _video("old"), "t-new": _video("new")})
    report = await _retention(rows, media).sweep()
    assert report.cutoff == NOW - timedelta(days=30)
    assert sorted(report.removed_keys) == ["uploads/old.png", "videos/old.mp4"]
    assert (report.removed_bytes, report.kept_objects) == (1020, 1)
    assert set(media.objects) == {"videos/new.mp4"}
    assert report.tasks == ["t-old"]
    assert rows.stamped == {"t-old": (MEDIA_REMOVED_REASON, NOW)}
    assert rows.asked[0][0] == report.cutoff  # tasks finished before the cutoff


async def test_a_task_whose_file_is_already_gone_is_stamped_too() -> None:
    media = FakeMedia(("videos/kept.mp4", NEW, 10))
    rows = FakeRows({"t-lost": _video("lost"), "t-kept": _video("kept")})
    report = await _retention(rows, media).sweep()
    assert report.removed_keys == [] and report.tasks == ["t-lost"]


async def test_one_file_removed_of_several_is_enough_to_stamp() -> None:
    media = FakeMedia(("videos/a.mp4", NEW, 10), ("thumbs/a.jpg", OLD, 1))
    rows = FakeRows({"t": _video("a", thumbnail="media:thumbs/a.jpg")})
    assert (await _retention(rows, media).sweep()).tasks == ["t"]


async def test_what_another_replica_did_first_is_not_reported_but_still_counts() -> None:
    media = FakeMedia(("videos/a.mp4", OLD, 10), ("videos/b.mp4", OLD, 10))
    media.taken = {"videos/a.mp4"}  # the other replica deleted it between list and delete
    rows = FakeRows({"t-a": _video("a"), "t-b": _video("b")})
    rows.raced = {"t-b"}  # and stamped this one first
    report = await _retention(rows, media).sweep()
    assert report.removed_keys == ["videos/b.mp4"] and report.removed_bytes == 10
    assert report.tasks == ["t-a"] and set(rows.stamped) == {"t-a"}


async def test_a_dry_run_changes_nothing_and_reports_what_a_sweep_would() -> None:
    def world() -> tuple[FakeRows, FakeMedia]:
        media = FakeMedia(("videos/old.mp4", OLD, 7), ("videos/new.mp4", NEW, 9))
        return FakeRows({"t-old": _video("old"), "t-new": _video("new")}), media

    rows, media = world()
    dry = await _retention(rows, media).sweep(dry_run=True)
    assert media.deleted == [] and len(media.objects) == 2 and rows.stamped == {}
    real = await _retention(*world()).sweep()
    assert (dry.removed_keys, dry.removed_bytes, dry.kept_objects, dry.tasks) == (
        real.removed_keys,
        real.removed_bytes,
        real.kept_objects,
        real.tasks,
    )


async def test_every_page_of_candidates_is_swept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retention, "PAGE", 2)
    media = FakeMedia(*((f"videos/{n}.mp4", OLD, 1) for n in "abcde"))
    rows = FakeRows({f"t-{n}": _video(n) for n in "abcde"})
    report = await _retention(rows, media).sweep()
    assert report.tasks == [f"t-{n}" for n in "abcde"]
    assert [after for _, after, _ in rows.asked] == ["", "t-b", "t-d"]  # a short page ends it
