"""The OpenAPI tags of ``/docs``: one per dialect, in the order a reader meets them.

Each dialect module owns its tag name (``TAG``); the descriptions live here so ``/docs`` reads
as one guide to which dialect a client should use.
"""

from __future__ import annotations

from typing import Any

from lumagate.api import billing, chat, luma_mock, newapi_video, official, openai_videos, reseller

OPENAPI_TAGS: list[dict[str, Any]] = [
    {
        "name": reseller.TAG,
        "description": (
            "The main dialect (CONTRACT §1): `{p}/luma/generations` with `p` = none, `/vip` or "
            "`/pro` (the channel). Flat generation objects; errors "
            '`{"error": {"message", "type", "code"}}`. Bearer auth.'
        ),
    },
    {
        "name": official.TAG,
        "description": (
            "The official Luma Dream Machine API (CONTRACT §3): point the `lumaai` SDK at "
            "`http://<gateway>/dream-machine/v1`. Keyframes (image or earlier generation), "
            'callbacks, credits in USD cents. Errors `{"detail": …}`, validation as 422 lists.'
        ),
    },
    {
        "name": luma_mock.TAG,
        "description": (
            "The luma-mock API (CONTRACT §2, seed 003): `Secret-Key: <key>` (or Bearer), "
            'bodies wrapped in `{"data": …}`, multipart image upload. Errors `{"message": …}`.'
        ),
    },
    {
        "name": chat.TAG,
        "description": (
            "OpenAI chat completions (CONTRACT §5): models `luma`, `luma-video`, "
            "`luma_video_api`, `luma-video-ray2`, `luma-video-ray2-flash`. The last user "
            "message is the prompt, its `image_url` parts the start/end frames. `stream: true` "
            "streams progress and ends with a markdown link to the mp4."
        ),
    },
    {
        "name": newapi_video.TAG,
        "description": (
            "new-api's unified video API: submit answers `{task_id, status}`, fetch answers "
            '`{"code": "success", "message": "", "data": <task record>}`. Errors '
            '`{"code", "message", "data": null}`.'
        ),
    },
    {
        "name": openai_videos.TAG,
        "description": (
            "OpenAI's videos API: create (JSON or multipart), read, delete, and download the "
            "mp4 from `/v1/videos/{id}/content`."
        ),
    },
    {
        "name": billing.TAG,
        "description": (
            "one-api/new-api billing: the key's limit and usage in USD, from its credits and "
            "the credit ledger (`credit_usd` per credit, default 0.01)."
        ),
    },
    {"name": "Operations", "description": "Liveness and operations."},
]
