# ruff: noqa: RUF001  (Chinese text uses full-width punctuation on purpose)
"""The one catalogue of user-facing error messages, in English and Chinese.

Services and routes raise errors with a catalogue entry and its named parameters
(``InvalidRequest(msg.TASK_NOT_FOUND())``); the text is chosen at the HTTP boundary in the
language the request prefers (:func:`preferred_language` reads ``Accept-Language`` with its
q-values: ``zh``, ``zh-CN``, ``zh-TW``… give Chinese, anything else English). Codes and error
shapes never change with the language. Parameters that are themselves :class:`Text` render in the
same language; other values (field names, numbers, an upstream's own words) are inserted as given.
The English templates are the texts clients and tests have always seen: change them only with the
contract.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Language = Literal["en", "zh"]
ENGLISH: Language = "en"
CHINESE: Language = "zh"


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
            name: value.render(language) if isinstance(value, Text) else value
            for name, value in self.params.items()
        }
        return self.message.template(language).format(**values)

    def __str__(self) -> str:
        return self.render(ENGLISH)


CATALOGUE: dict[str, Message] = {}


def _m(message_id: str, en: str, zh: str) -> Message:
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


# -- general ----------------------------------------------------------------------------------
VERBATIM = _m("verbatim", "{text}", "{text}")  # a text from outside the catalogue (an upstream's)
FIELD_DETAIL = _m("field_detail", "{field}: {detail}", "{field}：{detail}")
NOT_FOUND = _m("not_found", "Not found", "未找到")
METHOD_NOT_ALLOWED = _m("method_not_allowed", "Method not allowed", "不支持该请求方法")
INTERNAL_ERROR = _m(
    "internal_error",
    "The gateway hit an internal error; the request was not completed",
    "网关内部错误，请求未完成",
)
INVALID_REQUEST = _m("invalid_request", "invalid request", "请求无效")
FIELD_REQUIRED = _m("field_required", "{field} is required", "缺少必填字段 {field}")
# -- tasks ------------------------------------------------------------------------------------
TASK_NOT_FOUND = _m("task_not_found", "Task not found", "任务不存在")
PROMPT_OR_IMAGE = _m(
    "prompt_or_image",
    "{field} is required unless an image is given",
    "未提供图片时必须填写 {field}",
)
EXTEND_NOT_COMPLETED = _m(
    "extend_not_completed", "Only a completed task can be extended", "只有已完成的任务才能延长"
)
VIDEO_NOT_READY = _m(
    "video_not_ready",
    "The video is not ready yet: the task has not completed",
    "视频尚未就绪：任务还没有完成",
)
ONE_OF = _m("one_of", "{field} must be one of {choices}", "{field} 必须是以下之一：{choices}")
STATE_ONE_OF = _m(
    "state_one_of",
    "state must be one of {choices} (got {got})",
    "state 必须是以下之一：{choices}（收到 {got}）",
)
NOT_AN_IMAGE = _m(
    "not_an_image",
    "{field} is not a PNG, JPEG, WebP or GIF image",
    "{field} 不是 PNG、JPEG、WebP 或 GIF 图片",
)
TOO_LARGE_FILE = _m("too_large_file", "{field} is too large", "{field} 太大")
# -- capabilities -----------------------------------------------------------------------------
NOT_DELIVERABLE = _m(
    "not_deliverable",
    "{field} {asked} is not available on channel {channel}: {limit}",
    "频道 {channel} 无法提供 {field} {asked}：{limit}",
)
LIMIT_AT_MOST = _m("limit_at_most", "at most {value}", "最多 {value}")
LIMIT_ONE_OF = _m("limit_one_of", "one of {values}", "可选 {values}")
LIMIT_USE = _m("limit_use", "use {values}", "请使用 {values}")
LIMIT_NO_LOOP = _m("limit_no_loop", "no loop", "不支持循环")
LIMIT_NO_END_FRAME = _m("limit_no_end_frame", "no end frame", "不支持结束帧")
NO_ACCOUNT_FOR_CHANNEL = _m(
    "no_account_for_channel",
    "No upstream account available for channel {channel}",
    "频道 {channel} 没有可用的上游账号",
)
JOINED = _m("joined", "{first}; {rest}", "{first}；{rest}")
