# ruff: noqa: RUF001  (Chinese text uses full-width punctuation on purpose)
"""Catalogue entries of one dialect each: chat, the official API, files, idempotency, models."""

from __future__ import annotations

from lumagate.domain.messages.catalogue import define

# -- chat -------------------------------------------------------------------------------------
CHAT_USER_MESSAGE = define(
    "chat_user_message", "messages: a user message is required", "messages：需要一条用户消息"
)
CHAT_IMAGE_URL_STRING = define(
    "chat_image_url_string",
    "messages.content.{index}.image_url.url must be a string",
    "messages.content.{index}.image_url.url 必须是字符串",
)
CHAT_TWO_IMAGES = define(
    "chat_two_images",
    "at most two images (start and end frame) per message",
    "每条消息最多两张图片（起始帧和结束帧）",
)
CHAT_NO_TEXT = define(
    "chat_no_text",
    "the last user message has no text or image",
    "最后一条用户消息既没有文字也没有图片",
)
# -- the official dialect ---------------------------------------------------------------------
GENERATION_TYPE = define(
    "generation_type",
    "generation_type {value} is not supported by this gateway (only video generations are)",
    "本网关不支持 generation_type {value}（仅支持视频生成）",
)
NO_KEYFRAMES = define("no_keyframes", "No keyframes provided", "未提供关键帧")
PROMPT_REQUIRED = define("prompt_required", "Prompt is required", "必须填写提示词")
PROMPT_TOO_SHORT = define(
    "prompt_too_short",
    "Prompt is too short, minimum length is {minimum} characters",
    "提示词太短，至少需要 {minimum} 个字符",
)
PROMPT_TOO_LONG = define(
    "prompt_too_long",
    "Prompt is too long, maximum length is {maximum} characters",
    "提示词太长，最多 {maximum} 个字符",
)
LOOP_END_FRAME = define(
    "loop_end_frame", "Loop is not supported for end frame", "使用结束帧时不支持循环"
)
KEYFRAME_URL = define(
    "keyframe_url",
    "keyframes.{name}.url must be an http(s) URL or a data:image URI",
    "keyframes.{name}.url 必须是 http(s) URL 或 data:image URI",
)
CONCEPT_KEY_EMPTY = define(
    "concept_key_empty", "concepts[].key must not be empty", "concepts[].key 不能为空"
)
GENERATION_NOT_FOUND = define("generation_not_found", "Generation not found", "生成任务不存在")
GENERATION_ID_NOT_FOUND = define(
    "generation_id_not_found", "Generation {id} not found", "生成任务 {id} 不存在"
)
GENERATION_NOT_COMPLETED = define(
    "generation_not_completed", "Generation {id} is not completed", "生成任务 {id} 尚未完成"
)
GENERATION_NO_FRAME = define(
    "generation_no_frame",
    "Generation {id} has no frame to start from",
    "生成任务 {id} 没有可作为起点的画面",
)
NOT_SUPPORTED_HERE = define(
    "not_supported_here", "{what} is not supported by this gateway", "本网关不支持 {what}"
)
INPUT_INTEGER = define("input_integer", "Input should be a valid integer", "输入必须是有效的整数")
INPUT_AT_LEAST = define(
    "input_at_least",
    "Input should be greater than or equal to {minimum}",
    "输入必须大于或等于 {minimum}",
)
INPUT_AT_MOST = define(
    "input_at_most",
    "Input should be less than or equal to {maximum}",
    "输入必须小于或等于 {maximum}",
)
NO_ACTIVE_KEY_MATCHES = define(
    "no_active_key_matches", "No active key matches {ref}", "没有与 {ref} 匹配的有效密钥"
)
NO_ACCOUNT_MATCHES = define(
    "no_account_matches", "No account matches {ref}", "没有与 {ref} 匹配的账号"
)
FILE_MISSING = define("file_missing", "The {variant} file is missing", "{variant} 文件缺失")
MEDIA_STORE_UNAVAILABLE = define(
    "media_store_unavailable",
    "The media store is unavailable for the {variant}",
    "媒体存储暂时不可用，无法读取 {variant}",
)
UPSTREAM_FILE_STATUS = define(
    "upstream_file_status",
    "Fetching the {variant} failed: upstream answered HTTP {status}",
    "获取 {variant} 失败：上游返回 HTTP {status}",
)
SPRITESHEET_UPSTREAM_ONLY = define(
    "spritesheet_upstream_only",
    "variant=spritesheet is available only for videos this gateway stores; this video is "
    "served from the upstream: use variant=video or variant=thumbnail",
    "variant=spritesheet 仅适用于本网关保存的视频；此视频由上游提供：请使用 variant=video 或 "
    "variant=thumbnail",
)
SPRITESHEET_FAILED = define(
    "spritesheet_failed", "The spritesheet cannot be made: {detail}", "无法生成拼图：{detail}"
)
FETCH_FAILED = define(
    "fetch_failed", "Fetching the {variant} failed: {detail}", "获取 {variant} 失败：{detail}"
)
IDEMPOTENCY_KEY_REUSED = define(
    "idempotency_key_reused",
    "This Idempotency-Key was already used {what} for task {task}; use a new key for a new request",
    "此 Idempotency-Key 已{what}用于任务 {task}；新的请求请使用新的密钥",
)
REUSED_IN_DIALECT = define(
    "reused_in_dialect",
    "in another dialect ({first}, this request is {this})",
    "在另一种接口方言中（{first}，本次请求为 {this}）",
)
REUSED_ON_CHANNEL = define(
    "reused_on_channel",
    "on another channel ({first}, this request is {this})",
    "在另一个频道上（{first}，本次请求为 {this}）",
)
REUSED_WITH_BODY = define("reused_with_body", "with a different request body", "以不同的请求体")
CHAT_TIMEOUT = define(
    "chat_timeout",
    "The video was not ready within {seconds} s. Task {task} keeps running: read it "
    "with GET /v1/video/generations/{task}",
    "视频未能在 {seconds} 秒内完成。任务 {task} 仍在运行："
    "请用 GET /v1/video/generations/{task} 查询",
)
MODEL_NOT_FOUND = define(
    "model_not_found",
    "The model `{model}` does not exist; use one of {choices}",
    "模型 `{model}` 不存在；请使用以下之一：{choices}",
)
MODEL_DOES_NOT_EXIST = define(
    "model_does_not_exist", "The model '{model}' does not exist", "模型 '{model}' 不存在"
)
# -- cancel and retention ---------------------------------------------------------------------
TASK_ALREADY_ENDED = define(
    "task_already_ended",
    "The task has already ended ({state}); only an unfinished task can be cancelled",
    "任务已经结束（{state}）；只能取消未完成的任务",
)
TASK_KEPT_CHANGING = define(
    "task_kept_changing",
    "The task kept changing state; read it and try again",
    "任务状态一直在变化；请重新读取后再试",
)
MEDIA_REMOVED = define(
    "media_removed",
    "The media of this task were removed by the gateway's retention policy "
    "(LUMAGATE_MEDIA_RETENTION_DAYS); generate the video again to get a new one.",
    "此任务的媒体文件已按网关的保留策略（LUMAGATE_MEDIA_RETENTION_DAYS）删除；"
    "请重新生成视频以获取新的文件。",
)
OFFICIAL_INVALID = define("official_invalid", "Invalid request", "请求无效")
# -- /files and the body deadline -------------------------------------------------------------
FILE_NOT_FOUND = define("file_not_found", "file not found", "文件不存在")
MEDIA_STORE_DOWN = define(
    "media_store_down",
    "the media store is unavailable; try again",
    "媒体存储暂时不可用，请稍后重试",
)
BODY_LATE = define(
    "body_late", "The request body did not arrive in time", "请求体未能在规定时间内送达"
)
