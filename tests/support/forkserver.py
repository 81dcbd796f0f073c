"""Gateway servers for tests forked from a process that has already imported ``lumagate serve``.

Every ``lumagate serve`` the suite starts used to be a new interpreter that imported FastAPI,
Pydantic, SQLAlchemy, uvicorn and lumagate's app before doing anything a test is about: most
of a start-up's CPU, paid again by each of the suite's servers on a 2-core machine. So each
test process starts one *fork server* (this module run as ``python -m tests.support.forkserver``):
it imports what ``lumagate serve`` imports before it builds the app (the CLI, the app factory,
uvicorn's serving helpers, the settings) and what a server loads later on first use (``WARM``:
the renderer, the drivers, the sim), checks it is still one thread, then waits. Each server is a
``fork()`` of it that takes the test's environment, working directory and umask, sends its
output to the server's log and runs the real command, ``lumagate serve …``, through the same
Typer app ``python -m lumagate.cli.main`` runs; its exit code is the command's, reported back.
So the servers are the same code in processes of their own (killable, restartable, their own
pid and memory), minus the imports; a test's ``lumagate`` command run (``GatewayServer.cli``,
``run``) is forked the same way, its output captured. What a fresh interpreter loads is tested
where it is the subject (``tests/integration/api/test_app_imports.py``,
``tests/unit/cli/test_main.py``), in interpreters of their own.

The fork server is single-threaded and forks only between requests; it has no event loop, no
connections and no threads, so a child inherits no lock or socket. ``FORK_SERVERS=0`` in the
environment starts each server as a new interpreter instead (``tests/support/servers.py``).
One difference is visible from outside: a forked server's ``/proc/<pid>/cmdline`` is the fork
server's (``-m tests.support.forkserver``), not ``-m lumagate.cli.main serve``.

The test side talks to it over its stdin/stdout, one JSON object a line: ``spawn`` requests,
and ``spawned``/``exit`` answers read by a thread; :class:`ForkedProcess` is the part of
``subprocess.Popen`` the test servers use (pid, poll, wait, send_signal, kill, returncode).
"""

from __future__ import annotations

import atexit
import importlib
import itertools
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# What ``lumagate serve`` (lumagate/cli/main.py) has imported when it builds the app.
PRELOAD = (
    "lumagate.cli.main",
    "lumagate.api.app",
    "lumagate.api.serving",
    "lumagate.cli.listen",
    "lumagate.settings",
    "uvicorn",
)
# What a server imports later, on first use: the sandbox renderer (PyAV, NumPy, Pillow), the
# simulator's app, the database drivers and dialects, the migration tool, the HTTP transports,
# the secret box's Fernet, the console's templates, uvloop. A forked server finds them loaded
# instead of importing them again (~24 s of the suite's CPU, seen in a profile of a whole run).
WARM = (
    "lumagate.providers.sandbox.render",
    "lumagate.sim.app",
    "sqlalchemy.dialects.postgresql.asyncpg",
    "sqlalchemy.dialects.sqlite.aiosqlite",
    "asyncpg",
    "aiosqlite",
    "alembic.command",
    "httpcore",
    "anyio._backends._asyncio",
    "cryptography.fernet",
    "jinja2",
    "uvloop",
)
SPAWN_SECONDS = 60.0


# -- the fork server (its own process) ---------------------------------------------------------
def _send(message: dict[str, Any]) -> None:
    os.write(1, json.dumps(message).encode() + b"\n")  # one short line: a single write


def _reap(children: set[int]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        _send({"exit": pid, "code": os.waitstatus_to_exitcode(status)})


def _drain(fd: int) -> None:
    """Empty the signal wake-up pipe (non-blocking): its bytes only say "look again"."""
    try:
        while len(os.read(fd, 512)) == 512:
            pass
    except BlockingIOError:
        pass


def _serve() -> dict[str, Any] | None:
    """Fork a child per request; return the request in the child, None once stdin closes."""
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    children: set[int] = set()
    pending = b""
    _send({"ready": os.getpid()})
    while True:
        readable = select.select([0, wake_read], [], [])[0]
        if wake_read in readable:
            _drain(wake_read)
            _reap(children)
        if 0 not in readable:
            continue
        data = os.read(0, 65536)
        if not data:  # the test process is done: no server outlives it
            for pid in children:
                os.kill(pid, signal.SIGKILL)
            while children:
                children.discard(os.waitpid(-1, 0)[0])
            return None
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            request: dict[str, Any] = json.loads(line)
            pid = os.fork()
            if pid == 0:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                os.close(wake_read)
                os.close(wake_write)
                return request
            children.add(pid)
            _send({"spawned": request["id"], "pid": pid})


def _exit_code(code: object) -> int:
    """What the interpreter makes of ``SystemExit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _run(request: dict[str, Any]) -> int:
    """In the child: become the command's process, run it, return its exit code."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
        out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(out, fd)
        os.close(out)
    os.chdir(request["cwd"])
    os.umask(request["umask"])
    os.environ.clear()
    os.environ.update(request["env"])
    args: list[str] = request["args"]
    sys.argv = ["lumagate", *args]
    from lumagate.cli.main import app

    try:
        app(args=args, prog_name="lumagate")
    except SystemExit as stop:
        return _exit_code(stop.code)
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def main() -> None:
    for name in (*PRELOAD, *WARM):
        importlib.import_module(name)
    from lumagate.store.migrate import head_revision

    head_revision()  # read from the version files once (cached), not at each server's start
    threads = os.listdir("/proc/self/task")
    if len(threads) != 1:  # a child would inherit locks held by threads it does not have
        raise RuntimeError(f"the fork server has {len(threads)} threads after its imports")
    request = _serve()
    if request is not None:
        sys.exit(_run(request))  # the interpreter's own exit: atexit, logging flushed


# -- the test side -----------------------------------------------------------------------------
@dataclass
class ForkedProcess:
    """A server forked by the fork server: the part of ``subprocess.Popen`` tests use."""

    pid: int
    server: ForkServer = field(repr=False)
    returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.server.exit_code(self.pid, timeout=0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            code = self.server.exit_code(self.pid, timeout)
            if code is None:
                raise subprocess.TimeoutExpired(f"lumagate (pid {self.pid})", timeout or 0)
            self.returncode = code
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:  # exited and reaped: the pid may be someone else's now
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class ForkServer:
    """The test process's end of one fork server: spawn requests, exit codes as they come."""

    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LUMAGATE_")}
        # NumPy's OpenBLAS starts a thread per core when it loads unless told otherwise; the
        # fork server must stay single-threaded, and no server uses BLAS.
        env["OPENBLAS_NUM_THREADS"] = "1"
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.forkserver"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._stdin, self._stdout = self._process.stdin, self._process.stdout
        ready = json.loads(self._stdout.readline() or b"{}")
        if "ready" not in ready:
            self._process.kill()
            raise RuntimeError(f"the fork server did not start: {ready}")
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._changed = threading.Condition()
        self._spawned: dict[int, int] = {}
        self._exits: dict[int, int] = {}
        self._closed = False
        threading.Thread(target=self._read, name="forkserver", daemon=True).start()

    def _read(self) -> None:
        for line in self._stdout:
            message = json.loads(line)
            with self._changed:
                if "spawned" in message:
                    self._spawned[message["spawned"]] = message["pid"]
                    # Pids are reused (pid_max is 32768 here): an exit recorded for this pid
                    # was an earlier child's, and must not make the new one look exited.
                    self._exits.pop(message["pid"], None)
                else:
                    self._exits[message["exit"]] = message["code"]
                self._changed.notify_all()
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def spawn(
        self, args: list[str], env: dict[str, str], stdout: Path, stderr: Path | None = None
    ) -> ForkedProcess:
        """Fork a process that runs ``lumagate *args`` with ``env``, its output appended to
        ``stdout`` (and its error output to ``stderr``, or to ``stdout`` too)."""
        umask = os.umask(0o022)
        os.umask(umask)
        with self._lock:
            request_id = next(self._ids)
            request = {"id": request_id, "args": args, "env": env, "stdout": str(stdout)}
            request |= {"stderr": str(stderr or stdout), "cwd": os.getcwd(), "umask": umask}
            self._stdin.write(json.dumps(request).encode() + b"\n")
            self._stdin.flush()
        with self._changed:
            if not self._changed.wait_for(
                lambda: request_id in self._spawned or self._closed, SPAWN_SECONDS
            ):
                raise TimeoutError(f"the fork server did not fork within {SPAWN_SECONDS} s")
            if request_id not in self._spawned:
                raise RuntimeError("the fork server exited")
            return ForkedProcess(self._spawned.pop(request_id), self)

    def exit_code(self, pid: int, timeout: float | None) -> int | None:
        """The exit code of ``pid`` (negative: the signal), waiting up to ``timeout``."""
        with self._changed:
            self._changed.wait_for(lambda: pid in self._exits or self._closed, timeout)
            if pid in self._exits:
                return self._exits[pid]
        if self._closed:  # its servers were killed with it
            return -signal.SIGKILL
        return None

    @property
    def pid(self) -> int:
        return self._process.pid

    def close(self) -> None:
        """Close stdin: the fork server kills what is left and exits."""
        if self._process.poll() is None:
            self._stdin.close()
            self._process.wait(timeout=60)


_FORK_SERVER: list[ForkServer] = []
_START_LOCK = threading.Lock()


def fork_server() -> ForkServer:
    """This test process's fork server, started on first use and closed at exit."""
    with _START_LOCK:
        if not _FORK_SERVER:
            _FORK_SERVER.append(ForkServer())
            atexit.register(_FORK_SERVER[0].close)
        return _FORK_SERVER[0]


def close() -> None:
    """Close this test process's fork server, if it started one (at the session's end, so
    its servers' CPU is counted before an xdist worker exits without running ``atexit``)."""
    with _START_LOCK:
        if _FORK_SERVER:
            _FORK_SERVER.pop().close()


def run(
    args: list[str], env: dict[str, str], *, check: bool, timeout: float
) -> subprocess.CompletedProcess[str]:
    """``lumagate *args`` forked and waited for, its output captured: ``subprocess.run``'s
    result (and ``CalledProcessError`` when ``check`` and it failed)."""
    with tempfile.TemporaryDirectory(prefix="lumagate-cli-") as folder:
        out, err = Path(folder) / "stdout", Path(folder) / "stderr"
        process = fork_server().spawn(args, env, out, err)
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)
            raise
        stdout, stderr = out.read_text(errors="replace"), err.read_text(errors="replace")
    command = ["lumagate", *args]
    if check and code != 0:
        raise subprocess.CalledProcessError(code, command, stdout, stderr)
    return subprocess.CompletedProcess(command, code, stdout, stderr)


def enabled() -> bool:
    return os.environ.get("FORK_SERVERS", "1") != "0"


if __name__ == "__main__":
    main()
