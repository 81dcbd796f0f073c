# ruff: noqa: RUF001  (Chinese text uses full-width punctuation on purpose)
"""Catalogue entries of the create forms: new-api's many submit shapes and OpenAI's video body.

The new-api entries are the problem after ``field:`` (``_bad(field, msg.FORM_STRING())`` renders
``image: must be a string``), so one entry serves every field it can be said of.
"""

from __future__ import annotations

from lumagate.domain.messages.catalogue import define

# -- new-api: the problem with one field --------------------------------------------------------
FORM_STRING = define("form_string", "must be a string", "必须是字符串")
FORM_BOOLEAN = define("form_boolean", "must be a boolean", "必须是布尔值")
FORM_INTEGER = define("form_integer", "must be an integer", "必须是整数")
FORM_OBJECT = define("form_object", "must be an object", "必须是对象")
FORM_LIST = define("form_list", "must be a list", "必须是列表")
FORM_TRUE_FALSE = define("form_true_false", "must be true or false", "必须是 true 或 false")
FORM_HTTP_URL = define("form_http_url", "must be an http(s) URL", "必须是 http(s) URL")
FORM_SECONDS_NUMBER = define(
    "form_seconds_number", "must be a number of seconds (5 or 9)", "必须是秒数（5 或 9）"
)
FORM_SECONDS_UNRENDERABLE = define(
    "form_seconds_unrenderable",
    "{value} cannot be rendered: use 5 or 9 seconds",
    "无法渲染 {value}：请使用 5 或 9 秒",
)
FORM_NOT_SUPPORTED_GO = define(
    "form_not_supported_go",
    "{value} is not supported (renders are 24 fps, one video, and the upstreams take no seed)",
    "不支持 {value}（渲染固定为 24 fps、每次一个视频，且上游不接受 seed）",
)
FORM_URL_ONLY = define("form_url_only", "only url is supported", "仅支持 url")
FORM_MEDIA_OBJECT = define(
    "form_media_object",
    'must be an object like {{"type": "image", "url": …}}',
    '必须是对象，例如 {{"type": "image", "url": …}}',
)
FORM_MEDIA_FIELD = define(
    "form_media_field",
    "is not a media field (type, url, image_url, data)",
    "不是 media 的字段（可用 type、url、image_url、data）",
)
FORM_MEDIA_TYPE = define(
    "form_media_type", "{value} is not supported: only images", "不支持 {value}：仅支持图片"
)
FORM_MEDIA_ONE_SOURCE = define(
    "form_media_one_source",
    "needs exactly one of url, image_url, data",
    "url、image_url、data 必须且只能给出一个",
)
FORM_IMAGE_STRING = define(
    "form_image_string", "must be a string (URL or data URI)", "必须是字符串（URL 或 data URI）"
)
FORM_IMAGES_LIST = define(
    "form_images_list",
    "must be a list of strings (URLs or data URIs)",
    "必须是字符串列表（URL 或 data URI）",
)
FORM_TWO_IMAGES = define(
    "form_two_images", "takes at most two images (start, end)", "最多两张图片（起始帧、结束帧）"
)
FORM_END_TWICE = define(
    "form_end_twice", "and {other} both give the end image", "与 {other} 重复指定了结束帧图片"
)
FORM_WH_INTEGERS = define(
    "form_wh_integers", "width and height must be integers", "width 和 height 必须是整数"
)
FORM_WH_BOTH = define(
    "form_wh_both",
    "width and height must both be given, as integers",
    "width 和 height 必须同时提供，且都是整数",
)
FORM_NOT_A_FIELD = define(
    "form_not_a_field",
    "is not a field of this API (see docs/dialects.md, new-api)",
    "不是此接口的字段（见 docs/dialects.md 的 new-api 部分）",
)
FORM_METADATA_UNSUPPORTED = define(
    "form_metadata_unsupported",
    "is not supported (use {supported})",
    "不受支持（可用 {supported}）",
)
FORM_JSON_IN_MULTIPART = define(
    "form_json_in_multipart", "must be JSON in a multipart body", "在 multipart 请求体中必须是 JSON"
)
FORM_FILE_FIELDS = define(
    "form_file_fields",
    "only image, images and input_reference may be files",
    "只有 image、images 和 input_reference 可以是文件",
)
# -- new-api: whole-request problems ----------------------------------------------------------
FORM_DISAGREE = define(
    "form_disagree",
    "{name} is given more than once with different values: {named}",
    "{name} 被多次给出且取值不同：{named}",
)
FORM_ONE_IMAGE_FORM = define(
    "form_one_image_form",
    "give the images in one of image, images or media (got {first} and {second})",
    "图片只能通过 image、images 或 media 其中一种方式给出（收到了 {first} 和 {second}）",
)
FORM_FILES_OR_FIELDS = define(
    "form_files_or_fields",
    "give the images either as files or as fields",
    "图片请只以文件或只以字段的形式给出，不要混用",
)
# -- OpenAI's video body ----------------------------------------------------------------------
REFERENCE_FILE_ID = define(
    "reference_file_id",
    "input_reference.file_id is not supported by this gateway (it has no Files API): upload the "
    "image as input_reference or give input_reference.image_url",
    "本网关不支持 input_reference.file_id（没有 Files API）：请将图片作为 input_reference 上传，"
    "或提供 input_reference.image_url",
)
REFERENCE_NEEDS_IMAGE = define(
    "reference_needs_image",
    "input_reference needs image_url (a URL or data URL) or a file upload",
    "input_reference 需要 image_url（URL 或 data URL）或上传的文件",
)
REFERENCE_PART = define(
    "reference_part",
    "input_reference.{part} is not a field of input_reference (image_url, file_id)",
    "input_reference.{part} 不是 input_reference 的字段（可用 image_url、file_id）",
)
REFERENCE_ONLY_FILE = define(
    "reference_only_file",
    "{name}: only input_reference may be a file",
    "{name}：只有 input_reference 可以是文件",
)
