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
# -- bodies and the boundary ------------------------------------------------------------------
BODY_TOO_LARGE = _m(
    "body_too_large", "Request body is larger than {limit} bytes", "请求体超过 {limit} 字节"
)
MALFORMED_JSON = _m(
    "malformed_json", "Malformed JSON body: {detail}", "JSON 请求体格式错误：{detail}"
)
BODY_NOT_OBJECT = _m(
    "body_not_object", "The JSON body must be an object", "JSON 请求体必须是一个对象"
)
MALFORMED_MULTIPART = _m(
    "malformed_multipart",
    "Malformed multipart body: {detail}",
    "multipart 请求体格式错误：{detail}",
)
SEND_MULTIPART_FILE = _m(
    "send_multipart_file",
    "Send the image as multipart/form-data field 'file'",
    "请以 multipart/form-data 的 'file' 字段发送图片",
)
MULTIPART_FILE_MISSING = _m(
    "multipart_file_missing",
    "file is required (multipart field 'file')",
    "缺少 file（multipart 字段 'file'）",
)
NOT_JSON_NUMBER = _m(
    "not_json_number",
    "The JSON body holds {name}, which is not a JSON number",
    "JSON 请求体包含 {name}，它不是合法的 JSON 数字",
)
PATH_NUL = _m(
    "path_nul",
    "The path must not contain the NUL character (U+0000)",
    "路径不能包含 NUL 字符 (U+0000)",
)
QUERY_PROBLEM = _m("query_problem", "query parameter {name} {problem}", "查询参数 {name} {problem}")
QUERY_TOO_LONG = _m(
    "query_too_long",
    "query parameter {name} is longer than {maximum} characters",
    "查询参数 {name} 超过 {maximum} 个字符",
)
JSON_TOO_DEEP = _m(
    "json_too_deep",
    "The JSON body is nested more than {depth} levels deep",
    "JSON 请求体嵌套超过 {depth} 层",
)
# -- field values -----------------------------------------------------------------------------
FIELD_PROBLEM = _m("field_problem", "{field} {problem}", "{field} {problem}")
TEXT_NUL = _m(
    "text_nul", "must not contain the NUL character (U+0000)", "不能包含 NUL 字符 (U+0000)"
)
TEXT_SURROGATE = _m(
    "text_surrogate",
    "must be valid Unicode (it holds a lone surrogate)",
    "必须是合法的 Unicode（含有孤立的代理字符）",
)
TOO_LONG = _m(
    "too_long", "{field} is longer than {maximum} characters", "{field} 超过 {maximum} 个字符"
)
BETWEEN = _m(
    "between",
    "{field} must be between {minimum} and {maximum}",
    "{field} 必须在 {minimum} 与 {maximum} 之间",
)
FINITE = _m("finite", "{field} must be a finite number", "{field} 必须是有限的数值")
MUST_BE_INTEGER = _m("must_be_integer", "{field} must be an integer", "{field} 必须是整数")
MUST_BE_STRING = _m("must_be_string", "{field} must be a string", "{field} 必须是字符串")
MUST_BE_BOOLEAN = _m("must_be_boolean", "{field} must be a boolean", "{field} 必须是布尔值")
MUST_BE_POSITIVE = _m("must_be_positive", "{field} must be positive", "{field} 必须是正数")
NOT_EMPTY = _m("not_empty", "{field} must not be empty", "{field} 不能为空")
NOT_ZERO = _m("not_zero", "{field} must not be zero", "{field} 不能为零")
HTTP_URL = _m("http_url", "{field} must be an http(s) URL", "{field} 必须是 http(s) URL")
DATE_FORMAT = _m(
    "date_format", "{field} must be a date like 2024-06-01", "{field} 必须是日期，例如 2024-06-01"
)
END_BEFORE_START = _m(
    "end_before_start", "end_date must not be before start_date", "end_date 不能早于 start_date"
)
SIZE_TWO_INTEGERS = _m(
    "size_two_integers",
    "size must be two positive integers like 1280x720",
    "size 必须是两个正整数，例如 1280x720",
)
SIZE_FORMAT = _m("size_format", "size must look like 1280x720", "size 的格式应为 1280x720")
SECONDS_NUMBER = _m(
    "seconds_number", "seconds must be a number like 5", "seconds 必须是数字，例如 5"
)
SECONDS_POSITIVE = _m("seconds_positive", "seconds must be a positive number", "seconds 必须是正数")
ORDER_ASC_DESC = _m("order_asc_desc", "order must be asc or desc", "order 必须是 asc 或 desc")
EXTEND_NEEDS_PROMPT = _m(
    "extend_needs_prompt", "{field} is required to extend", "延长视频时必须填写 {field}"
)
TWO_IMAGES = _m(
    "two_images",
    "images takes at most two images (start, end)",
    "images 最多两张图片（起始帧、结束帧）",
)
# -- keys, auth and billing -------------------------------------------------------------------
MISSING_KEY = _m(
    "missing_key",
    "Missing API key: send 'Authorization: Bearer <key>'",
    "缺少 API 密钥：请发送 'Authorization: Bearer <key>'",
)
BAD_KEY = _m("bad_key", "Invalid, expired or revoked API key", "API 密钥无效、已过期或已吊销")
CHANNEL_NOT_ALLOWED = _m(
    "channel_not_allowed",
    "This key may not use the {channel} channel",
    "此密钥不能使用 {channel} 频道",
)
ADMIN_KEY = _m("admin_key", "Missing or wrong admin key", "缺少管理员密钥或密钥错误")
METRICS_TOKEN = _m("metrics_token", "Missing or wrong metrics token", "缺少 metrics 令牌或令牌错误")
NO_KEY_MATCHES = _m("no_key_matches", "No key matches {ref}", "没有与 {ref} 匹配的密钥")
RATE_PER_MINUTE = _m(
    "rate_per_minute",
    "Rate limit reached: this key may create {rpm} tasks per minute",
    "已达到速率限制：此密钥每分钟最多创建 {rpm} 个任务",
)
TOO_MANY_RUNNING = _m(
    "too_many_running",
    "Too many tasks running: this key may have {limit} unfinished at once",
    "运行中的任务过多：此密钥同时最多有 {limit} 个未完成的任务",
)
NOT_ENOUGH_CREDITS = _m(
    "not_enough_credits",
    "Not enough credits: this generation costs {cost}, the balance is {balance}",
    "额度不足：本次生成需要 {cost}，余额为 {balance}",
)
STATE_NOT_TASK_STATE = _m(
    "state_not_task_state", "state is not a task state", "state 不是有效的任务状态"
)
CONTENT_MISSING = _m("content_missing", "This task has no {variant}", "此任务没有 {variant}")
# -- chat -------------------------------------------------------------------------------------
CHAT_USER_MESSAGE = _m(
    "chat_user_message", "messages: a user message is required", "messages：需要一条用户消息"
)
CHAT_IMAGE_URL_STRING = _m(
    "chat_image_url_string",
    "messages.content.{index}.image_url.url must be a string",
    "messages.content.{index}.image_url.url 必须是字符串",
)
CHAT_TWO_IMAGES = _m(
    "chat_two_images",
    "at most two images (start and end frame) per message",
    "每条消息最多两张图片（起始帧和结束帧）",
)
CHAT_NO_TEXT = _m(
    "chat_no_text",
    "the last user message has no text or image",
    "最后一条用户消息既没有文字也没有图片",
)
# -- the official dialect ---------------------------------------------------------------------
GENERATION_TYPE = _m(
    "generation_type",
    "generation_type {value} is not supported by this gateway (only video generations are)",
    "本网关不支持 generation_type {value}（仅支持视频生成）",
)
NO_KEYFRAMES = _m("no_keyframes", "No keyframes provided", "未提供关键帧")
PROMPT_REQUIRED = _m("prompt_required", "Prompt is required", "必须填写提示词")
PROMPT_TOO_SHORT = _m(
    "prompt_too_short",
    "Prompt is too short, minimum length is {minimum} characters",
    "提示词太短，至少需要 {minimum} 个字符",
)
PROMPT_TOO_LONG = _m(
    "prompt_too_long",
    "Prompt is too long, maximum length is {maximum} characters",
    "提示词太长，最多 {maximum} 个字符",
)
LOOP_END_FRAME = _m(
    "loop_end_frame", "Loop is not supported for end frame", "使用结束帧时不支持循环"
)
KEYFRAME_URL = _m(
    "keyframe_url",
    "keyframes.{name}.url must be an http(s) URL or a data:image URI",
    "keyframes.{name}.url 必须是 http(s) URL 或 data:image URI",
)
CONCEPT_KEY_EMPTY = _m(
    "concept_key_empty", "concepts[].key must not be empty", "concepts[].key 不能为空"
)
GENERATION_NOT_FOUND = _m("generation_not_found", "Generation not found", "生成任务不存在")
GENERATION_ID_NOT_FOUND = _m(
    "generation_id_not_found", "Generation {id} not found", "生成任务 {id} 不存在"
)
GENERATION_NOT_COMPLETED = _m(
    "generation_not_completed", "Generation {id} is not completed", "生成任务 {id} 尚未完成"
)
GENERATION_NO_FRAME = _m(
    "generation_no_frame",
    "Generation {id} has no frame to start from",
    "生成任务 {id} 没有可作为起点的画面",
)
NOT_SUPPORTED_HERE = _m(
    "not_supported_here", "{what} is not supported by this gateway", "本网关不支持 {what}"
)
INPUT_INTEGER = _m("input_integer", "Input should be a valid integer", "输入必须是有效的整数")
INPUT_AT_LEAST = _m(
    "input_at_least",
    "Input should be greater than or equal to {minimum}",
    "输入必须大于或等于 {minimum}",
)
INPUT_AT_MOST = _m(
    "input_at_most",
    "Input should be less than or equal to {maximum}",
    "输入必须小于或等于 {maximum}",
)
NO_ACTIVE_KEY_MATCHES = _m(
    "no_active_key_matches", "No active key matches {ref}", "没有与 {ref} 匹配的有效密钥"
)
NO_ACCOUNT_MATCHES = _m("no_account_matches", "No account matches {ref}", "没有与 {ref} 匹配的账号")
FILE_MISSING = _m("file_missing", "The {variant} file is missing", "{variant} 文件缺失")
MEDIA_STORE_UNAVAILABLE = _m(
    "media_store_unavailable",
    "The media store is unavailable for the {variant}",
    "媒体存储暂时不可用，无法读取 {variant}",
)
UPSTREAM_FILE_STATUS = _m(
    "upstream_file_status",
    "Fetching the {variant} failed: upstream answered HTTP {status}",
    "获取 {variant} 失败：上游返回 HTTP {status}",
)
SPRITESHEET_UPSTREAM_ONLY = _m(
    "spritesheet_upstream_only",
    "variant=spritesheet is available only for videos this gateway stores; this video is "
    "served from the upstream: use variant=video or variant=thumbnail",
    "variant=spritesheet 仅适用于本网关保存的视频；此视频由上游提供：请使用 variant=video 或 "
    "variant=thumbnail",
)
SPRITESHEET_FAILED = _m(
    "spritesheet_failed", "The spritesheet cannot be made: {detail}", "无法生成拼图：{detail}"
)
FETCH_FAILED = _m(
    "fetch_failed", "Fetching the {variant} failed: {detail}", "获取 {variant} 失败：{detail}"
)
IDEMPOTENCY_KEY_REUSED = _m(
    "idempotency_key_reused",
    "This Idempotency-Key was already used {what} for task {task}; use a new key for a new request",
    "此 Idempotency-Key 已{what}用于任务 {task}；新的请求请使用新的密钥",
)
REUSED_IN_DIALECT = _m(
    "reused_in_dialect",
    "in another dialect ({first}, this request is {this})",
    "在另一种接口方言中（{first}，本次请求为 {this}）",
)
REUSED_ON_CHANNEL = _m(
    "reused_on_channel",
    "on another channel ({first}, this request is {this})",
    "在另一个频道上（{first}，本次请求为 {this}）",
)
REUSED_WITH_BODY = _m("reused_with_body", "with a different request body", "以不同的请求体")
CHAT_TIMEOUT = _m(
    "chat_timeout",
    "The video was not ready within {seconds} s. Task {task} keeps running: read it "
    "with GET /v1/video/generations/{task}",
    "视频未能在 {seconds} 秒内完成。任务 {task} 仍在运行："
    "请用 GET /v1/video/generations/{task} 查询",
)
MODEL_NOT_FOUND = _m(
    "model_not_found",
    "The model `{model}` does not exist; use one of {choices}",
    "模型 `{model}` 不存在；请使用以下之一：{choices}",
)
