"""The documented bounds of every input, and the checks of text every layer shares.

Each limit here is the one answer on SQLite and on PostgreSQL: SQLite would store a
60,000-character Idempotency-Key that PostgreSQL's ``VARCHAR(200)`` refuses, Python's ``str``
holds lone surrogates that no UTF-8 database or response can carry, and PostgreSQL refuses a
NUL in any text. So the gateway refuses all of them at the boundary (400 naming the field),
the same way whatever the database. docs/dialects.md lists these limits for clients.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from lumagate.domain import messages as msg
from lumagate.domain.errors import InvalidRequest

MAX_PROMPT = 5000  # characters of a prompt (every dialect)
MAX_URL = 2048  # an http(s) URL: images, callbacks (data: URIs are bounded by the body size)
MAX_IDEMPOTENCY_KEY = 200  # characters of an Idempotency-Key header (Stripe allows 255)
MAX_NAME = 200  # a key or account name
MAX_PLAN = 32  # a key's plan
MAX_NOTE = 500  # free text an operator attaches: ledger notes, disable reasons
MAX_SHORT_TEXT = 200  # enumerated values, model names, ids, concept keys
MAX_JSON_DEPTH = 32  # nesting of objects and arrays in a request body
MAX_QUERY_VALUE = 1000  # characters of one query parameter
MAX_OFFSET = 1_000_000_000  # a list offset (pages deeper than this are refused, not clamped)
MAX_COUNT = 2_147_483_647  # rpm, max_running and other counters (a 32-bit INTEGER column)
MAX_CREDITS = 10**15  # a key's credits, a top-up amount (well inside a 64-bit BIGINT)
MAX_EXPIRES_DAYS = 36_500  # a key's lifetime: at most a hundred years


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def scrub(value: Any) -> Any:
    """``value`` (a JSON document) with every lone surrogate replaced by U+FFFD.

    For rows stored before input was checked: a read never fails on them (the text shows the
    replacement character where the unpaired half was).
    """
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(item) for item in value]
    return value


def problem_text(value: str) -> msg.Text | None:
    """Why ``value`` cannot be stored or sent (a lone surrogate, a NUL), or None if it can."""
    if "\x00" in value:
        return msg.TEXT_NUL()
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return msg.TEXT_SURROGATE()
    return None


def text_problem(value: str) -> str | None:
    """:func:`problem_text` in English."""
    problem = problem_text(value)
    return None if problem is None else problem.render()


def check_text(value: str | None, field: str, max_length: int) -> None:
    """Refuse a text that is not storable or longer than ``max_length`` characters."""
    if value is None:
        return
    problem = problem_text(value)
    if problem is not None:
        raise InvalidRequest(msg.FIELD_PROBLEM(field=field, problem=problem), field=field)
    if len(value) > max_length:
        raise InvalidRequest(
            msg.TOO_LONG(field=field, maximum=max_length), field=field, code="too_long"
        )


def check_int(value: int | None, field: str, minimum: int, maximum: int) -> None:
    if value is not None and not minimum <= value <= maximum:
        raise InvalidRequest(
            msg.BETWEEN(field=field, minimum=minimum, maximum=maximum), field=field
        )


def check_number(value: float | None, field: str, minimum: float, maximum: float) -> None:
    """A float within bounds; NaN and the infinities are refused by name."""
    if value is None:
        return
    if not math.isfinite(value):
        raise InvalidRequest(msg.FINITE(field=field), field=field)
    if not minimum <= value <= maximum:
        raise InvalidRequest(
            msg.BETWEEN(field=field, minimum=f"{minimum:g}", maximum=f"{maximum:g}"), field=field
        )


def _path_text(path: tuple[str | int, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "body"


def _walk(document: Any) -> Iterator[tuple[tuple[str | int, ...], Any, int]]:
    """Every value of a parsed JSON document with its path and depth, without recursion."""
    stack: list[tuple[tuple[str | int, ...], Any, int]] = [((), document, 0)]
    while stack:
        path, value, depth = stack.pop()
        yield path, value, depth
        if isinstance(value, dict):
            for key, item in value.items():
                yield (*path, key), key, depth + 1  # the key itself, as a string
                stack.append(((*path, key), item, depth + 1))
        elif isinstance(value, list):
            stack.extend(((*path, i), item, depth + 1) for i, item in enumerate(value))


def check_document(document: Any, max_depth: int = MAX_JSON_DEPTH) -> None:
    """A parsed JSON body: nesting within ``max_depth``, every string (keys too) storable and
    every number finite. The error names the first offending field, e.g. ``keyframes.frame0.url``.
    """
    for path, value, depth in _walk(document):
        field = _path_text(path)
        if depth > max_depth:
            raise InvalidRequest(msg.JSON_TOO_DEEP(depth=max_depth), code="too_deep")
        if isinstance(value, str):
            problem = problem_text(value)
            if problem is not None:
                raise InvalidRequest(msg.FIELD_PROBLEM(field=field, problem=problem), field=field)
        elif isinstance(value, float) and not math.isfinite(value):
            raise InvalidRequest(msg.FINITE(field=field), field=field)
