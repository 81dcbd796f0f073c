# ruff: noqa: RUF001  (Chinese text uses full-width punctuation)
"""The message catalogue: every entry in both languages with the same parameters, and the
``Accept-Language`` negotiation (q-values honoured, any ``zh`` range is Chinese)."""

from __future__ import annotations

import pytest

from lumagate.domain import messages as msg
from lumagate.domain.errors import InvalidRequest, RateLimitExceeded
from lumagate.domain.messages import CATALOGUE, CHINESE, ENGLISH, preferred_language


@pytest.mark.parametrize("message_id", sorted(CATALOGUE))
def test_every_entry_has_both_languages_with_the_same_parameters(message_id: str) -> None:
    entry = CATALOGUE[message_id]
    assert entry.id == message_id
    assert entry.en.strip() and entry.zh.strip()
    assert entry.parameters(ENGLISH) == entry.parameters(CHINESE)
    if message_id != "verbatim" and message_id != "field_problem":
        assert entry.zh != entry.en, "the Chinese text is a translation, not a copy"
    sample = {name: f"<{name}>" for name in entry.parameters(ENGLISH)}
    for language in (ENGLISH, CHINESE):
        rendered = entry(**sample).render(language)
        assert all(value in rendered for value in sample.values())


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN", CHINESE),
        ("zh", CHINESE),
        ("zh-TW", CHINESE),
        ("ZH-cn,zh;q=0.9", CHINESE),
        ("en", ENGLISH),
        ("en-US,en;q=0.9", ENGLISH),
        (None, ENGLISH),
        ("", ENGLISH),
        ("fr-FR", ENGLISH),
        ("*", ENGLISH),
        ("en;q=0.5, zh-CN;q=0.8", CHINESE),
        ("zh-CN;q=0.4, en;q=0.8", ENGLISH),
        ("fr, zh;q=0.7", CHINESE),
        ("zh;q=0", ENGLISH),
        ("zh;q=oops", ENGLISH),
        ("en, zh", ENGLISH),
    ],
    ids=lambda value: repr(value),
)
def test_accept_language_picks_chinese_only_when_it_ranks_first(
    header: str | None, expected: str
) -> None:
    assert preferred_language(header) == expected


def test_an_error_renders_in_either_language_with_nested_texts() -> None:
    error = InvalidRequest(
        msg.FIELD_PROBLEM(field="user_prompt", problem=msg.TEXT_NUL()), field="user_prompt"
    )
    assert error.message == "user_prompt must not contain the NUL character (U+0000)"
    chinese = error.localized(CHINESE)
    assert chinese.message == "user_prompt 不能包含 NUL 字符 (U+0000)"
    assert (chinese.status, chinese.code, chinese.field) == (400, "invalid_request", "user_prompt")
    assert error.message.startswith("user_prompt must")  # the original is untouched


def test_a_subclass_with_its_own_signature_localizes() -> None:
    error = RateLimitExceeded(msg.RATE_PER_MINUTE(rpm=3), retry_after=7)
    chinese = error.localized(CHINESE)
    assert isinstance(chinese, RateLimitExceeded) and chinese.retry_after == 7
    assert chinese.message == "已达到速率限制：此密钥每分钟最多创建 3 个任务"


def test_outside_words_are_shown_as_given() -> None:
    error = InvalidRequest(msg.VERBATIM(text="Contains blacklisted words"))
    assert error.localized(CHINESE).message == "Contains blacklisted words"


def test_a_value_error_in_catalogue_words_renders_in_the_language_of_its_frame() -> None:
    refusal = msg.MessageError(msg.UNKNOWN_DURATION(value="'7s'"))
    assert isinstance(refusal, ValueError)
    assert str(refusal) == "unknown duration '7s' (use 5s or 9s)"
    error = InvalidRequest(msg.FIELD_DETAIL(field="duration", detail=refusal), field="duration")
    assert error.message == "duration: unknown duration '7s' (use 5s or 9s)"
    assert error.localized(CHINESE).message == "duration：未知时长 '7s'（可用 5s 或 9s）"
