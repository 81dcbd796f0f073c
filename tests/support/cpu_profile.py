"""Where the suite's CPU goes: an opt-in pytest plugin (``-p tests.support.cpu_profile``).

The suite is CPU-bound on a 2-core machine, so its wall time falls only with the CPU it spends,
and most of that is spent in processes it starts (gateway servers, CLI runs), not in pytest.
Wall-clock durations on a shared machine say little; this plugin records, per test file (and
backend), the CPU of the test process and of the children it waited for, and how many
``lumagate`` processes of each command the file started. At the end it prints the files by CPU
and how many sandbox renders the servers of the run logged (``renders.log`` under the run's
temporary directory). Not loaded by ``make test``.
"""

from __future__ import annotations

import os
import resource
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import forkserver, servers
from tests.support.xdist_scope import backend_of

_cpu: dict[str, float] = defaultdict(float)
_children: dict[str, float] = defaultdict(float)
_starts: dict[str, Counter[str]] = defaultdict(Counter)
_current = [""]
_popen_init = subprocess.Popen.__init__


def _children_cpu() -> float:
    """CPU of the children waited for, and of the servers the fork server has waited for (they
    count in this process's children only when the fork server exits, at the end)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime + _forked_cpu()


def _forked_cpu() -> float:
    if not forkserver._FORK_SERVER:
        return 0.0
    pid = forkserver._FORK_SERVER[0].pid
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")  # cutime, cstime


def _command(args: Any) -> str | None:
    """``serve``, ``db upgrade``… for a ``lumagate`` command line; None for anything else."""
    argv = [str(a) for a in args] if isinstance(args, list | tuple) else [str(args)]
    if "lumagate.cli.main" in argv:
        rest = argv[argv.index("lumagate.cli.main") + 1 :]
        return " ".join(a for a in rest[:2] if not a.startswith("-")) or "lumagate"
    return Path(argv[0]).name if argv else None


def _counting_init(self: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> None:
    command = _command(args)
    if command is not None and _current[0]:
        _starts[_current[0]][command] += 1
    _popen_init(self, args, *rest, **kwargs)


_server_start = servers.GatewayServer.start


def _counting_start(self: servers.GatewayServer) -> servers.GatewayServer:
    if _current[0]:
        _starts[_current[0]]["GatewayServer.start"] += 1
    return _server_start(self)


def pytest_configure(config: pytest.Config) -> None:
    subprocess.Popen.__init__ = _counting_init  # type: ignore[method-assign]
    servers.GatewayServer.start = _counting_start  # type: ignore[method-assign]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    backend = backend_of(item.nodeid)
    unit = item.nodeid.split("::", 1)[0] + (f" on {backend}" if backend else "")
    _current[0] = unit
    own, children = time.process_time(), _children_cpu()
    try:
        return (yield)
    finally:
        _cpu[unit] += time.process_time() - own
        _children[unit] += _children_cpu() - children


def _renders(root: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for log in root.rglob("renders.log"):
        lines = len(log.read_text(errors="replace").splitlines())
        counts[str(log.relative_to(root).parts[0])] += lines
    return counts


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    write = terminalreporter.write_line
    total = sum(_cpu.values()) + sum(_children.values())
    write(f"cpu_profile: {total:.1f} s CPU in tests (test process + waited-for children)")
    for unit in sorted(_cpu, key=lambda u: _cpu[u] + _children[u], reverse=True):
        starts = ", ".join(f"{name} x{n}" for name, n in _starts[unit].most_common())
        write(f"  {_cpu[unit] + _children[unit]:7.1f} s  own {_cpu[unit]:6.1f}  {unit}  {starts}")
    root = config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    renders = _renders(Path(root))
    write(f"cpu_profile: {sum(renders.values())} sandbox renders logged under {root}")
    for folder, count in renders.most_common(40):
        write(f"  {count:4d}  {folder}")
