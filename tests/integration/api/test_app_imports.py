"""What serving loads: the app factory without the renderer (PyAV, numpy), Alembic, Pillow,
obstore, cryptography, SQLAlchemy's ORM or (on SQLite) asyncpg and SQLAlchemy's
PostgreSQL dialect, and a gateway
prepared on a current schema without Alembic either; through the ``lumagate`` command (how
``lumagate serve`` runs it) not httpx's CLI (pygments) nor rich either. Each check runs in a fresh
interpreter, so modules other tests imported do not count."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = (
    "alembic",
    "av",
    "numpy",
    "mako",
    "lumagate.sim",
    "lumagate.providers.sandbox.render",
    "PIL",  # with the first image
    "obstore",  # with an S3 media backend
    "cryptography",  # with the first secret sealed or opened
    "asyncpg",  # with the first raw PostgreSQL connection (these probes run on SQLite)
    "sqlalchemy.dialects.postgresql",  # the dialect package: with the first PostgreSQL engine
    "sqlalchemy.orm",  # the store is core only (lumagate.store.core_asyncio)
)
CLI_HEAVY = (  # kept out by lumagate.cli (httpx's CLI module imports rich and pygments)
    *HEAVY,
    "httpx._main",
    "pygments",
    "pydantic.v1",
    "rich",  # the CLI's tables and error lines, not serve's banner
)

PROBE = """
import asyncio, sys
from pathlib import Path
if {through_cli!r}:
    import lumagate.cli.main
from lumagate.api.app import create_app
from lumagate.settings import Settings

heavy = {heavy!r}
def loaded() -> str:
    return ",".join(m for m in heavy if sys.modules.get(m) is not None)

print("after import:", loaded())
if {migrated!r}:
    import subprocess
    subprocess.run([sys.executable, "-c", {first!r}], check=True)
app = create_app(Settings(data_dir=Path({data!r})), start_engine=False)

async def prepare() -> None:
    async with app.router.lifespan_context(app):
        pass

asyncio.run(prepare())
print("after prepare:", loaded())
"""

FIRST = """
import asyncio
from pathlib import Path
from lumagate.store.database import Database
from lumagate.store import migrate

async def run() -> None:
    db = Database("sqlite+aiosqlite:///" + str(Path({data!r}) / "lumagate.db"))
    await migrate.upgrade(db)
    await db.dispose()

asyncio.run(run())
"""


def _probe(data: Path, *, migrated: bool, through_cli: bool = False) -> list[str]:
    first = FIRST.format(data=str(data))
    code = PROBE.format(
        heavy=CLI_HEAVY if through_cli else HEAVY,
        data=str(data),
        migrated=migrated,
        first=first,
        through_cli=through_cli,
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return [line for line in done.stdout.splitlines() if line.startswith("after ")]


def test_the_app_and_a_start_on_a_current_schema_load_no_heavy_module(tmp_path: Path) -> None:
    assert _probe(tmp_path, migrated=True) == ["after import: ", "after prepare: "]


def test_the_serve_command_loads_no_heavy_module_nor_httpx_cli(tmp_path: Path) -> None:
    assert _probe(tmp_path, migrated=True, through_cli=True) == [
        "after import: ",
        "after prepare: ",
    ]


def test_a_first_start_still_migrates_with_alembic(tmp_path: Path) -> None:
    imported, prepared = _probe(tmp_path, migrated=False)
    assert imported == "after import: "
    assert "alembic" in prepared.split(": ", 1)[1].split(",")


def test_httpx_and_fastapi_work_without_the_modules_kept_out() -> None:
    code = (
        "import sys, lumagate.cli, httpx\n"
        "from fastapi.encoders import jsonable_encoder\n"
        "assert sys.modules['httpx._main'] is None and sys.modules['pydantic.v1'] is None\n"
        "mock = httpx.MockTransport(lambda q: httpx.Response(204))\n"
        "print(httpx.Client(transport=mock).get('http://x/').status_code, callable(httpx.main))\n"
        "class Thing:\n"
        "    def __init__(self) -> None:\n"
        "        self.a = 1\n"
        "print(jsonable_encoder(Thing()))\n"
    )
    assert _printed(code) == ["204 True", "{'a': 1}"]


def test_the_asyncio_extension_still_gives_its_orm_names_on_demand() -> None:
    code = (
        "import sys\n"
        "import lumagate.store.database\n"
        "import sqlalchemy.ext.asyncio as ext\n"
        "from sqlalchemy.ext.asyncio.engine import AsyncEngine\n"
        "def orm() -> str:\n"
        "    return 'orm' if 'sqlalchemy.orm' in sys.modules else 'core'\n"
        "print(orm(), ext.AsyncEngine is AsyncEngine)\n"
        "from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker\n"
        "print(orm(), AsyncSession.__name__)\n"
        "print(hasattr(ext, 'no_such_name'), ext.create_async_engine is not None)\n"
    )
    assert _printed(code) == ["core True", "orm AsyncSession", "False True"]


def _printed(code: str) -> list[str]:
    """The lines ``code`` prints in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.splitlines()
