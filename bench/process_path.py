"""Start-up time, memory after start-up and CLI import time, each against a bare counterpart.

Start-up is the time from spawning the server to its first ``/healthz`` answer; RSS is read from
``/proc/<pid>/status`` right after that. The CLI figure is the wall time of ``lumagate keys
--help`` against a one-command Typer app (``bench/bare_cli.py``): what every admin command pays
before doing anything.

Both run with the package's bytecode compiled first (``compile_bytecode``), as an installed
lumagate has it: pip compiles every module when it installs the wheel (the container image
too). The bench runs an editable install, and under ``PYTHONDONTWRITEBYTECODE=1`` (set on the
shared machine, as in the image) Python would otherwise compile ~250 modules from source at
every start, which no installed gateway does.
"""

from __future__ import annotations

import compileall
import subprocess
import sys
import time
from pathlib import Path

import lumagate
from bench.common import Plan
from bench.harness import bare_server, gateway
from bench.report import Figure, median

SECTION = "process"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _wall(command: list[str]) -> float:
    began = time.monotonic()
    subprocess.run(command, capture_output=True, check=True, timeout=120)
    return time.monotonic() - began


def compile_bytecode() -> None:
    """Write the ``__pycache__`` of the lumagate package, as ``pip install`` does."""
    compileall.compile_dir(Path(lumagate.__file__).parent, quiet=1)


def measure(plan: Plan) -> list[Figure]:
    compile_bytecode()
    starts: dict[str, list[float]] = {"gateway": [], "bare": []}
    rss: dict[str, list[float]] = {"gateway": [], "bare": []}
    cli: dict[str, list[float]] = {"gateway": [], "bare": []}
    for _ in range(max(2, plan.rounds)):
        with gateway([]) as gw:
            starts["gateway"].append(gw.started_seconds)
            rss["gateway"].append(rss_mib(gw.pid))
        with bare_server() as bare:
            starts["bare"].append(bare.started_seconds)
            rss["bare"].append(rss_mib(bare.pid))
        cli["gateway"].append(_wall([sys.executable, "-m", "lumagate.cli.main", "keys", "--help"]))
        cli["bare"].append(_wall([sys.executable, "-m", "bench.bare_cli", "--help"]))
    return [
        Figure(
            SECTION,
            "serve: spawn to /healthz",
            median(starts["gateway"]),
            "s",
            median(starts["bare"]),
            "bare Starlette",
            "< 1 s",
            starts["gateway"],
        ),
        Figure(
            SECTION,
            "serve: RSS after start-up",
            median(rss["gateway"]),
            "MiB",
            median(rss["bare"]),
            "bare Starlette",
            "< 100 MiB",
            rss["gateway"],
        ),
        Figure(
            SECTION,
            "CLI: lumagate keys --help",
            median(cli["gateway"]),
            "s",
            median(cli["bare"]),
            "one-command Typer app",
            "",
            cli["gateway"],
        ),
    ]
