"""Downloads are written whole or not at all, with the usual file mode."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lumagate.client.files import AtomicFile


def test_the_file_appears_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "fox.mp4"
    with AtomicFile(target) as out:
        out.write(b"part one ")
        assert not target.exists()
        out.write(b"part two")
    assert target.read_bytes() == b"part one part two"
    assert [p.name for p in tmp_path.iterdir()] == ["fox.mp4"]


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "fox.mp4"
    with pytest.raises(RuntimeError), AtomicFile(target) as out:
        out.write(b"half")
        raise RuntimeError("connection lost")
    assert list(tmp_path.iterdir()) == []


def test_mode_follows_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        with AtomicFile(tmp_path / "a.mp4") as out:
            out.write(b"x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "a.mp4").stat().st_mode) == 0o644
