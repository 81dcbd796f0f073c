"""No user-facing error message outside the catalogue: a guard over the source.

Every :class:`GatewayError` and :class:`MessageError` subclass (found by importing the server's
packages; the latter is how domain and media values refuse), every module-level helper with a
parameter typed ``Text`` (``_bad(field, problem)``…) and ``msg.VERBATIM`` are looked up where
they are called in ``src/lumagate`` (``cli/``, the operator's terminal, and the stand-alone
``client/`` excepted); a message given as a string
literal, an f-string, a concatenation or ``%``/``.format`` of one, or ``str(...)`` fails the test
with the file and line. Messages are catalogue texts (``msg.X(...)``); an upstream's own words
go through ``msg.VERBATIM(text=variable)``, never a literal. mypy backs this up: the
constructors take a :class:`~lumagate.domain.messages.Text`.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import lumagate
from lumagate.domain.errors import GatewayError
from lumagate.domain.messages import MessageError

SOURCE = Path(lumagate.__file__).parent
SKIPPED = ("cli", "client")
TEXT_TYPES = {"Text", "msg.Text", "messages.Text"}


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _message_slots() -> dict[str, tuple[int | None, str]]:
    """Constructor name -> (position of the message argument, its keyword)."""
    for module in pkgutil.walk_packages([str(SOURCE)], "lumagate."):
        parts = module.name.split(".")
        if parts[1] not in (*SKIPPED, "sim", "__main__") and "migrations" not in parts:
            importlib.import_module(module.name)
    slots: dict[str, tuple[int | None, str]] = {}
    for base, keyword in ((GatewayError, "message"), (MessageError, "text")):
        for cls in (base, *_subclasses(base)):
            names = list(inspect.signature(cls).parameters)
            if keyword in names:
                slots[cls.__name__] = (names.index(keyword), keyword)
    slots.update(_text_helpers())
    slots["VERBATIM"] = (None, "text")  # msg.VERBATIM(text=...): outside words, never a literal
    return slots


def _text_helpers() -> dict[str, tuple[int | None, str]]:
    """Module-level functions with a parameter typed ``Text`` (``_bad(field, problem: Text)``,
    ``_file_error(message: Text, …)``): callers hand them the message."""
    helpers: dict[str, tuple[int | None, str]] = {}
    for path in _sources():
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for position, arg in enumerate(node.args.args):
                if arg.annotation is not None and ast.unparse(arg.annotation) in TEXT_TYPES:
                    helpers[node.name] = (position, arg.arg)
    return helpers


def _is_plain_string(node: ast.expr, *, conversions: bool = True) -> bool:
    """A literal, an f-string, built from one, or (``conversions``) ``str(...)``."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return any(_is_plain_string(n, conversions=conversions) for n in (node.left, node.right))
    if isinstance(node, ast.IfExp):
        return any(_is_plain_string(n, conversions=conversions) for n in (node.body, node.orelse))
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and func.id == "str":
            return conversions
        return isinstance(func, ast.Attribute) and func.attr == "format"
    return False


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


def plain_messages(
    source: str, filename: str, slots: dict[str, tuple[int | None, str]]
) -> list[str]:
    """``file:line: call`` for each constructor called with a plain string as its message."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call):
            continue
        name = _called_name(node)
        if name not in slots:
            continue
        position, keyword = slots[name]
        given = [k.value for k in node.keywords if k.arg == keyword]
        if position is not None and len(node.args) > position:
            given.append(node.args[position])
        # VERBATIM exists for outside words held in a variable: str(variable) is its use.
        if any(_is_plain_string(arg, conversions=name != "VERBATIM") for arg in given):
            found.append(f"{filename}:{node.lineno}: {ast.unparse(node)[:100]}")
    return found


def _sources() -> Iterator[Path]:
    for path in sorted(SOURCE.rglob("*.py")):
        if path.relative_to(SOURCE).parts[0] not in SKIPPED:
            yield path


def test_no_error_message_is_a_plain_string_outside_the_catalogue() -> None:
    slots = _message_slots()
    expected = {"InvalidRequest", "FieldError", "TaskAlreadyEnded", "ModelNotFound", "InvalidImage"}
    assert expected | {"_bad", "_file_error"} <= set(slots)
    found = [
        hit
        for path in _sources()
        for hit in plain_messages(path.read_text(), str(path.relative_to(SOURCE)), slots)
    ]
    assert not found, "messages belong in lumagate/domain/messages/:\n" + "\n".join(found)


def test_the_guard_catches_each_form_of_a_plain_message() -> None:
    slots = _message_slots()
    caught = [
        'raise InvalidRequest("x")',
        'raise errors.TaskNotFound(f"Task {task_id} not found", field="task_id")',
        'raise _bad("width", "must be an integer")',
        'return _file_error("file not found", "file_not_found")',
        'raise FieldError(("query", "limit"), "too big", "less_than_equal")',
        'raise GatewayError("a" + detail)',
        "raise MediaRemoved(str(exc))",
        'raise NotReady("{} is not ready".format(task_id))',
        'raise InvalidRequest(message="x" if strict else text)',
        'raise InvalidRequest(msg.VERBATIM(text="scattered"))',
        'raise InvalidImage("image URL must have a host")',
        'raise MessageError(f"unknown model {name!r}")',
    ]
    for line in caught:
        assert plain_messages(line, "snippet.py", slots), line
    allowed = [
        "raise InvalidRequest(msg.TASK_NOT_FOUND(), field='task_id', code='task_not_exist')",
        "raise _bad('width', msg.FORM_INTEGER())",
        "raise FieldError(('query', 'limit'), msg.INPUT_INTEGER(), 'int_parsing')",
        "raise GatewayError(msg.VERBATIM(text=upstream_reason))",
        "raise GatewayError(msg.VERBATIM(text=str(exc.detail)))",
    ]
    for line in allowed:
        assert not plain_messages(line, "snippet.py", slots), line
