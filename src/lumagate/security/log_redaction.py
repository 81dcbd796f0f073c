"""Keep keys and secrets out of logs: a redacting filter and quieter chatty libraries.

The gateway never logs a key on purpose, but exception messages, third-party debug output and
future log lines could. :func:`install_log_redaction` (called by ``lumagate serve`` once
logging is configured) therefore:

- masks API keys (``sk-lg-…``), webhook secrets (``whsec_…``), ``Bearer`` tokens and
  credential-like query parameters (``token=``, ``key=``, ``secret=``, ``signature=`` …) in
  every record, its arguments and its traceback, on the root handlers and uvicorn's loggers;
- raises ``httpx`` to WARNING (its INFO lines carry full request URLs, and callback URLs often
  carry a token) and ``aiosqlite``/``httpcore`` to INFO (their DEBUG lines print SQL
  parameters and raw traffic).
"""

from __future__ import annotations

import logging
import re
import traceback

MASK = "[redacted]"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"sk-lg-[A-Za-z0-9_\-]{6,}"), "sk-lg-" + MASK),
    (re.compile(r"whsec_[A-Za-z0-9]{6,}"), "whsec_" + MASK),
    (re.compile(r"(?i)\b(bearer)\s+[^\s'\",]+"), r"\1 " + MASK),
    (
        re.compile(r"(?i)\b(secret-key|authorization|x-api-key)(['\"]?\s*[:=]\s*['\"]?)[^\s'\",]+"),
        r"\1\2" + MASK,
    ),
    (
        re.compile(
            r"(?i)([?&](?:token|key|api_key|apikey|access_token|secret|sig|signature|password)=)"
            r"[^&\s'\"#]+"
        ),
        r"\1" + MASK,
    ),
)
QUIETER: dict[str, int] = {
    "httpx": logging.WARNING,
    "aiosqlite": logging.INFO,
    "httpcore": logging.INFO,
}


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class SecretRedactor(logging.Filter):
    """Rewrites a record's message (and traceback) with secrets masked; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler's error path
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip())
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install_log_redaction() -> None:
    redactor = SecretRedactor()
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).addFilter(redactor)
    for name, level in QUIETER.items():
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < level:
            logger.setLevel(level)
