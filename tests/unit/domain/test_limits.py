"""The shared input checks: unstorable text, bounds, JSON documents, and scrubbing old rows."""

from __future__ import annotations

import json

import pytest

from lumagate.domain.errors import InvalidRequest
from lumagate.domain.limits import (
    MAX_JSON_DEPTH,
    check_document,
    check_int,
    check_number,
    check_text,
    scrub,
    text_problem,
)


def test_text_problem_names_nul_and_lone_surrogates_and_passes_real_unicode() -> None:
    assert text_problem("a\x00b") is not None and "NUL" in (text_problem("a\x00b") or "")
    assert "surrogate" in (text_problem("x\ud800") or "")
    assert "surrogate" in (text_problem("\udfff") or "")
    assert text_problem("emoji 😀, accents é, CJK 漢字") is None


def test_check_text_names_the_field_and_the_limit() -> None:
    check_text("a" * 10, "name", 10)
    check_text(None, "name", 1)
    with pytest.raises(InvalidRequest, match="name is longer than 10") as info:
        check_text("a" * 11, "name", 10)
    assert info.value.field == "name"
    with pytest.raises(InvalidRequest, match="plan must not contain the NUL"):
        check_text("\x00", "plan", 10)


def test_numbers_outside_their_bounds_and_non_finite_numbers_are_refused() -> None:
    check_int(5, "rpm", 1, 5)
    with pytest.raises(InvalidRequest, match="rpm must be between 1 and 5"):
        check_int(6, "rpm", 1, 5)
    check_number(1.5, "days", 0, 2)
    for bad in (float("nan"), float("inf"), float("-inf")):
        with pytest.raises(InvalidRequest, match="days must be a finite number"):
            check_number(bad, "days", 0, 2)
    with pytest.raises(InvalidRequest, match="between"):
        check_number(1e30, "days", 0, 2)


def test_check_document_names_the_path_of_the_first_bad_string() -> None:
    with pytest.raises(InvalidRequest) as info:
        check_document(json.loads('{"keyframes": {"frame0": {"url": "\\ud800"}}}'))
    assert info.value.field == "keyframes.frame0.url"
    with pytest.raises(InvalidRequest) as info:
        check_document({"messages": [{"role": "user"}, {"content": "a\x00"}]})
    assert info.value.field == "messages[1].content"
    with pytest.raises(InvalidRequest, match="NUL"):
        check_document({"bad\x00key": 1})
    with pytest.raises(InvalidRequest, match="finite"):
        check_document({"expires_days": float("nan")})


def test_check_document_limits_nesting_but_not_width() -> None:
    nested: object = 1
    for _ in range(MAX_JSON_DEPTH):
        nested = [nested]
    check_document(nested)
    check_document({"ids": ["x"] * 10_000})
    with pytest.raises(InvalidRequest, match="nested more than"):
        check_document([nested])


def test_scrub_replaces_only_lone_surrogates() -> None:
    stored = {"prompt": "a \ud800 b", "list": ["\udfff"], "ok": "😀", "n": 3, "none": None}
    assert scrub(stored) == {
        "prompt": "a \ufffd b",
        "list": ["\ufffd"],
        "ok": "😀",
        "n": 3,
        "none": None,
    }
