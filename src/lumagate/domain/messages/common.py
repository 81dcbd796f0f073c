# ruff: noqa: RUF001  (Chinese text uses full-width punctuation on purpose)
"""Catalogue entries shared by every dialect: requests, bodies, field values, keys, billing."""

from __future__ import annotations

from lumagate.domain.messages.catalogue import define

# -- general ----------------------------------------------------------------------------------
VERBATIM = define(
    "verbatim", "{text}", "{text}"
)  # a text from outside the catalogue (an upstream's)
FIELD_DETAIL = define("field_detail", "{field}: {detail}", "{field}：{detail}")
NOT_FOUND = define("not_found", "Not found", "未找到")
METHOD_NOT_ALLOWED = define("method_not_allowed", "Method not allowed", "不支持该请求方法")
INTERNAL_ERROR = define(
    "internal_error",
    "The gateway hit an internal error; the request was not completed",
    "网关内部错误，请求未完成",
)
INVALID_REQUEST = define("invalid_request", "invalid request", "请求无效")
FIELD_REQUIRED = define("field_required", "{field} is required", "缺少必填字段 {field}")
# -- tasks ------------------------------------------------------------------------------------
TASK_NOT_FOUND = define("task_not_found", "Task not found", "任务不存在")
PROMPT_OR_IMAGE = define(
    "prompt_or_image",
    "{field} is required unless an image is given",
    "未提供图片时必须填写 {field}",
)
EXTEND_NOT_COMPLETED = define(
    "extend_not_completed", "Only a completed task can be extended", "只有已完成的任务才能延长"
)
VIDEO_NOT_READY = define(
    "video_not_ready",
    "The video is not ready yet: the task has not completed",
    "视频尚未就绪：任务还没有完成",
)
ONE_OF = define("one_of", "{field} must be one of {choices}", "{field} 必须是以下之一：{choices}")
STATE_ONE_OF = define(
    "state_one_of",
    "state must be one of {choices} (got {got})",
    "state 必须是以下之一：{choices}（收到 {got}）",
)
NOT_AN_IMAGE = define(
    "not_an_image",
    "{field} is not a PNG, JPEG, WebP or GIF image",
    "{field} 不是 PNG、JPEG、WebP 或 GIF 图片",
)
TOO_LARGE_FILE = define("too_large_file", "{field} is too large", "{field} 太大")
# -- capabilities -----------------------------------------------------------------------------
NOT_DELIVERABLE = define(
    "not_deliverable",
    "{field} {asked} is not available on channel {channel}: {limit}",
    "频道 {channel} 无法提供 {field} {asked}：{limit}",
)
LIMIT_AT_MOST = define("limit_at_most", "at most {value}", "最多 {value}")
LIMIT_ONE_OF = define("limit_one_of", "one of {values}", "可选 {values}")
LIMIT_USE = define("limit_use", "use {values}", "请使用 {values}")
LIMIT_NO_LOOP = define("limit_no_loop", "no loop", "不支持循环")
LIMIT_NO_END_FRAME = define("limit_no_end_frame", "no end frame", "不支持结束帧")
NO_ACCOUNT_FOR_CHANNEL = define(
    "no_account_for_channel",
    "No upstream account available for channel {channel}",
    "频道 {channel} 没有可用的上游账号",
)
JOINED = define("joined", "{first}; {rest}", "{first}；{rest}")
# -- bodies and the boundary ------------------------------------------------------------------
BODY_TOO_LARGE = define(
    "body_too_large", "Request body is larger than {limit} bytes", "请求体超过 {limit} 字节"
)
MALFORMED_JSON = define(
    "malformed_json", "Malformed JSON body: {detail}", "JSON 请求体格式错误：{detail}"
)
BODY_NOT_OBJECT = define(
    "body_not_object", "The JSON body must be an object", "JSON 请求体必须是一个对象"
)
MALFORMED_MULTIPART = define(
    "malformed_multipart",
    "Malformed multipart body: {detail}",
    "multipart 请求体格式错误：{detail}",
)
SEND_MULTIPART_FILE = define(
    "send_multipart_file",
    "Send the image as multipart/form-data field 'file'",
    "请以 multipart/form-data 的 'file' 字段发送图片",
)
MULTIPART_FILE_MISSING = define(
    "multipart_file_missing",
    "file is required (multipart field 'file')",
    "缺少 file（multipart 字段 'file'）",
)
NOT_JSON_NUMBER = define(
    "not_json_number",
    "The JSON body holds {name}, which is not a JSON number",
    "JSON 请求体包含 {name}，它不是合法的 JSON 数字",
)
PATH_NUL = define(
    "path_nul",
    "The path must not contain the NUL character (U+0000)",
    "路径不能包含 NUL 字符 (U+0000)",
)
QUERY_PROBLEM = define(
    "query_problem", "query parameter {name} {problem}", "查询参数 {name} {problem}"
)
QUERY_TOO_LONG = define(
    "query_too_long",
    "query parameter {name} is longer than {maximum} characters",
    "查询参数 {name} 超过 {maximum} 个字符",
)
JSON_TOO_DEEP = define(
    "json_too_deep",
    "The JSON body is nested more than {depth} levels deep",
    "JSON 请求体嵌套超过 {depth} 层",
)
# -- field values -----------------------------------------------------------------------------
FIELD_PROBLEM = define("field_problem", "{field} {problem}", "{field} {problem}")
TEXT_NUL = define(
    "text_nul", "must not contain the NUL character (U+0000)", "不能包含 NUL 字符 (U+0000)"
)
TEXT_SURROGATE = define(
    "text_surrogate",
    "must be valid Unicode (it holds a lone surrogate)",
    "必须是合法的 Unicode（含有孤立的代理字符）",
)
TOO_LONG = define(
    "too_long", "{field} is longer than {maximum} characters", "{field} 超过 {maximum} 个字符"
)
BETWEEN = define(
    "between",
    "{field} must be between {minimum} and {maximum}",
    "{field} 必须在 {minimum} 与 {maximum} 之间",
)
FINITE = define("finite", "{field} must be a finite number", "{field} 必须是有限的数值")
MUST_BE_INTEGER = define("must_be_integer", "{field} must be an integer", "{field} 必须是整数")
MUST_BE_STRING = define("must_be_string", "{field} must be a string", "{field} 必须是字符串")
MUST_BE_BOOLEAN = define("must_be_boolean", "{field} must be a boolean", "{field} 必须是布尔值")
MUST_BE_POSITIVE = define("must_be_positive", "{field} must be positive", "{field} 必须是正数")
NOT_EMPTY = define("not_empty", "{field} must not be empty", "{field} 不能为空")
NOT_ZERO = define("not_zero", "{field} must not be zero", "{field} 不能为零")
HTTP_URL = define("http_url", "{field} must be an http(s) URL", "{field} 必须是 http(s) URL")
DATE_FORMAT = define(
    "date_format", "{field} must be a date like 2024-06-01", "{field} 必须是日期，例如 2024-06-01"
)
END_BEFORE_START = define(
    "end_before_start", "end_date must not be before start_date", "end_date 不能早于 start_date"
)
SIZE_TWO_INTEGERS = define(
    "size_two_integers",
    "size must be two positive integers like 1280x720",
    "size 必须是两个正整数，例如 1280x720",
)
SIZE_FORMAT = define("size_format", "size must look like 1280x720", "size 的格式应为 1280x720")
SECONDS_NUMBER = define(
    "seconds_number", "seconds must be a number like 5", "seconds 必须是数字，例如 5"
)
SECONDS_POSITIVE = define(
    "seconds_positive", "seconds must be a positive number", "seconds 必须是正数"
)
ORDER_ASC_DESC = define("order_asc_desc", "order must be asc or desc", "order 必须是 asc 或 desc")
EXTEND_NEEDS_PROMPT = define(
    "extend_needs_prompt", "{field} is required to extend", "延长视频时必须填写 {field}"
)
TWO_IMAGES = define(
    "two_images",
    "images takes at most two images (start, end)",
    "images 最多两张图片（起始帧、结束帧）",
)
# -- keys, auth and billing -------------------------------------------------------------------
MISSING_KEY = define(
    "missing_key",
    "Missing API key: send 'Authorization: Bearer <key>'",
    "缺少 API 密钥：请发送 'Authorization: Bearer <key>'",
)
BAD_KEY = define("bad_key", "Invalid, expired or revoked API key", "API 密钥无效、已过期或已吊销")
CHANNEL_NOT_ALLOWED = define(
    "channel_not_allowed",
    "This key may not use the {channel} channel",
    "此密钥不能使用 {channel} 频道",
)
ADMIN_KEY = define("admin_key", "Missing or wrong admin key", "缺少管理员密钥或密钥错误")
METRICS_TOKEN = define(
    "metrics_token", "Missing or wrong metrics token", "缺少 metrics 令牌或令牌错误"
)
NO_KEY_MATCHES = define("no_key_matches", "No key matches {ref}", "没有与 {ref} 匹配的密钥")
RATE_PER_MINUTE = define(
    "rate_per_minute",
    "Rate limit reached: this key may create {rpm} tasks per minute",
    "已达到速率限制：此密钥每分钟最多创建 {rpm} 个任务",
)
TOO_MANY_RUNNING = define(
    "too_many_running",
    "Too many tasks running: this key may have {limit} unfinished at once",
    "运行中的任务过多：此密钥同时最多有 {limit} 个未完成的任务",
)
NOT_ENOUGH_CREDITS = define(
    "not_enough_credits",
    "Not enough credits: this generation costs {cost}, the balance is {balance}",
    "额度不足：本次生成需要 {cost}，余额为 {balance}",
)
STATE_NOT_TASK_STATE = define(
    "state_not_task_state", "state is not a task state", "state 不是有效的任务状态"
)
CONTENT_MISSING = define("content_missing", "This task has no {variant}", "此任务没有 {variant}")
TOP_UP_UNLIMITED = define(
    "top_up_unlimited",
    "this key has no credit limit; nothing to top up",
    "此密钥没有额度上限，无需充值",
)
TOP_UP_BALANCE = define("top_up_balance", "the balance is only {balance}", "余额只有 {balance}")
# -- images given by URL ----------------------------------------------------------------------
IMAGE_NOT_FETCHED = define(
    "image_not_fetched",
    "the image at {field} could not be fetched: {reason}",
    "无法获取 {field} 处的图片：{reason}",
)
IMAGE_NOT_ALLOWED = define(
    "image_not_allowed",
    "the image at {field} is not allowed: {reason}",
    "不允许使用 {field} 处的图片：{reason}",
)
