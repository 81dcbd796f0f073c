"""Secrets never survive a log record: messages, arguments and tracebacks are masked."""

from __future__ import annotations

import io
import logging

from lumagate.security.log_redaction import _PATTERNS, SecretRedactor, redact

KEY = "sk-lg-Abc_def-1234567890abcdefghij"
SECRET = "whsec_" + "ab" * 32


def test_redact_masks_every_known_form() -> None:
    text = redact(
        f"key {KEY} secret {SECRET} Authorization: Bearer tok123 "
        "Secret-Key: raw-key http://h/cb?token=t0k&x=1&signature=abc"
    )
    for leaked in (KEY, SECRET, "tok123", "raw-key", "t0k", "=abc"):
        assert leaked not in text
    assert "x=1" in text and "http://h/cb?token=" in text


def test_filter_masks_args_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(SecretRedactor())
    logger = logging.getLogger("lumagate.test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("auth with %s", KEY)
        try:
            raise RuntimeError(f"upstream said no to {SECRET}")
        except RuntimeError:
            logger.exception("call failed")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert KEY not in output and SECRET not in output
    assert "RuntimeError: upstream said no to whsec_[redacted]" in output


def _every_pattern(text: str) -> str:
    """The redaction without the word pre-check: every pattern scans the text."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def test_the_word_pre_check_masks_exactly_what_every_pattern_would() -> None:
    samples = [
        '127.0.0.1:5555 - "GET /luma/generations/0b5f6d3e-4e8f-4b57 HTTP/1.1" 200',
        f"AUTHORIZATION: {KEY} and BeArEr tok-1 and COOKIE: a=b; Set-Cookie: s=1",
        f"X-API-KEY: raw1 Api_Key=raw2 api-key: raw3 SECRET-KEY=raw4 {SECRET}",
        "GET /v1/x?Token=abc&PASSWORD=hunter2&ok=1&Sig=zz;Session=q HTTP/1.1",
        "POST /upstream-hooks/tok_abcdef?x=1 and sk-abcdefghijklmnop and sk-lg-short",
        "ascii words only: bearer cookie authorization api_key = sk- whsec_ /upstream-hooks/",
        "non-ASCII: coo\u212aie: kelvin-sign-value \u017fecret-key: long-s Bearer \u00fc-tok",
        "author\u0130zation: dotted-I token=\u00e91 KEY=\u00df2",
        "",
    ]
    for text in samples:
        assert redact(text) == _every_pattern(text), text
    assert "kelvin-sign-value" not in redact(samples[6])  # (?i) matches U+212A as k
