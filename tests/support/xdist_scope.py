"""How ``make test`` splits the suite over pytest-xdist workers: one unit per test file and
database backend, the heaviest units first.

A file's tests run on one worker, in order, so a module-scoped server starts once per worker
that runs the file; the file's SQLite and PostgreSQL runs (a ``sqlite``/``postgresql`` part in
the test id) are separate units, so they can run side by side. xdist's ``loadgroup`` cannot do
this with pytest 9.2 (it renames node ids, which pytest no longer derives from the name it
sets), and ``loadfile`` would keep a file's two backends on one worker.

Order: xdist hands units out by how many tests they hold, so files of many quick unit tests
went first and the few long server-level files last, where one of them could keep a worker
busy for minutes after the other had finished. Units that start processes (gateway servers,
sims, CLI runs) go first now, acceptance before integration before unit, the ones that start
more before the ones that start fewer; the quick ones fill the gaps at the end. Before all of
them go the files marked ``pytest.mark.long(seconds)`` (a minute or more on CI, what CI's
``--durations`` showed), the longest first: counting markers put
test_replicas_chaos.py, the suite's longest unit, behind every acceptance file that names a
process marker (its servers start in support modules), so it could start among the last.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from xdist.scheduler import LoadScopeScheduling

BACKENDS = ("sqlite", "postgresql")
# What a test file says when it starts processes: the cost that dominates the suite.
PROCESS_MARKERS = (
    "start_server(",
    "GatewayServer(",
    "server_database",
    "start_sim",
    "SimServer(",
    "subprocess.",
    ".cli(",
)
TIERS = {"acceptance": 2, "integration": 1}
LONG_MARK = re.compile(r"\bpytest\.mark\.long\((\d+)\)")


def backend_of(nodeid: str) -> str | None:
    """The database backend named in a test id's parameters, if any."""
    if not nodeid.endswith("]") or "[" not in nodeid:
        return None
    params = nodeid[nodeid.rindex("[") + 1 : -1].split("-")
    return next((p for p in params if p in BACKENDS), None)


def weight(root: Path, scope: str, tests: int) -> tuple[int, int, int, int, int]:
    """How heavy a unit looks: (seconds it is marked long for, starts processes, tier, process
    markers, tests); larger first."""
    path = Path(scope.split(" on ", 1)[0])
    # The file and its folder's own conftest.py (a module fixture there may start the server);
    # not tests/conftest.py, which offers such fixtures to every file.
    sources = [path] + ([path.parent / "conftest.py"] if len(path.parts) > 2 else [])
    texts = [_read(root / source) for source in sources]
    markers = sum(text.count(marker) for text in texts for marker in PROCESS_MARKERS)
    marked = LONG_MARK.search(texts[0])
    long = int(marked[1]) if marked else 0
    tier = TIERS.get(path.parts[1], 0) if len(path.parts) > 1 else 0
    # Acceptance tests are server-level by definition, even those whose server comes from
    # a shared support fixture.
    return (long, int(markers > 0 or tier == TIERS["acceptance"]), tier, markers, tests)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


class FileAndBackendScheduling(LoadScopeScheduling):
    """``--dist loadscope`` with a scope of file and backend, heaviest scope first."""

    def __init__(self, config: Any, log: Any = None) -> None:
        super().__init__(config, log)
        self._root = Path(config.rootpath)
        self._ordered = False

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        backend = backend_of(nodeid)
        return f"{path} on {backend}" if backend else path

    def _assign_work_unit(self, node: Any) -> None:
        if not self._ordered:  # the first hand-out: the queue is complete, nothing sent yet
            self._ordered = True
            heaviest = sorted(
                self.workqueue.items(),
                key=lambda item: weight(self._root, item[0], len(item[1])),
                reverse=True,
            )
            self.workqueue.clear()
            self.workqueue.update(heaviest)
        super()._assign_work_unit(node)
