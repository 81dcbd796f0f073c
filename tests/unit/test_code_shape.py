"""Small pieces stay small: no module in ``src/lumagate`` over 400 lines, no function over 60;
and the unit tests mirror the service and engine layers, a test module per source module.

A guard over the source (issue 8), so a long module or function is split when it is written,
not found in a review later, and a new service or engine module comes with its unit test
module. A function's length runs from its ``def`` line (decorators not counted) to its last
line, nested functions included in their parent's count. The allow-lists below are the only
exceptions, each with the reason it stands.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import lumagate

SOURCE = Path(lumagate.__file__).parent
UNIT_TESTS = Path(__file__).parent
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60

# Modules allowed over MAX_MODULE_LINES: none.
LONG_MODULES: frozenset[str] = frozenset()

# Functions allowed over MAX_FUNCTION_LINES, as "path/relative/to/lumagate.py:qualified.name".
LONG_FUNCTIONS = frozenset(
    {
        # A migration that has shipped: databases in the field were built by it, so it must
        # never change, not even to be split (Alembic replays it on every fresh database).
        "store/migrations/versions/0001_initial.py:upgrade",
    }
)

# Layers whose every module has a unit test module, tests/unit/<layer>/test_<module>.py.
MIRRORED_LAYERS = ("service", "engine")

# Modules of those layers without one yet, as "layer/module.py": none.
UNTESTED_MODULES: frozenset[str] = frozenset()


def _modules() -> Iterator[Path]:
    yield from sorted(SOURCE.rglob("*.py"))


def _functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, int]]:
    """(qualified name, length in lines) of every function, nested ones too."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            name = f"{prefix}{node.name}"
            assert node.end_lineno is not None
            yield name, node.end_lineno - node.lineno + 1
            yield from _functions(node, f"{name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, f"{prefix}{node.name}.")


def _relative(path: Path) -> str:
    return path.relative_to(SOURCE).as_posix()


def test_the_source_is_found() -> None:
    assert sum(1 for _ in _modules()) > 100


def test_no_module_is_over_the_limit() -> None:
    long = {
        _relative(path): lines
        for path in _modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert {name: n for name, n in long.items() if name not in LONG_MODULES} == {}


def test_no_function_is_over_the_limit() -> None:
    long = {}
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name, lines in _functions(tree):
            key = f"{_relative(path)}:{name}"
            if lines > MAX_FUNCTION_LINES and key not in LONG_FUNCTIONS:
                long[key] = lines
    assert long == {}


def test_every_allowed_exception_still_exists_and_is_long() -> None:
    """An allow-list entry whose function was shortened or removed is dropped from the list."""
    found = {}
    for key in LONG_FUNCTIONS:
        relative, name = key.split(":")
        tree = ast.parse((SOURCE / relative).read_text(encoding="utf-8"))
        found[key] = dict(_functions(tree)).get(name, 0) > MAX_FUNCTION_LINES
    assert found == dict.fromkeys(LONG_FUNCTIONS, True)


def _layer_modules() -> Iterator[str]:
    """``layer/module.py`` of every module of the mirrored layers (packages' ``__init__`` not)."""
    for layer in MIRRORED_LAYERS:
        for path in sorted((SOURCE / layer).glob("*.py")):
            if path.name != "__init__.py":
                yield f"{layer}/{path.name}"


def _unit_test_of(module: str) -> Path:
    layer, name = module.split("/")
    return UNIT_TESTS / layer / f"test_{name}"


def test_every_service_and_engine_module_has_its_unit_test_module() -> None:
    modules = list(_layer_modules())
    assert len(modules) > 30
    missing = {m for m in modules if not _unit_test_of(m).is_file()}
    assert sorted(missing - UNTESTED_MODULES) == []


def test_every_untested_module_still_exists_and_has_no_unit_test_module() -> None:
    """An allow-list entry whose module gained its test module (or went) is dropped from it."""
    stale = {
        m for m in UNTESTED_MODULES if _unit_test_of(m).is_file() or not (SOURCE / m).is_file()
    }
    assert sorted(stale) == []
