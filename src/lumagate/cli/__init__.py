"""The ``lumagate`` command line (Typer).

Importing this package keeps two optional modules that libraries try to import out of every
``lumagate`` process, ``serve`` included. A ``None`` entry in ``sys.modules`` makes the import of
that one module raise ``ImportError`` (the import system's documented behaviour), and both
importers handle that as "not available":

- ``httpx._main``, httpx's own command-line client (click, rich's syntax and table layers,
  pygments: ~4 MiB and ~40 ms of CPU), which httpx's ``__init__`` imports whenever those are
  installed and replaces with a stub ``httpx.main`` when the import fails. lumagate never runs it;
  the httpx library itself is untouched.
- ``pydantic.v1``, the Pydantic 1 compatibility package (~1.5 MiB, ~13 ms), which FastAPI imports
  while building routes only to refuse Pydantic 1 models, and treats as "no such models" when it
  cannot. lumagate has none.

``tests/integration/api/test_app_imports.py`` checks both stay out and httpx still works.
"""

import sys

for _name in ("httpx._main", "pydantic.v1"):  # never used by lumagate; see above
    sys.modules.setdefault(_name, None)  # type: ignore[arg-type]  # None: "cannot be imported"
