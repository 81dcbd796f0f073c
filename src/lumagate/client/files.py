"""Writing a download whole or not at all: a temporary file beside the target, then a rename."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from types import TracebackType
from typing import BinaryIO


class AtomicFile:
    """``with AtomicFile(path) as out: out.write(...)``: ``path`` appears only on success."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self._partial: str | None = None
        self._out: BinaryIO | None = None

    def __enter__(self) -> BinaryIO:
        # Created like any new file (mode 0666 less the umask), unlike mkstemp's 0600.
        partial = self.target.with_name(f".{self.target.name}.{secrets.token_hex(6)}.part")
        handle = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        self._partial = str(partial)
        self._out = os.fdopen(handle, "wb")
        return self._out

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._out is not None and self._partial is not None
        self._out.close()
        if kind is None:
            os.replace(self._partial, self.target)
        else:
            os.unlink(self._partial)
