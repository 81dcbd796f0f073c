"""Every error case of each dialect, answered in that dialect's own error shape and never a 5xx:
malformed JSON, wrong types, missing fields, a bad key, an unknown id, and another tenant's id
(indistinguishable from an unknown one)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.acceptance import client, start_server
from tests.support.databases import ServerDatabase
from tests.support.servers import GatewayServer

pytestmark = pytest.mark.slow

UNKNOWN = "00000000-0000-4000-8000-000000000000"
JSON = {"Content-Type": "application/json"}


@dataclass
class Env:
    server: GatewayServer
    key: str
    http: httpx.Client
    stranger: httpx.Client
    foreign_id: str


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, server_database: ServerDatabase) -> Iterator[Env]:
    server = start_server(tmp_path_factory.mktemp("errors") / "data", **server_database())
    try:
        key = server.create_key("owner")
        other = server.create_key("other")
        with (
            client(server.base_url, key) as http,
            client(server.base_url, other) as other_http,
            client(server.base_url, "not-a-real-key") as stranger,
        ):
            created = other_http.post(
                "/luma/generations",
                json={"user_prompt": "someone else's", "aspect_ratio": "1:1", "resolution": "540p"},
            )
            assert created.status_code == 200, created.text
            yield Env(server, key, http, stranger, created.json()["id"])
    finally:
        server.stop()


# -- the shapes ------------------------------------------------------------------------------
def mock_shape(body: Any) -> str:
    assert set(body) == {"message"} and isinstance(body["message"], str), body
    return str(body["message"])


def official_shape(body: Any) -> str:
    assert set(body) == {"detail"}, body
    detail = body["detail"]
    if isinstance(detail, list):
        assert detail and all({"type", "loc", "msg"} <= set(item) for item in detail), body
        return " ".join(f"{'.'.join(map(str, i['loc']))}: {i['msg']}" for i in detail)
    assert isinstance(detail, str) and detail, body
    return detail


def openai_shape(body: Any) -> str:
    assert set(body) == {"error"}, body
    error = body["error"]
    assert all(isinstance(error.get(k), str) and error[k] for k in ("message", "type", "code"))
    return str(error["message"])


def newapi_shape(body: Any) -> str:
    assert set(body) == {"code", "message", "data"} and body["data"] is None, body
    assert isinstance(body["code"], str) and body["code"], body
    return str(body["message"])


Shape = Callable[[Any], str]


def expect(response: httpx.Response, status: int, shape: Shape, mentions: str = "") -> str:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url}: {response.status_code} "
        f"{response.text[:300]}"
    )
    message = shape(response.json())
    assert mentions in message, f"{mentions!r} not in {message!r}"
    return message


# -- bodies: malformed JSON, wrong types, missing fields --------------------------------------
BODY_CASES: list[tuple[str, str, Shape, int, int, str, dict[str, Any], str]] = [
    # (dialect, path, shape, malformed status, type status, wrong field, wrong body, missing)
    ("luma_mock", "/api/generations/create", mock_shape, 400, 400, "prompt", {"prompt": 5},
     "prompt"),
    ("official", "/dream-machine/v1/generations", official_shape, 422, 422, "prompt",
     {"prompt": 5}, "Prompt is required"),
    ("chat", "/v1/chat/completions", openai_shape, 400, 400, "model",
     {"model": 7, "messages": []}, "model"),
    ("newapi", "/v1/video/generations", newapi_shape, 400, 400, "prompt", {"prompt": ["x"]},
     "prompt"),
    ("openai", "/v1/videos", openai_shape, 400, 400, "prompt", {"prompt": {"a": 1}}, "prompt"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "shape", "malformed", "typed", "field", "wrong", "missing"),
    [case[1:] for case in BODY_CASES],
    ids=[case[0] for case in BODY_CASES],
)
def test_bad_bodies(
    env: Env,
    path: str,
    shape: Shape,
    malformed: int,
    typed: int,
    field: str,
    wrong: dict[str, Any],
    missing: str,
) -> None:
    expect(env.http.post(path, content=b'{"prompt": ', headers=JSON), malformed, shape)
    expect(env.http.post(path, content=b"[1, 2]", headers=JSON), malformed, shape)
    expect(env.http.post(path, json=wrong), typed, shape, field)
    expect(env.http.post(path, json={}), 400, shape, missing)


# -- keys --------------------------------------------------------------------------------------
KEY_CASES: list[tuple[str, str, str, Shape]] = [
    ("GET", "/api/generations", "luma_mock", mock_shape),
    ("POST", "/api/generations/create", "luma_mock", mock_shape),
    ("GET", "/api/generations/usage", "luma_mock", mock_shape),
    ("GET", "/dream-machine/v1/generations", "official", official_shape),
    ("POST", "/dream-machine/v1/generations", "official", official_shape),
    ("GET", "/dream-machine/v1/credits", "official", official_shape),
    ("POST", "/v1/chat/completions", "chat", openai_shape),
    ("GET", "/v1/models", "chat", openai_shape),
    ("POST", "/v1/video/generations", "newapi", newapi_shape),
    ("GET", f"/v1/video/generations/{UNKNOWN}", "newapi", newapi_shape),
    ("POST", "/v1/videos", "openai", openai_shape),
    ("GET", f"/v1/videos/{UNKNOWN}/content", "openai", openai_shape),
    ("GET", "/v1/dashboard/billing/subscription", "billing", openai_shape),
    ("GET", "/v1/dashboard/billing/usage", "billing", openai_shape),
]


@pytest.mark.parametrize(
    ("method", "path", "shape"),
    [(m, p, s) for m, p, _, s in KEY_CASES],
    ids=[f"{d}:{m} {p}" for m, p, d, _ in KEY_CASES],
)
def test_bad_or_missing_key_is_401(env: Env, method: str, path: str, shape: Shape) -> None:
    expect(env.stranger.request(method, path, json={"prompt": "a cat"}), 401, shape)
    with httpx.Client(base_url=env.server.base_url) as anonymous:
        expect(anonymous.request(method, path, json={"prompt": "a cat"}), 401, shape)


def test_luma_mock_secret_key_header(env: Env) -> None:
    with httpx.Client(base_url=env.server.base_url) as http:
        expect(http.get("/api/generations", headers={"Secret-Key": "wrong"}), 401, mock_shape)
        ok = http.get("/api/generations", headers={"Secret-Key": env.key})
        assert ok.status_code == 200 and ok.json() == {"data": []}


# -- unknown and foreign ids -----------------------------------------------------------------
ID_CASES: list[tuple[str, str, str, Shape]] = [
    ("GET", "/api/generations/{id}", "luma_mock", mock_shape),
    ("GET", "/dream-machine/v1/generations/{id}", "official", official_shape),
    ("DELETE", "/dream-machine/v1/generations/{id}", "official", official_shape),
    ("GET", "/v1/video/generations/{id}", "newapi", newapi_shape),
    ("GET", "/v1/videos/{id}", "openai", openai_shape),
    ("GET", "/v1/videos/{id}/content", "openai", openai_shape),
    ("DELETE", "/v1/videos/{id}", "openai", openai_shape),
]


@pytest.mark.parametrize(
    ("method", "template", "shape"),
    [(m, t, s) for m, t, _, s in ID_CASES],
    ids=[f"{d}:{m} {t}" for m, t, d, _ in ID_CASES],
)
def test_unknown_and_foreign_ids_are_the_same_404(
    env: Env, method: str, template: str, shape: Shape
) -> None:
    unknown = env.http.request(method, template.format(id=UNKNOWN))
    foreign = env.http.request(method, template.format(id=env.foreign_id))
    garbage = env.http.request(method, template.format(id="not-an-id"))
    expect(unknown, 404, shape)
    expect(foreign, 404, shape)
    expect(garbage, 404, shape)
    assert unknown.json() == foreign.json() == garbage.json()


def test_foreign_task_cannot_be_a_keyframe_or_in_a_list(env: Env) -> None:
    body = {
        "prompt": "continue someone else's video",
        "keyframes": {"frame0": {"type": "generation", "id": env.foreign_id}},
    }
    response = env.http.post("/dream-machine/v1/generations", json=body)
    expect(response, 400, official_shape, f"Generation {env.foreign_id} not found")
    listed = env.http.get("/dream-machine/v1/generations", params={"limit": 100}).json()
    assert env.foreign_id not in {g["id"] for g in listed["generations"]}


# -- the official dialect's own rules ---------------------------------------------------------
def test_official_rules_with_lumas_messages(env: Env) -> None:
    path = "/dream-machine/v1/generations"
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"prompt": ""}, 400, "Prompt is required"),
        ({"prompt": "ab"}, 400, "Prompt is too short, minimum length is 3 characters"),
        ({"prompt": "x" * 5001}, 400, "Prompt is too long"),
        ({"prompt": "a loop", "keyframes": {}}, 400, "No keyframes provided"),
        (
            {
                "prompt": "a loop",
                "loop": True,
                "keyframes": {"frame1": {"type": "image", "url": "https://example.com/a.jpg"}},
            },
            400,
            "Loop is not supported for end frame",
        ),
        ({"prompt": "a cat", "model": "ray-9"}, 422, "body.model"),
        ({"prompt": "a cat", "resolution": "8k"}, 422, "body.resolution"),
        ({"prompt": "a cat", "keyframes": {"frame0": {"type": "video"}}}, 422, "frame0"),
        ({"prompt": "a cat", "generation_type": "image"}, 400, "not supported by this gateway"),
        ({"prompt": "a cat", "callback_url": "ftp://x"}, 400, "callback_url"),
        (
            {"prompt": "a cat", "keyframes": {"frame0": {"type": "image", "url": "file:///x"}}},
            400,
            "keyframes.frame0.url",
        ),
    ]
    for body, status, mentions in cases:
        expect(env.http.post(path, json=body), status, official_shape, mentions)
    expect(env.http.get(path, params={"limit": "many"}), 422, official_shape, "query.limit")
    expect(env.http.get(path, params={"offset": "-1"}), 422, official_shape, "query.offset")
    expect(env.http.get("/dream-machine/v1/nowhere"), 404, official_shape)
    for unsupported in (
        "/generations/image",
        "/generations/image/reframe",
        "/generations/video/modify",
        "/generations/video/reframe",
        f"/generations/{UNKNOWN}/upscale",
        f"/generations/{UNKNOWN}/audio",
    ):
        expect(
            env.http.post("/dream-machine/v1" + unsupported, json={}),
            400,
            official_shape,
            "not supported by this gateway",
        )


def test_official_keyframe_source_must_be_completed(env: Env) -> None:
    created = env.http.post(
        "/dream-machine/v1/generations",
        json={"prompt": "still rendering", "aspect_ratio": "1:1", "resolution": "540p"},
    )
    assert created.status_code == 201
    source = created.json()["id"]
    body = {"prompt": "go on", "keyframes": {"frame0": {"type": "generation", "id": source}}}
    expect(
        env.http.post("/dream-machine/v1/generations", json=body),
        400,
        official_shape,
        f"Generation {source} is not completed",
    )


# -- the other dialects' own rules -------------------------------------------------------------
def test_other_dialect_rules(env: Env) -> None:
    mock_q = env.http.get("/api/generations", params={"offset": "-1"})
    expect(mock_q, 400, mock_shape, "offset")
    expect(env.http.get("/api/generations", params={"limit": "ten"}), 400, mock_shape, "limit")
    expect(env.http.post("/v1/videos", json={"prompt": "a", "size": "big"}), 400, openai_shape)
    expect(env.http.post("/v1/videos", json={"prompt": "a", "seconds": "long"}), 400, openai_shape)
    expect(
        env.http.post("/v1/videos", json={"prompt": "a cat", "model": "sora-2"}),
        400,
        openai_shape,
        "model",
    )
    created = env.http.post(
        "/v1/videos", json={"prompt": "not yet", "size": "960x540", "seconds": "3"}
    )
    assert created.status_code == 200 and created.json()["size"] == "960x540"
    early = env.http.get(f"/v1/videos/{created.json()['id']}/content")
    expect(early, 400, openai_shape, "not ready")
    bad_variant = env.http.get(f"/v1/videos/{created.json()['id']}/content?variant=gif")
    expect(bad_variant, 400, openai_shape, "variant")
    expect(
        env.http.post(
            "/v1/video/generations", json={"prompt": "a cat", "metadata": {"loop": "yes"}}
        ),
        400,
        newapi_shape,
        "metadata.loop",
    )
    expect(
        env.http.post("/v1/video/generations", json={"prompt": "a cat", "model": "kling-v1"}),
        400,
        newapi_shape,
        "model",
    )
    expect(
        env.http.post(
            "/v1/chat/completions",
            json={"model": "luma", "messages": [{"role": "user", "content": 5}]},
        ),
        400,
        openai_shape,
        "messages",
    )
    expect(env.http.get("/v1/dashboard/billing/usage?end_date=2020-13-01"), 400, openai_shape)
