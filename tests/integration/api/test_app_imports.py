"""What serving loads: the app factory without the renderer (PyAV, numpy) or Alembic, and a
gateway prepared on a current schema without Alembic either. Each check runs in a fresh
interpreter, so modules other tests imported do not count."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = ("alembic", "av", "numpy", "mako", "lumagate.sim", "lumagate.providers.sandbox.render")

PROBE = """
import asyncio, sys
from pathlib import Path
from lumagate.api.app import create_app
from lumagate.settings import Settings

heavy = {heavy!r}
print("after import:", ",".join(m for m in heavy if m in sys.modules))
if {migrated!r}:
    import subprocess
    subprocess.run([sys.executable, "-c", {first!r}], check=True)
app = create_app(Settings(data_dir=Path({data!r})), start_engine=False)

async def prepare() -> None:
    async with app.router.lifespan_context(app):
        pass

asyncio.run(prepare())
print("after prepare:", ",".join(m for m in heavy if m in sys.modules))
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


def _probe(data: Path, *, migrated: bool) -> list[str]:
    first = FIRST.format(data=str(data))
    code = PROBE.format(heavy=HEAVY, data=str(data), migrated=migrated, first=first)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    return [line for line in done.stdout.splitlines() if line.startswith("after ")]


def test_the_app_and_a_start_on_a_current_schema_load_no_heavy_module(tmp_path: Path) -> None:
    assert _probe(tmp_path, migrated=True) == ["after import: ", "after prepare: "]


def test_a_first_start_still_migrates_with_alembic(tmp_path: Path) -> None:
    imported, prepared = _probe(tmp_path, migrated=False)
    assert imported == "after import: "
    assert "alembic" in prepared.split(": ", 1)[1].split(",")
