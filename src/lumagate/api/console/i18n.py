"""Console languages: English and Chinese, chosen by cookie, else by ``Accept-Language``.

Messages live in :mod:`lumagate.api.console.messages` as ``key: (english, chinese)``; a key
missing from the catalogue is a bug the i18n test finds, and shows as the key itself.
Dates are shown in UTC in each language's own order.
"""

from __future__ import annotations

from datetime import datetime as Datetime

from lumagate.api.console.messages import MESSAGES

LANGUAGES = ("en", "zh")
DEFAULT_LANGUAGE = "en"


def _index(lang: str) -> int:
    return 1 if lang == "zh" else 0


def pick_language(cookie: str | None, accept_language: str | None) -> str:
    """The remembered choice, else the best of ``Accept-Language`` we speak, else English."""
    if cookie in LANGUAGES:
        return cookie
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        q -= position * 1e-6  # earlier wins a tie
        if q > best_q:
            best, best_q = primary, q
    return best


class Translator:
    """``t(key, **values)`` in one language; also formats dates and numbers for it."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self._i = _index(self.lang)

    def __call__(self, key: str, **values: object) -> str:
        pair = MESSAGES.get(key)
        text = key if pair is None else pair[self._i]
        return text.format(**values) if values else text

    @staticmethod
    def knows(key: str) -> bool:
        return key in MESSAGES

    def datetime(self, value: Datetime | None) -> str:
        if value is None:
            return "—"
        if self.lang == "zh":
            return value.strftime("%Y年%m月%d日 %H:%M:%S UTC")
        return value.strftime("%d %b %Y %H:%M:%S UTC")

    def date(self, value: Datetime) -> str:
        return value.strftime("%m月%d日") if self.lang == "zh" else value.strftime("%d %b")

    def short_date(self, value: Datetime) -> str:
        """A chart label: ``11/25`` in Chinese, ``25 Nov`` in English."""
        return f"{value.month}/{value.day}" if self.lang == "zh" else value.strftime("%d %b")

    def hour(self, value: Datetime) -> str:
        return value.strftime("%H时") if self.lang == "zh" else value.strftime("%H:00")

    def seconds(self, value: float | None) -> str:
        if value is None:
            return "—"
        minutes, secs = divmod(int(value), 60)
        hours, minutes = divmod(minutes, 60)
        if self.lang == "zh":
            return f"{hours}小时{minutes}分{secs}秒" if hours else f"{minutes}分{secs}秒"
        return f"{hours}h {minutes}m {secs}s" if hours else f"{minutes}m {secs}s"

    @staticmethod
    def number(value: int | None) -> str:
        return "∞" if value is None else f"{value:,}"
