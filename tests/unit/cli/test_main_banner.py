"""The start-up banner's commands stay one line each on a narrow terminal, so a newcomer can
copy them as they are (rich would otherwise wrap them at the console's width)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from lumagate.cli import main
from lumagate.settings import Settings


def test_the_first_video_commands_are_not_wrapped_at_80_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = io.StringIO()
    monkeypatch.setattr(main, "console", Console(file=out, width=80, color_system=None))
    main._print_banner(Settings(data_dir=tmp_path, public_url="http://127.0.0.1:8000"))
    lines = out.getvalue().splitlines()
    create = [line for line in lines if "-d '" in line]
    assert create == [
        "  curl -s -H \"Authorization: Bearer $KEY\" -H 'Content-Type: application/json' "
        '-d \'{"user_prompt":"a red fox running"}\' http://127.0.0.1:8000/luma/generations'
    ]
    assert (
        '  curl -s -H "Authorization: Bearer $KEY" http://127.0.0.1:8000/luma/generations/<id>'
        in lines
    )
