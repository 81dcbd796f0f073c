"""``store/core_asyncio.py`` stands in for the package ``__init__`` of SQLAlchemy's asyncio
extension until a session name is asked for: it must bind every name that ``__init__`` takes
from the engine and result modules, and that ``__init__`` must do nothing else it skips. Read
off the installed SQLAlchemy, so an upgrade that changes either fails here, not in production."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from lumagate.store.core_asyncio import CORE_NAMES, PACKAGE

SKIPPED_MODULES = {"scoping", "session"}  # the ORM half, loaded on demand


def _real_init() -> ast.Module:
    spec = importlib.util.find_spec(PACKAGE)
    assert spec is not None and spec.origin is not None
    return ast.parse(Path(spec.origin).read_text(encoding="utf-8"))


def test_every_core_name_of_the_real_init_is_bound() -> None:
    bound: dict[str, set[str]] = {}
    for node in _real_init().body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            bound.setdefault(node.module, set()).update(alias.name for alias in node.names)
    assert set(bound) == set(CORE_NAMES) | SKIPPED_MODULES
    assert {module: set(names) for module, names in CORE_NAMES.items()} == {
        module: names for module, names in bound.items() if module in CORE_NAMES
    }


def test_the_real_init_does_nothing_else_but_start_the_concurrency_shim() -> None:
    others = [
        ast.unparse(node)
        for node in _real_init().body
        if not isinstance(node, ast.ImportFrom | ast.Import)
        and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
    ]
    assert others == ["concurrency._concurrency_shim._initialize()", "del concurrency"]
