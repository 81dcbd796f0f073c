"""The catalogue's machinery: an entry per message id, texts rendered once the language is known.

Entries are declared with :func:`define` in the sibling modules (one per area) and all reach
callers through ``lumagate.domain.messages``; an id defined twice fails at import.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Language = Literal["en", "zh"]
ENGLISH: Language = "en"
CHINESE: Language = "zh"

__all__ = [
    "CATALOGUE",
    "CHINESE",
    "ENGLISH",
    "Language",
    "Message",
    "MessageError",
    "Text",
    "define",
    "preferred_language",
]


@dataclass(frozen=True)
class Message:
    """One catalogue entry: an id and a template per language with the same named parameters."""

    id: str
    en: str
    zh: str

    def __call__(self, **params: object) -> Text:
        return Text(self, params)

    def template(self, language: Language) -> str:
        return self.zh if language == CHINESE else self.en

    def parameters(self, language: Language) -> frozenset[str]:
        return frozenset(
            name
            for _, name, _, _ in string.Formatter().parse(self.template(language))
            if name is not None
        )


@dataclass(frozen=True)
class Text:
    """A message with its parameters, rendered only once the reader's language is known."""

    message: Message
    params: Mapping[str, object] = field(default_factory=dict)

    def render(self, language: Language = ENGLISH) -> str:
        values = {
            name: value.text.render(language)
            if isinstance(value, MessageError)
            else value.render(language)
            if isinstance(value, Text)
            else value
            for name, value in self.params.items()
        }
        return self.message.template(language).format(**values)

    def __str__(self) -> str:
        return self.render(ENGLISH)


class MessageError(ValueError):
    """A ``ValueError`` in catalogue words, for layers below the errors (domain values, media).

    ``str(exc)`` is the English text, as before; given as a parameter of another text, the
    error renders in that text's language, so the boundary still answers in the reader's.
    """

    def __init__(self, text: Text) -> None:
        super().__init__(text.render(ENGLISH))
        self.text = text


CATALOGUE: dict[str, Message] = {}


def define(message_id: str, en: str, zh: str) -> Message:
    if message_id in CATALOGUE:
        raise ValueError(f"message id {message_id!r} is defined twice")
    entry = Message(message_id, en, zh)
    CATALOGUE[message_id] = entry
    return entry


def preferred_language(accept_language: str | None) -> Language:
    """Chinese when ``Accept-Language`` ranks a ``zh`` range above every English one."""
    best: dict[Language, float] = {ENGLISH: 0.0, CHINESE: 0.0}
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = max(0.0, min(1.0, float(value)))
                except ValueError:
                    quality = 0.0
        targets: tuple[Language, ...] = (
            (CHINESE,) if primary == "zh" else (ENGLISH,) if primary == "en" else ()
        )
        if primary == "*":
            targets = (ENGLISH,)
        for target in targets:
            best[target] = max(best[target], quality)
    return CHINESE if best[CHINESE] > best[ENGLISH] else ENGLISH
