"""The ``lumagate`` command line (Typer).

Importing this package keeps httpx's own command-line client out of the process: httpx's
``__init__`` imports ``httpx._main`` (click, rich's syntax and table layers, pygments: ~4 MiB and
~40 ms of CPU) whenever those are installed, and falls back to a stub ``httpx.main`` when that
import raises ``ImportError``. A ``None`` entry in ``sys.modules`` makes exactly that import raise
(the import system's documented behaviour), so every ``lumagate`` command, ``serve`` included,
loads the httpx library and not its CLI. ``tests/integration/api/test_app_imports.py`` checks it.
"""

import sys

sys.modules.setdefault("httpx._main", None)  # lumagate never runs httpx's CLI; see above
