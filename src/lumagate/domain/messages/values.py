# ruff: noqa: RUF001  (Chinese text uses full-width punctuation on purpose)
"""Catalogue entries of the values below the errors: models, durations, channels, images.

The domain and media layers raise :class:`~lumagate.domain.messages.MessageError` (or a
subclass) with these, so a refusal worded there still reaches the tenant in their language.
"""

from __future__ import annotations

from lumagate.domain.messages.catalogue import define

# -- domain values ------------------------------------------------------------------------------
UNKNOWN_MODEL = define(
    "unknown_model",
    "unknown model {name} (use ray-2, ray-flash-2, ray-1-6, ray-v1, ray-v2)",
    "未知模型 {name}（可用 ray-2、ray-flash-2、ray-1-6、ray-v1、ray-v2）",
)
DURATION_FIVE_OR_NINE = define(
    "duration_five_or_nine", "duration must be 5s or 9s", "duration 必须是 5s 或 9s"
)
UNKNOWN_DURATION = define(
    "unknown_duration",
    "unknown duration {value} (use 5s or 9s)",
    "未知时长 {value}（可用 5s 或 9s）",
)
UNKNOWN_CHANNEL = define(
    "unknown_channel",
    "unknown channel {name} (use default, vip, pro)",
    "未知频道 {name}（可用 default、vip、pro）",
)
NO_CHANNEL = define("no_channel", "at least one channel is needed", "至少需要一个频道")
# -- images -----------------------------------------------------------------------------------
IMAGE_ACCEPTED = define(
    "image_accepted",
    "an http(s) URL or a data:image/<type>;base64,<data> URI (PNG, JPEG, WebP or GIF)",
    "http(s) URL 或 data:image/<type>;base64,<data> URI（PNG、JPEG、WebP 或 GIF）",
)
IMAGE_MUST_BE = define("image_must_be", "image must be {accepted}", "图片必须是 {accepted}")
IMAGE_MUST_BE_STRING = define(
    "image_must_be_string", "image must be a string: {accepted}", "图片必须是字符串：{accepted}"
)
IMAGE_LARGER_THAN = define("image_larger_than", "image is larger than {size}", "图片大于 {size}")
DATA_URI_NO_COMMA = define(
    "data_uri_no_comma",
    "malformed data URI: no ',' after the header; expected {accepted}",
    "data URI 格式错误：头部之后没有 ','；应为 {accepted}",
)
DATA_URI_TYPE = define(
    "data_uri_type",
    "data URI must declare an image type (data:image/<type>;base64,...), got {declared}",
    "data URI 必须声明图片类型（data:image/<type>;base64,...），收到 {declared}",
)
DATA_URI_BASE64 = define(
    "data_uri_base64",
    "data URI must be base64-encoded (data:image/<type>;base64,...)",
    "data URI 必须使用 base64 编码（data:image/<type>;base64,...）",
)
DATA_URI_BAD_BASE64 = define(
    "data_uri_bad_base64",
    "data URI payload is not valid base64",
    "data URI 的内容不是有效的 base64",
)
DATA_URI_EMPTY = define(
    "data_uri_empty", "data URI contains no image data", "data URI 不含图片数据"
)
DATA_URI_NOT_IMAGE = define(
    "data_uri_not_image",
    "data URI bytes are not a supported image (declared {declared}); accepted formats are PNG, "
    "JPEG, WebP and GIF",
    "data URI 的内容不是支持的图片（声明为 {declared}）；支持的格式为 PNG、JPEG、WebP 和 GIF",
)
IMAGE_NOT_DECODABLE = define(
    "image_not_decodable",
    "image bytes are not a decodable image; accepted formats are PNG, JPEG, WebP and GIF",
    "图片内容无法解码；支持的格式为 PNG、JPEG、WebP 和 GIF",
)
IMAGE_URL_TOO_LONG = define(
    "image_url_too_long",
    "image URL is longer than {maximum} characters",
    "图片 URL 超过 {maximum} 个字符",
)
IMAGE_URL_WHITESPACE = define(
    "image_url_whitespace",
    "image URL must not contain whitespace or control characters",
    "图片 URL 不能包含空白或控制字符",
)
IMAGE_URL_MALFORMED = define(
    "image_url_malformed", "image URL is malformed: {detail}", "图片 URL 格式错误：{detail}"
)
IMAGE_URL_NO_HOST = define(
    "image_url_no_host", "image URL must have a host", "图片 URL 必须包含主机名"
)
IMAGE_URL_PORT = define("image_url_port", "image URL has an invalid port", "图片 URL 的端口无效")
IMAGE_TOO_LARGE_TO_PROCESS = define(
    "image_too_large_to_process",
    "image is too large to process: {detail}",
    "图片太大，无法处理：{detail}",
)
IMAGE_PIXELS = define(
    "image_pixels",
    "image is {width}x{height} pixels; the limit is {side} pixels a side and {megapixels} "
    "megapixels",
    "图片为 {width}x{height} 像素；上限为每边 {side} 像素、总计 {megapixels} 百万像素",
)
