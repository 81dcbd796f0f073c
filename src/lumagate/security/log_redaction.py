"""Keep keys and secrets out of logs without breaking a single record.

The gateway never logs a key on purpose, but exception messages, request paths, third-party
debug output and future log lines could. Redaction happens twice, so no code path escapes it:

- :class:`SecretRedactor`, a filter on the root handlers and uvicorn's loggers, masks secrets
  in a record's message, each of its arguments and its traceback text, but keeps the record's
  shape: ``args`` stay a tuple of the same length, because formatters such as uvicorn's access
  formatter unpack them (setting ``args = None`` there broke every access line);
- :class:`RedactingFormatter` wraps each handler's formatter and masks the final, formatted
  line, exception text and stack included; a record that cannot be formatted becomes one
  masked line instead of logging's ``--- Logging error ---`` dump of raw arguments.

Masked: API and admin keys (``sk-lg-…``), other ``sk-`` keys, webhook secrets (``whsec_…``),
``Bearer`` tokens, credential headers (``Authorization``, ``Secret-Key``, ``X-Api-Key``,
``Cookie``), credential-like query parameters (``token=``, ``key=``, ``secret=`` …), the hook
token in ``/upstream-hooks/<token>`` paths and cookie-style ``access_token=``/``session=``
pairs. :func:`install_log_redaction` (called once uvicorn has configured logging) also raises
``httpx`` to WARNING (its INFO lines carry full request URLs) and ``aiosqlite``/``httpcore`` to
INFO (their DEBUG lines print SQL parameters and raw traffic).
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable
from typing import Any

MASK = "[redacted]"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"sk-lg-[A-Za-z0-9_\-]{6,}"), "sk-lg-" + MASK),
    (re.compile(r"\bsk-(?!lg-)[A-Za-z0-9_\-]{12,}"), "sk-" + MASK),
    (re.compile(r"whsec_[A-Za-z0-9]{6,}"), "whsec_" + MASK),
    (re.compile(r"(/upstream-hooks/)[^/\s?#'\"]+"), r"\1" + MASK),
    (re.compile(r"(?i)\b(bearer)\s+[^\s'\",]+"), r"\1 " + MASK),
    (
        re.compile(r"(?i)\b(set-cookie|cookie)(['\"]?\s*[:=]\s*['\"]?)[^'\"\r\n]+"),
        r"\1\2" + MASK,
    ),
    (
        re.compile(
            r"(?i)\b(secret-key|authorization|x-api-key|api[-_]key)(['\"]?\s*[:=]\s*['\"]?)"
            r"[^\s'\",]+"
        ),
        r"\1\2" + MASK,
    ),
    (
        re.compile(
            r"(?i)((?:^|[?&;\s'\"])(?:token|key|api_key|apikey|access_token|refresh_token|secret|sig"
            r"|signature|password|luma_session|session)=)[^&\s'\";#]+"
        ),
        r"\1" + MASK,
    ),
)
QUIETER: dict[str, int] = {
    "httpx": logging.WARNING,
    "aiosqlite": logging.INFO,
    "httpcore": logging.INFO,
}


MIN_LITERAL = 8  # shorter configured values would mask ordinary words


# What each of _PATTERNS cannot match without (in order): the text, lower-cased for the
# case-insensitive ones. A line holding none of a pattern's words is not scanned by it: most
# lines (every access line of a GET) hold none, and eight scans of each line, three times per
# record (two filters and the formatter), were the largest CPU cost of a client's GET.
_NEEDS: tuple[tuple[bool, tuple[str, ...]], ...] = (
    (False, ("sk-lg-",)),
    (False, ("sk-",)),
    (False, ("whsec_",)),
    (False, ("/upstream-hooks/",)),
    (True, ("bearer",)),
    (True, ("cookie",)),
    (True, ("secret-key", "authorization", "api-key", "api_key")),
    (False, ("=",)),
)


def redact(text: str, literals: tuple[str, ...] = ()) -> str:
    """``text`` with every known secret form, and each of ``literals``, masked."""
    for literal in literals:
        text = text.replace(literal, MASK)
    # Only ASCII text is pre-checked: there ``lower()`` is exactly what ``(?i)`` matches
    # (in other text ``(?i)`` also matches letters such as U+017F LONG S for ``s``).
    # A mask never creates a needed word, so the words of the original text decide.
    lower = text.lower() if text.isascii() else None
    for (pattern, replacement), (folded, words) in zip(_PATTERNS, _NEEDS, strict=True):
        if lower is not None:
            haystack = lower if folded else text
            if not any(word in haystack for word in words):
                continue
        text = pattern.sub(replacement, text)
    return text


class SecretRedactor(logging.Filter):
    """Masks secrets in a record's message, arguments and traceback; keeps its shape.

    ``literals`` are exact values to mask too (a configured admin key of any form).
    """

    def __init__(self, literals: Iterable[str] = ()) -> None:
        super().__init__()
        self.literals = tuple(v for v in literals if len(v) >= MIN_LITERAL)

    def redact(self, text: str) -> str:
        return redact(text, self.literals)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record: one masked line, never the handler's error dump
            record.msg, record.args = self.redact(f"{record.msg!r} {record.args!r}"), ()
            return True
        if self.redact(message) != message:
            if isinstance(record.msg, str):
                record.msg = self.redact(record.msg)
            record.args = self._redacted_args(record.args)  # type: ignore[assignment]
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True

    def _redacted_args(self, args: object) -> object:
        """The arguments with strings masked, in the same shape (tuple or mapping)."""

        def one(value: object) -> object:
            return self.redact(value) if isinstance(value, str) else value

        if isinstance(args, tuple):
            return tuple(one(a) for a in args)
        if isinstance(args, dict):
            return {k: one(v) for k, v in args.items()}
        return args


class RedactingFormatter(logging.Formatter):
    """Formats with ``inner`` and masks the whole result (message, exception text, stack)."""

    def __init__(self, inner: logging.Formatter | None, literals: Iterable[str] = ()) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()
        self.literals = tuple(v for v in literals if len(v) >= MIN_LITERAL)

    def format(self, record: logging.LogRecord) -> str:
        try:
            text = self.inner.format(record)
        except Exception as exc:  # never hand a record to logging's raw error path
            text = f"{record.name}: unformattable log record {record.msg!r} ({exc})"
        return redact(text, self.literals)


REDACTED_LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access")


def install_log_redaction(literals: Iterable[str] = ()) -> None:
    """Redact on the root handlers and uvicorn's (call after uvicorn configured logging);
    ``literals`` are configured secrets to mask wherever they appear."""
    values = tuple(literals)
    redactor = SecretRedactor(values)
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if name and redactor_missing(logger.filters):
            logger.addFilter(redactor)
        for handler in logger.handlers:
            if redactor_missing(handler.filters):
                handler.addFilter(redactor)
            if not isinstance(handler.formatter, RedactingFormatter):
                handler.setFormatter(RedactingFormatter(handler.formatter, values))
    for name, level in QUIETER.items():
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < level:
            logger.setLevel(level)


def redactor_missing(filters: list[Any]) -> bool:
    return not any(isinstance(f, SecretRedactor) for f in filters)
