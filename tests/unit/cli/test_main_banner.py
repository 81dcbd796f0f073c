"""The start-up banner's commands stay one line each on a narrow terminal, so a newcomer can
copy them as they are (a console that wraps at its width would break them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lumagate.cli import main
from lumagate.settings import Settings


def test_the_first_video_commands_are_not_wrapped_at_80_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    main._print_banner(Settings(data_dir=tmp_path, public_url="http://127.0.0.1:8000"))
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("lumagate on http://127.0.0.1:8000  (data: ")
    create = [line for line in lines if "-d '" in line]
    assert create == [
        "  curl -s -H \"Authorization: Bearer $KEY\" -H 'Content-Type: application/json' "
        '-d \'{"user_prompt":"a red fox running"}\' http://127.0.0.1:8000/luma/generations'
    ]
    get = '  curl -s -H "Authorization: Bearer $KEY" http://127.0.0.1:8000/luma/generations/<id>'
    assert get in lines
