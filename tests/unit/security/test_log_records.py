"""The redactor keeps every record whole (uvicorn's access lines work) and masks the final line."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from uvicorn.logging import AccessFormatter

from lumagate.security.log_redaction import RedactingFormatter, SecretRedactor, redact

KEY = "sk-lg-Abc_def-1234567890abcdefghij"
ADMIN = "sk-lg-admin-T6C2hHd6Jcg8B9e2Ll-OghoCQ"
HOOK = "hooktoken-8f14e45fceea167a5a36dedd4bea2543"


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        RedactingFormatter(AccessFormatter('%(client_addr)s "%(request_line)s" %(status_code)s'))
    )
    logger = logging.getLogger("lumagate.test.access")
    logger.setLevel(logging.INFO)
    logger.addFilter(SecretRedactor())
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)


def test_an_access_line_is_written_once_with_the_token_masked(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "POST", f"/upstream-hooks/{HOOK}", "1.1", 200
    )
    logger.info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", f"/admin/keys/{ADMIN}?x=1", "1.1", 404
    )
    lines = stream.getvalue().splitlines()
    assert lines == [
        '127.0.0.1:5 "POST /upstream-hooks/[redacted] HTTP/1.1" 200 OK',
        '127.0.0.1:5 "GET /admin/keys/sk-lg-[redacted]?x=1 HTTP/1.1" 404 Not Found',
    ]


def test_a_secret_split_across_format_and_args_is_masked_in_the_final_line() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(logging.Formatter("%(message)s")))
    logger = logging.getLogger("lumagate.test.split")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("calling http://h/cb?token=%s", "t0psecret")
        logger.warning("broken %d format", "not a number")  # would be a "Logging error" dump
        try:
            raise ValueError(f"no such key {KEY}")
        except ValueError:
            logger.exception("lookup failed")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "t0psecret" not in output and KEY not in output
    assert "ValueError: no such key sk-lg-[redacted]" in output
    assert "unformattable log record" in output


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Cookie: access_token=abc123; luma_session=s-abc123", "abc123"),
        ("--cookie 'access_token=abc123; refresh_token=r-abc123'", "abc123"),
        ("relay key sk-proj-0123456789abcdef0123", "0123456789abcdef0123"),
        ("x-api-key: luma-9a8b7c6d5e", "luma-9a8b7c6d5e"),
        ("POST /upstream-hooks/abcDEF123_-x HTTP/1.1", "abcDEF123_-x"),
        ("whsec_0123456789abcdef", "0123456789abcdef"),
    ],
)
def test_every_kind_of_secret_is_masked(text: str, secret: str) -> None:
    assert secret not in redact(text)


def test_a_configured_secret_of_any_form_is_masked_as_a_literal() -> None:
    configured = "my-own-admin-password-42"
    redactor = SecretRedactor([configured, "short"])
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "ref %s", (configured,), None)
    assert redactor.filter(record)
    assert record.getMessage() == "ref [redacted]"
    assert redactor.redact("a short word") == "a short word"  # too short to be a literal
    formatter = RedactingFormatter(logging.Formatter("%(message)s"), [configured])
    plain = logging.LogRecord("x", logging.INFO, __file__, 1, f"key={configured}!", None, None)
    assert configured not in formatter.format(plain)
