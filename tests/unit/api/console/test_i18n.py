"""Console languages: the choice from cookie and Accept-Language, and a complete catalogue."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lumagate.api.console import messages
from lumagate.api.console.i18n import Translator, pick_language

CONSOLE = Path(messages.__file__).parent
# a few values are the same in both languages on purpose (names, units)
SAME_IN_BOTH: set[str] = set()


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        (None, None, "en"),
        (None, "zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        (None, "en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        (None, "fr-FR,zh-TW;q=0.5", "zh"),
        (None, "fr-FR", "en"),
        (None, "en;q=0.1, zh;q=0.2", "zh"),
        (None, "zh;q=abc, en", "en"),
        ("zh", "en-US", "zh"),
        ("en", "zh-CN", "en"),
        ("xx", "zh-CN", "zh"),
    ],
)
def test_language_choice(cookie: str | None, header: str | None, expected: str) -> None:
    assert pick_language(cookie, header) == expected


def _used_keys() -> set[str]:
    used: set[str] = set()
    for template in (CONSOLE / "templates").glob("*.html"):
        used |= set(re.findall(r"(?<!\w)t\('([a-z_0-9.]+)'", template.read_text()))
    for module in CONSOLE.glob("*.py"):
        used |= set(re.findall(r'"((?:error|flash|chart)\.[a-z_0-9]+)"', module.read_text()))
    return used


def test_every_message_a_page_uses_is_in_the_catalogue() -> None:
    missing = {k for k in _used_keys() if not k.endswith(".") and k not in messages.MESSAGES}
    assert missing == set()


def test_every_prefix_built_in_a_template_has_its_values() -> None:
    """``t('state.' ~ s)`` style keys: each known value has a message."""
    for prefix, values in {
        "state.": ["queued", "submitting", "submitted", "processing", "completed", "failed"],
        "channel.": ["default", "vip", "pro"],
        "kind.": ["luma-official", "luma-web", "relay", "sandbox"],
        "ledger.": ["opening", "charge", "refund", "top_up"],
        "delivery.": ["pending", "delivered", "refused", "failed"],
        "outcome.": ["delivered", "http_error", "network_error", "refused", "unresolvable"],
        "nav.": ["overview", "accounts", "keys", "tasks", "usage", "playground"],
    }.items():
        for value in values:
            assert prefix + value in messages.MESSAGES


def test_every_message_is_translated_with_the_same_placeholders() -> None:
    for key, (english, chinese) in messages.MESSAGES.items():
        assert english.strip() and chinese.strip(), key
        if key not in SAME_IN_BOTH and not key.startswith("channel."):
            assert english != chinese, f"{key} is not translated"
        fields = set(re.findall(r"\{(\w+)\}", english))
        assert fields == set(re.findall(r"\{(\w+)\}", chinese)), key


def test_dates_and_numbers_in_each_language() -> None:
    at = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert Translator("en").datetime(at) == "04 Mar 2026 05:06:07 UTC"
    assert Translator("zh").datetime(at) == "2026年03月04日 05:06:07 UTC"
    assert Translator("zh").short_date(at) == "3/4"
    assert Translator("en").seconds(3725) == "1h 2m 5s"
    assert Translator("zh").seconds(65) == "1分5秒"
    assert Translator("en").number(None) == "∞"
    assert Translator("zh")("tasks.total", n=3) == "共 3 个任务"
    assert Translator("en")("no.such.key") == "no.such.key"
