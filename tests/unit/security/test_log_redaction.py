"""Secrets never survive a log record: messages, arguments and tracebacks are masked."""

from __future__ import annotations

import io
import logging

from lumagate.security.log_redaction import SecretRedactor, redact

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
