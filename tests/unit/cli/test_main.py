"""The CLI starts without the server's, the engine's or the simulator's imports.

``lumagate --help`` and ``lumagate keys create`` are typed by people; they must not load
Alembic (on a current schema), FastAPI, uvicorn, PyAV, the simulator or the engine. The module
sets are checked in a fresh interpreter (this test process has loaded them all already).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = (
    "alembic",
    "fastapi",
    "starlette",
    "uvicorn",
    "av",
    "numpy",
    "httpx",
    "lumagate.sim",
    "lumagate.engine",
    "lumagate.providers",
    "lumagate.api",
    "lumagate.gateway",
)

_RUN = """
import contextlib, io, json, sys
from lumagate.cli.main import app
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
    try:
        app(sys.argv[1:], standalone_mode=False)
    except SystemExit:
        pass
heavy = sorted(  # a None entry is a module kept out (lumagate.cli), not one loaded
    name for name, module in sys.modules.items() for top in {heavy!r}
    if module is not None and (name == top or name.startswith(top + "."))
)
print(json.dumps({{"heavy": heavy, "out": out.getvalue()}}))
"""


# What ``keys`` commands use no part of: the stores of tasks and accounts and what they import,
# and the task's and the account's domain types (the request's pydantic model among them).
NOT_FOR_KEYS = (
    "lumagate.store.tasks",
    "lumagate.store.task_writes",
    "lumagate.store.accounts",
    "lumagate.store.pool",
    "lumagate.store.deliveries",
    "lumagate.store.mirrors",
    "lumagate.service.account_admin",
    "lumagate.domain.task",
    "lumagate.domain.request",
    "lumagate.domain.accounts",
)


def _run(data_dir: Path, *args: str, heavy: tuple[str, ...] = HEAVY) -> dict[str, object]:
    env = {**os.environ, "LUMAGATE_DATA_DIR": str(data_dir)}
    env.pop("LUMAGATE_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", _RUN.format(heavy=heavy), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_help_loads_none_of_the_heavy_modules(tmp_path: Path) -> None:
    loaded = _run(tmp_path, "--help")
    assert "keys" in str(loaded["out"]) and "sim" in str(loaded["out"])
    assert loaded["heavy"] == []


def test_keys_create_on_a_current_schema_loads_none_of_them(tmp_path: Path) -> None:
    first = _run(tmp_path, "keys", "create", "--name", "first")
    assert str(first["out"]).strip().splitlines()[-1].startswith("sk-lg-")
    assert isinstance(first["heavy"], list)
    assert all(name.split(".")[0] == "alembic" for name in first["heavy"])  # a new database
    again = _run(tmp_path, "keys", "create", "--name", "second")
    assert str(again["out"]).strip().splitlines()[-1].startswith("sk-lg-")
    assert again["heavy"] == []


def test_keys_commands_load_only_the_key_and_ledger_stores(tmp_path: Path) -> None:
    _run(tmp_path, "keys", "create", "--name", "first")  # the database made and migrated
    created = _run(tmp_path, "keys", "create", "--name", "second", heavy=NOT_FOR_KEYS)
    assert str(created["out"]).strip().splitlines()[-1].startswith("sk-lg-")
    assert created["heavy"] == []
    listed = _run(tmp_path, "keys", "list", heavy=NOT_FOR_KEYS)
    assert "second" in str(listed["out"])
    assert listed["heavy"] == []


def test_help_loads_neither_pydantic_nor_sqlalchemy(tmp_path: Path) -> None:
    """``--help`` reads no settings and opens no database: the models and the ORM wait for a
    command that needs them (they are ~half of ``import lumagate.cli.main`` otherwise)."""
    loaded = _run(tmp_path, "--help", heavy=("pydantic", "pydantic_settings", "sqlalchemy"))
    assert "keys" in str(loaded["out"])
    assert loaded["heavy"] == []
