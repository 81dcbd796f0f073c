"""JSON Schemas of what the gateway answers: every success body and each dialect's error shape.

The handlers build their JSON by hand (each dialect's shape is fixed by its clients, see
CONTRACT.md), so FastAPI cannot see what they return. These schemas say it, for the served
``/openapi.json``; the schemathesis run in CI (tests/acceptance/test_fuzz_openapi.py) checks
every answer against them, so they cannot drift from the code unnoticed.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
NUMBER: Schema = {"type": "number"}
BOOLEAN: Schema = {"type": "boolean"}
NULL: Schema = {"type": "null"}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, NULL]}


def obj(**properties: Schema) -> Schema:
    """An object with exactly these keys always present (more may be added later)."""
    return {"type": "object", "properties": properties, "required": sorted(properties)}


def array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


def enum(*values: str) -> Schema:
    return {"type": "string", "enum": list(values)}


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


# -- error shapes, one per dialect -------------------------------------------------------------
ERROR_SCHEMAS: dict[str, Schema] = {
    "OpenAIError": obj(error=obj(message=STRING, type=STRING, code=STRING)),
    # The reseller's: OpenAI's error, and the Go /luma project's detail its clients read.
    "ResellerError": obj(
        error=obj(message=STRING, type=STRING, code=STRING),
        detail=obj(reason=STRING, code=INTEGER),
    ),
    "LumaDetailError": obj(
        detail={
            "anyOf": [
                STRING,
                array(obj(type=STRING, loc=array({"type": ["string", "integer"]}), msg=STRING)),
            ]
        }
    ),
    "MessageError": obj(message=STRING),
    "NewApiTaskError": obj(code=STRING, message=STRING, data=NULL),
}

# -- shared success shapes ----------------------------------------------------------------------
_SIZED = obj(url=STRING, width=INTEGER, height=INTEGER)
_REQUEST_ECHO = obj(
    prompt=STRING,
    aspect_ratio=STRING,
    loop=BOOLEAN,
    model=STRING,
    resolution=STRING,
    duration=STRING,
)
FLAT_GENERATION = obj(
    id=STRING,
    prompt=STRING,
    state=enum("pending", "processing", "completed", "failed"),
    queue_state=NULL,
    created_at=STRING,
    batch_id=STRING,
    video=nullable(
        obj(
            url=STRING,
            width=INTEGER,
            height=INTEGER,
            thumbnail=nullable(STRING),
            download_url=STRING,
        )
    ),
    video_raw=nullable(_SIZED),
    thumbnail=nullable(_SIZED),
    last_frame=nullable(_SIZED),
    liked=NULL,
    estimate_wait_seconds=nullable(INTEGER),
    failure_reason=nullable(STRING),
    request=_REQUEST_ECHO,
    model=STRING,
    server_id=STRING,
)
TASK_RECORD = obj(
    id=STRING,
    task_id=STRING,
    platform=STRING,
    action=enum("LUMA_VIDEO", "LUMA_EXTEND"),
    status=enum("QUEUED", "SUBMITTED", "IN_PROGRESS", "SUCCESS", "FAILURE"),
    fail_reason=STRING,
    submit_time=nullable(INTEGER),
    start_time=nullable(INTEGER),
    finish_time=nullable(INTEGER),
    progress=STRING,
    created_at=STRING,
    updated_at=STRING,
    data=ref("FlatGeneration"),
)
OFFICIAL_GENERATION = obj(
    id=STRING,
    generation_type=enum("video"),
    state=enum("queued", "dreaming", "completed", "failed"),
    failure_reason=nullable(STRING),
    created_at=STRING,
    assets=obj(video=nullable(STRING), image=nullable(STRING), progress_video=NULL),
    model=STRING,
    request={
        "type": "object",
        "properties": {"generation_type": enum("video"), "prompt": STRING, "model": STRING},
        "required": ["generation_type", "prompt", "model"],
    },
)
# new-api's Go TaskDto: id int64, user_id int, Unix-second times, progress "N%".
NEWAPI_TASK = obj(
    id=INTEGER,
    task_id=STRING,
    platform=STRING,
    user_id=INTEGER,
    action=enum("LUMA_VIDEO", "LUMA_EXTEND"),
    status=enum("QUEUED", "SUBMITTED", "IN_PROGRESS", "SUCCESS", "FAILURE"),
    fail_reason=STRING,
    result_url=STRING,
    submit_time=INTEGER,
    start_time=INTEGER,
    finish_time=INTEGER,
    progress=STRING,
    created_at=INTEGER,
    updated_at=INTEGER,
    data=ref("FlatGeneration"),
)
OPENAI_VIDEO = obj(
    id=STRING,
    object=enum("video"),
    model=STRING,
    prompt=STRING,
    status=enum("queued", "in_progress", "completed", "failed"),
    progress=INTEGER,
    created_at=nullable(INTEGER),
    completed_at=nullable(INTEGER),
    expires_at=NULL,
    seconds=STRING,
    size=STRING,
    remixed_from_video_id=nullable(STRING),
    error=nullable(obj(code=STRING, message=STRING)),
)
USAGE = obj(
    consumed=INTEGER,
    capacity={"type": ["integer", "null"]},
    available={"type": ["integer", "null"]},
    subscription=obj(active=BOOLEAN, plan=STRING, type=NULL),
    plans=array({}),
)
UPLOADED = obj(id=STRING, presigned_url=nullable(STRING), public_url=nullable(STRING))
KEY_VIEW = obj(
    id=STRING,
    name=STRING,
    key_prefix=STRING,
    channels=array(STRING),
    credits=nullable(INTEGER),
    unlimited=BOOLEAN,
    rpm=nullable(INTEGER),
    max_running=nullable(INTEGER),
    plan=STRING,
    state=enum("active", "expired", "revoked"),
    created_at=nullable(STRING),
    expires_at=nullable(STRING),
    revoked_at=nullable(STRING),
)
ACCOUNT_VIEW = obj(
    id=STRING,
    name=STRING,
    kind=STRING,
    channels=array(STRING),
    max_concurrency=INTEGER,
    enabled=BOOLEAN,
    disabled_reason=nullable(STRING),
    cooldown_until=nullable(STRING),
    failures=INTEGER,
    last_error=nullable(STRING),
    created_at=nullable(STRING),
)
LEDGER_VIEW = obj(
    id=INTEGER,
    key_id=STRING,
    task_id=nullable(STRING),
    kind=STRING,
    delta=INTEGER,
    balance_after=nullable(INTEGER),
    note=nullable(STRING),
    created_at=nullable(STRING),
)
ADMIN_TASK = obj(
    id=STRING,
    tenant_id=STRING,
    channel=STRING,
    dialect=STRING,
    state=STRING,
    progress=INTEGER,
    failure_reason=nullable(STRING),
    account_id=nullable(STRING),
    upstream_id=nullable(STRING),
    server_id=nullable(STRING),
    attempts=INTEGER,
    has_callback=BOOLEAN,
    request=_REQUEST_ECHO,
    created_at=nullable(STRING),
    submitted_at=nullable(STRING),
    finished_at=nullable(STRING),
)
DELIVERY = obj(
    id=STRING,
    task_id=STRING,
    event=STRING,
    url=STRING,
    state=STRING,
    attempts=INTEGER,
    created_at=nullable(STRING),
    next_attempt_at=nullable(STRING),
    delivered_at=nullable(STRING),
    last_status=nullable(INTEGER),
    last_error=nullable(STRING),
    log=array({"type": "object"}),
)
CHAT_COMPLETION = obj(
    id=STRING,
    object=enum("chat.completion"),
    created=INTEGER,
    model=STRING,
    task_id=STRING,
    choices=array(
        obj(index=INTEGER, message=obj(role=STRING, content=STRING), finish_reason=STRING)
    ),
    usage=obj(prompt_tokens=INTEGER, completion_tokens=INTEGER, total_tokens=INTEGER),
)

SHARED_SCHEMAS: dict[str, Schema] = {
    **ERROR_SCHEMAS,
    "FlatGeneration": FLAT_GENERATION,
    "TaskRecord": TASK_RECORD,
    "NewApiTask": NEWAPI_TASK,
    "OfficialGeneration": OFFICIAL_GENERATION,
    "OpenAIVideo": OPENAI_VIDEO,
    "Usage": USAGE,
    "KeyView": KEY_VIEW,
    "AccountView": ACCOUNT_VIEW,
    "AdminTask": ADMIN_TASK,
    "Delivery": DELIVERY,
    "LedgerView": LEDGER_VIEW,
}

# -- what each operation answers on success: (method, path) -> (status, schema) ---------------
_FLAT = ref("FlatGeneration")
_KEY = ref("KeyView")
_ACCOUNT = ref("AccountView")

SUCCESS: dict[tuple[str, str], Schema] = {
    # reseller
    ("post", "/luma/generations"): _FLAT,
    ("post", "/vip/luma/generations"): _FLAT,
    ("post", "/pro/luma/generations"): _FLAT,
    ("post", "/luma/generations/{task_id}/extend"): _FLAT,
    ("post", "/vip/luma/generations/{task_id}/extend"): _FLAT,
    ("post", "/pro/luma/generations/{task_id}/extend"): _FLAT,
    ("get", "/luma/generations/{task_id}"): _FLAT,
    ("get", "/luma/generations"): array(_FLAT),  # the Go /luma project's list: a bare array
    ("get", "/ping"): obj(message=STRING),
    ("get", "/luma/generations/{task_id}/download_video_url"): obj(url=STRING),
    ("get", "/luma/generations/{task_id}/deliveries"): obj(data=array(ref("Delivery"))),
    ("post", "/luma/generations/file_upload"): UPLOADED,
    ("post", "/luma/tasks"): obj(code=STRING, message=STRING, data=array(ref("TaskRecord"))),
    ("get", "/luma/subscription/usage"): ref("Usage"),
    ("get", "/luma/users/me"): {
        "type": "object",
        "properties": {"id": STRING, "name": STRING, "usage": ref("Usage")},
        "required": ["id", "name", "usage"],
    },
    # official
    ("post", "/dream-machine/v1/generations"): ref("OfficialGeneration"),
    ("post", "/dream-machine/v1/generations/video"): ref("OfficialGeneration"),
    ("get", "/dream-machine/v1/generations"): obj(
        generations=array(ref("OfficialGeneration")),
        count=INTEGER,
        has_more=BOOLEAN,
        limit=INTEGER,
        offset=INTEGER,
    ),
    ("get", "/dream-machine/v1/generations/{task_id}"): ref("OfficialGeneration"),
    ("get", "/dream-machine/v1/generations/concepts/list"): array(STRING),
    ("get", "/dream-machine/v1/generations/camera_motion/list"): array(STRING),
    ("get", "/dream-machine/v1/credits"): obj(credit_balance=NUMBER),
    ("get", "/dream-machine/v1/ping"): obj(message=STRING),
    # luma-mock
    ("post", "/api/generations/create"): obj(message=STRING, data=array(_FLAT)),
    ("post", "/api/generations/upload"): obj(data=UPLOADED),
    ("get", "/api/generations"): obj(data=array(_FLAT)),
    ("get", "/api/generations/{task_id}"): obj(data=_FLAT),
    ("get", "/api/generations/usage"): obj(data=ref("Usage")),
    # chat, new-api, OpenAI videos, billing
    ("post", "/v1/chat/completions"): CHAT_COMPLETION,
    ("get", "/v1/models"): obj(
        object=enum("list"),
        data=array(obj(id=STRING, object=STRING, created=INTEGER, owned_by=STRING)),
    ),
    ("post", "/v1/video/generations"): obj(
        task_id=STRING, status=enum("queued", "in_progress", "succeeded", "failed")
    ),
    ("get", "/v1/models/{model_id}"): obj(
        id=STRING, object=STRING, created=INTEGER, owned_by=STRING
    ),
    ("get", "/v1/video/generations/{task_id}"): obj(
        code=STRING, message=STRING, data=ref("NewApiTask")
    ),
    ("post", "/v1/videos"): ref("OpenAIVideo"),
    ("post", "/v1/videos/{video_id}/remix"): ref("OpenAIVideo"),
    ("get", "/v1/videos/{video_id}"): ref("OpenAIVideo"),
    ("get", "/v1/videos"): obj(
        object=enum("list"),
        data=array(ref("OpenAIVideo")),
        first_id=nullable(STRING),
        last_id=nullable(STRING),
        has_more=BOOLEAN,
    ),
    ("delete", "/v1/videos/{video_id}"): obj(
        id=STRING, object=enum("video.deleted"), deleted=BOOLEAN
    ),
    ("get", "/v1/dashboard/billing/subscription"): obj(
        object=STRING,
        has_payment_method=BOOLEAN,
        soft_limit_usd=NUMBER,
        hard_limit_usd=NUMBER,
        system_hard_limit_usd=NUMBER,
        access_until=nullable(INTEGER),
    ),
    ("get", "/v1/dashboard/billing/usage"): obj(object=STRING, total_usage=NUMBER),
    ("get", "/healthz"): obj(status=STRING, version=STRING),
    ("get", "/readyz"): obj(status=STRING, revision=nullable(STRING)),
    # admin
    ("get", "/admin/keys"): obj(data=array(_KEY)),
    ("post", "/admin/keys"): {
        "allOf": [_KEY, obj(key=STRING, webhook_secret=STRING)],
    },
    ("get", "/admin/keys/{ref}"): {"allOf": [_KEY, obj(webhook_secret=STRING)]},
    ("post", "/admin/keys/{ref}/revoke"): _KEY,
    ("post", "/admin/keys/{ref}/top-up"): obj(id=STRING, name=STRING, credits=INTEGER),
    ("get", "/admin/accounts"): obj(data=array(_ACCOUNT)),
    ("post", "/admin/accounts/{ref}/enable"): _ACCOUNT,
    ("post", "/admin/accounts/{ref}/disable"): _ACCOUNT,
    ("get", "/admin/ledger"): obj(data=array(ref("LedgerView")), offset=INTEGER, limit=INTEGER),
    ("get", "/admin/tasks"): obj(data=array(ref("AdminTask")), total=INTEGER, offset=INTEGER),
    ("get", "/admin/tasks/{task_id}"): {
        "allOf": [ref("AdminTask"), obj(body={}, ledger=array({"type": "object"}))]
    },
    ("get", "/admin/tasks/{task_id}/deliveries"): obj(data=array(ref("Delivery"))),
}
