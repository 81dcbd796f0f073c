"""How ``make test`` splits the suite over pytest-xdist workers: one unit per test file and
database backend.

A file's tests run on one worker, in order, so a module-scoped server starts once per worker
that runs the file; the file's SQLite and PostgreSQL runs (a ``sqlite``/``postgresql`` part in
the test id) are separate units, so they can run side by side. xdist's ``loadgroup`` cannot do
this with pytest 9.2 (it renames node ids, which pytest no longer derives from the name it
sets), and ``loadfile`` would keep a file's two backends on one worker.
"""

from __future__ import annotations

from xdist.scheduler import LoadScopeScheduling

BACKENDS = ("sqlite", "postgresql")


def backend_of(nodeid: str) -> str | None:
    """The database backend named in a test id's parameters, if any."""
    if not nodeid.endswith("]") or "[" not in nodeid:
        return None
    params = nodeid[nodeid.rindex("[") + 1 : -1].split("-")
    return next((p for p in params if p in BACKENDS), None)


class FileAndBackendScheduling(LoadScopeScheduling):
    """``--dist loadscope`` with a scope of file and backend instead of module or class."""

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        backend = backend_of(nodeid)
        return f"{path} on {backend}" if backend else path
