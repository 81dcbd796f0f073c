"""PartialFileSweep over the real local backend: a temporary file an interrupted write left
an hour ago is removed, one a write may still be filling is kept, and so is every real file."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lumagate.engine.partial_files import STALE_AFTER, PartialFileSweep
from lumagate.engine.periodic import IDLE
from lumagate.media.local import LocalBackend

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _file(path: Path, written: datetime) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"partial")
    os.utime(path, (written.timestamp(), written.timestamp()))
    return path


async def test_only_stale_temporary_files_are_removed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stale = NOW - STALE_AFTER - timedelta(minutes=1)
    left = _file(tmp_path / "videos" / "ab" / ".tmp-x1y2.mp4", stale)
    filling = _file(tmp_path / "videos" / "ab" / ".tmp-z3.mp4", NOW - timedelta(minutes=5))
    kept = _file(tmp_path / "videos" / "ab" / "task.mp4", stale)
    sweep = PartialFileSweep(LocalBackend(tmp_path), now=lambda: NOW)
    with caplog.at_level(logging.INFO, logger="lumagate.engine.partial_files"):
        assert await sweep.sweep_once() == IDLE
    assert not left.exists()
    assert filling.exists() and kept.exists()
    assert "removed 1 partial media files" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="lumagate.engine.partial_files"):
        await sweep.sweep_once()  # nothing left to remove: nothing said
    assert caplog.text == ""


async def test_the_backend_never_lists_a_temporary_file_as_media(tmp_path: Path) -> None:
    _file(tmp_path / "videos" / ".tmp-a.mp4", NOW)
    _file(tmp_path / "videos" / "b.mp4", NOW)
    assert [item.key async for item in LocalBackend(tmp_path).list("")] == ["videos/b.mp4"]
