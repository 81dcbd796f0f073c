"""SQLAlchemy's asyncio extension without its ORM half, until something asks for it.

The package ``__init__`` of ``sqlalchemy.ext.asyncio`` imports its ``AsyncSession`` modules and
with them the whole ORM (``sqlalchemy.orm``: ~0.1 s, ~10 % of a gateway's imports); the store
uses the core only (``AsyncEngine``, ``AsyncConnection``). :func:`install` (run by
``lumagate.store``'s ``__init__``, before any store module imports the extension) registers the
package with what that ``__init__`` binds from its engine and result modules, and runs the real
``__init__`` the first time a name it lacks is asked for: ``from sqlalchemy.ext.asyncio import
AsyncSession`` still works (Alembic's, a test's), it just loads the ORM then. A process that
imported the extension before lumagate keeps it as it is.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

PACKAGE = "sqlalchemy.ext.asyncio"
CORE_NAMES = {  # what the package __init__ binds from these two modules (SQLAlchemy 2.x)
    "engine": (
        "async_engine_from_config",
        "AsyncConnection",
        "AsyncEngine",
        "AsyncTransaction",
        "create_async_engine",
        "create_async_pool_from_url",
    ),
    "result": ("AsyncMappingResult", "AsyncResult", "AsyncScalarResult", "AsyncTupleResult"),
}


def install() -> None:
    """Register ``sqlalchemy.ext.asyncio`` with its core names; the rest loads on first use."""
    if PACKAGE in sys.modules:
        return
    spec = importlib.util.find_spec(PACKAGE)  # imports sqlalchemy and sqlalchemy.ext
    if spec is None or spec.loader is None:  # pragma: no cover - SQLAlchemy is a dependency
        return
    loader = spec.loader
    package = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = package
    try:
        for module_name, names in CORE_NAMES.items():
            module = importlib.import_module(f"{PACKAGE}.{module_name}")
            for name in names:
                vars(package)[name] = getattr(module, name)
        from sqlalchemy.util import concurrency

        concurrency._concurrency_shim._initialize()  # the one other thing the __init__ does
    except BaseException:
        del sys.modules[PACKAGE]
        raise
    vars(sys.modules["sqlalchemy.ext"])["asyncio"] = package

    def rest(name: str) -> Any:
        """The real ``__init__`` (the session names, so the ORM), run once, then ``name``."""
        del vars(package)["__getattr__"]
        loader.exec_module(package)
        try:
            return vars(package)[name]
        except KeyError:
            raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}") from None

    vars(package)["__getattr__"] = rest
