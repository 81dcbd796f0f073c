"""Every route of the reseller dialect (CONTRACT §1) and its errors, over real HTTP.

Tasks that only exist to exercise a route carry the sandbox's fail marker in the prompt, so
they end ``failed`` at once instead of rendering; one real render is the completed source for
the GET, ``download_video_url`` and extend walks.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.acceptance import (
    assert_batch,
    assert_error,
    assert_flat,
    assert_usage,
    client,
    data_uri,
    png_bytes,
    start_picture,
    start_server,
    wait_completed,
    wait_for,
)
from tests.support.databases import ServerDatabase
from tests.support.servers import GatewayServer

pytestmark = pytest.mark.slow

PREFIXES = ("", "/vip", "/pro")
BASES = ("/luma/generations", "/luma/v1/generations", "/luma/V1/generations")
SLASHES = ("", "/")
FAIL = "[[fail]]"  # the sandbox fails such prompts at once (LUMAGATE_SANDBOX_FAIL_MARKER)
MAX_BODY = 32 * 1024

generation_paths = pytest.mark.parametrize(
    ("prefix", "base", "slash"),
    [(p, b, s) for p in PREFIXES for b in BASES for s in SLASHES],
    ids=lambda value: value or "-",
)
prefixed_paths = pytest.mark.parametrize(
    ("prefix", "slash"), [(p, s) for p in PREFIXES for s in SLASHES], ids=lambda v: v or "-"
)


@dataclass
class Env:
    server: GatewayServer
    http: httpx.Client  # tenant A
    other: httpx.Client  # tenant B
    anonymous: httpx.Client
    source_id: str  # tenant A's task, created under /pro, rendering (then completed)
    failed_id: str  # tenant A's task that failed (never completed)
    foreign_id: str  # tenant B's task

    def source(self) -> dict[str, Any]:
        return dict(wait_completed(self.http, self.source_id))


def _create(http: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post(path, json=body)
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
    created: dict[str, Any] = response.json()
    assert_flat(created)
    return created


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, server_database: ServerDatabase) -> Iterator[Env]:
    server = start_server(
        tmp_path_factory.mktemp("routes") / "data",
        **server_database(),
        max_body_bytes=str(MAX_BODY),
    )
    try:
        key_a = server.create_key("tenant-a")
        key_b = server.create_key("tenant-b")
        with (
            client(server.base_url, key_a) as http,
            client(server.base_url, key_b) as other,
            client(server.base_url) as anonymous,
        ):
            source = _create(
                http, "/pro/luma/generations", {"user_prompt": "source", "resolution": "540p"}
            )
            failed = _create(http, "/luma/generations", {"user_prompt": f"{FAIL} failing"})
            foreign = _create(other, "/luma/generations", {"user_prompt": f"{FAIL} tenant b"})
            yield Env(server, http, other, anonymous, source["id"], failed["id"], foreign["id"])
    finally:
        server.stop()


# -- every path variant -------------------------------------------------------------------
@generation_paths
def test_create(env: Env, prefix: str, base: str, slash: str) -> None:
    body = {"user_prompt": f"{FAIL} create {prefix}{base}{slash}", "aspect_ratio": "1:1"}
    created = _create(env.http, f"{prefix}{base}{slash}", body)
    assert created["state"] in ("pending", "processing", "failed")
    assert created["prompt"] == body["user_prompt"]
    assert created["request"]["aspect_ratio"] == "1:1"
    uuid.UUID(created["id"])
    # Readable under every prefix, whichever channel it was created in.
    for read_prefix in PREFIXES:
        response = env.http.get(f"{read_prefix}/luma/generations/{created['id']}")
        assert response.status_code == 200
        assert response.json()["id"] == created["id"]


@generation_paths
def test_get_one(env: Env, prefix: str, base: str, slash: str) -> None:
    env.source()
    response = env.http.get(f"{prefix}{base}/{env.source_id}{slash}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert_flat(body, env.source_id)
    assert body["state"] == "completed"
    assert body["prompt"] == "source"


@generation_paths
def test_download_video_url(env: Env, prefix: str, base: str, slash: str) -> None:
    source = env.source()
    response = env.http.get(f"{prefix}{base}/{env.source_id}/download_video_url{slash}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"url"}
    assert body["url"] == source["video"]["download_url"]
    head = env.http.head(body["url"])
    assert head.status_code == 200
    assert head.headers["content-type"].startswith("video/mp4")


@generation_paths
def test_extend(env: Env, prefix: str, base: str, slash: str) -> None:
    env.source()
    prompt = f"{FAIL} extend {prefix}{base}{slash}"
    response = env.http.post(
        f"{prefix}{base}/{env.source_id}/extend{slash}", json={"user_prompt": prompt}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert_flat(body)
    assert body["id"] != env.source_id
    assert body["prompt"] == prompt
    assert body["state"] in ("pending", "processing", "failed")


@generation_paths
def test_file_upload(env: Env, prefix: str, base: str, slash: str) -> None:
    png = png_bytes(start_picture((64, 36)))
    response = env.http.post(f"{prefix}{base}/file_upload{slash}", json={"url": data_uri(png)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert {"id", "presigned_url", "public_url"} <= set(body), body
    assert isinstance(body["id"], str) and body["id"]
    fetched = env.anonymous.get(body["public_url"])
    assert fetched.status_code == 200
    assert fetched.content == png


def test_uploaded_image_is_usable_as_image_url(env: Env) -> None:
    png = png_bytes(start_picture((64, 36)))
    upload = env.http.post("/luma/generations/file_upload", json={"url": data_uri(png)})
    assert upload.status_code == 200, upload.text
    created = _create(
        env.http,
        "/luma/generations",
        {"user_prompt": f"{FAIL} with upload", "image_url": upload.json()["public_url"]},
    )
    assert created["state"] in ("pending", "processing", "failed")


@prefixed_paths
def test_batch_query(env: Env, prefix: str, slash: str) -> None:
    ids = [env.source_id, env.failed_id]
    response = env.http.post(f"{prefix}/luma/tasks{slash}", json={"ids": ids})
    assert response.status_code == 200, response.text
    assert_batch(response.json(), ids)


@prefixed_paths
def test_subscription_usage(env: Env, prefix: str, slash: str) -> None:
    response = env.http.get(f"{prefix}/luma/subscription/usage{slash}")
    assert response.status_code == 200, response.text
    assert_usage(response.json())


@prefixed_paths
def test_users_me(env: Env, prefix: str, slash: str) -> None:
    response = env.http.get(f"{prefix}/luma/users/me{slash}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "tenant-a"
    assert set(body["channels"]) == {"default", "vip", "pro"}
    assert "credits" in body
    key = env.http.headers["authorization"].removeprefix("Bearer ")
    assert key not in json.dumps(body)  # never the key itself


def test_task_created_under_pro_is_read_without_prefix(env: Env) -> None:
    created = _create(env.http, "/pro/luma/v1/generations", {"user_prompt": f"{FAIL} pro"})
    response = env.http.get(f"/luma/generations/{created['id']}")
    assert response.status_code == 200
    assert response.json()["id"] == created["id"]
    batch = env.http.post("/luma/tasks", json={"ids": [created["id"]]})
    assert_batch(batch.json(), [created["id"]])


def test_completed_batch_record(env: Env) -> None:
    env.source()
    record = env.http.post("/luma/tasks", json={"ids": [env.source_id]}).json()["data"][0]
    assert record["status"] == "SUCCESS"
    assert record["progress"] == "100%"
    assert record["finish_time"] >= record["submit_time"] > 0
    assert record["data"]["state"] == "completed"
    failed = wait_for(env.http, env.failed_id, ("failed",))
    assert failed["failure_reason"]
    record = env.http.post("/luma/tasks", json={"ids": [env.failed_id]}).json()["data"][0]
    assert record["status"] == "FAILURE"
    assert record["fail_reason"]


# -- errors -------------------------------------------------------------------------------
def test_missing_wrong_and_lowercase_bearer_are_401(env: Env) -> None:
    key = env.http.headers["authorization"].removeprefix("Bearer ")
    attempts: list[dict[str, str]] = [
        {},
        {"Authorization": "Bearer sk-lg-not-a-real-key"},
        {"Authorization": f"bearer {key}"},
        {"Authorization": f"BEARER {key}"},
        {"Authorization": f"Bearer  {key}"},
        {"Authorization": "Bearer"},
        {"Secret-Key": key},  # only the luma-mock dialect takes this header
    ]
    for headers in attempts:
        for method, path, body in (
            ("POST", "/luma/generations", {"user_prompt": "x"}),
            ("GET", f"/luma/generations/{env.source_id}", None),
            ("GET", f"/luma/generations/{env.source_id}/download_video_url", None),
            ("POST", f"/luma/generations/{env.source_id}/extend", {"user_prompt": "x"}),
            ("POST", "/luma/tasks", {"ids": [env.source_id]}),
            ("POST", "/luma/generations/file_upload", {"url": "https://example.com/a.png"}),
            ("GET", "/vip/luma/subscription/usage", None),
            ("GET", "/pro/luma/users/me", None),
        ):
            response = env.anonymous.request(method, path, json=body, headers=headers)
            assert_error(response, 401)
            assert response.json()["error"]["type"] == "authentication_error"
    # The right headers work (so the 401s above are about the header, not the key): Bearer,
    # and the bare key the Go /luma clients send.
    for header in (f"Bearer {key}", key):
        right = env.anonymous.get("/luma/users/me", headers={"Authorization": header})
        assert right.status_code == 200


def test_another_tenants_task_is_404_like_an_unknown_id(env: Env) -> None:
    unknown = str(uuid.uuid4())
    for suffix, method, body in (
        ("", "GET", None),
        ("/download_video_url", "GET", None),
        ("/extend", "POST", {"user_prompt": "steal"}),
    ):
        foreign = env.http.request(method, f"/luma/generations/{env.foreign_id}{suffix}", json=body)
        missing = env.http.request(method, f"/luma/generations/{unknown}{suffix}", json=body)
        assert_error(foreign, 404, code="task_not_exist")
        assert_error(missing, 404, code="task_not_exist")
        assert foreign.json() == missing.json()
        assert foreign.headers.get("content-length") == missing.headers.get("content-length")
    # The owner does see it.
    assert env.other.get(f"/luma/generations/{env.foreign_id}").status_code == 200


@pytest.mark.parametrize(
    "task_id", ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g", "..", "%20"]
)
def test_unknown_and_malformed_ids_are_404(env: Env, task_id: str) -> None:
    for path in (f"/luma/generations/{task_id}", f"/luma/generations/{task_id}/download_video_url"):
        assert_error(env.http.get(path), 404)
    response = env.http.post(f"/luma/generations/{task_id}/extend", json={"user_prompt": "x"})
    assert_error(response, 404)
    assert_error(env.http.get(f"/luma/generations/{uuid.uuid4()}"), 404, code="task_not_exist")
    assert_error(env.http.get("/luma/generations/not-a-uuid"), 404, code="task_not_exist")


@pytest.mark.parametrize(
    "path",
    [
        "/luma/generations",
        "/vip/luma/v1/generations/",
        "/luma/tasks",
        "/luma/generations/file_upload",
        "/luma/generations/{source}/extend",
    ],
)
@pytest.mark.parametrize("raw", [b"{", b'{"user_prompt": "x",}', b"not json", b"\xff\xfe{}"])
def test_malformed_json_is_400(env: Env, path: str, raw: bytes) -> None:
    response = env.http.post(
        path.format(source=env.source_id),
        content=raw,
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 400)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user_prompt": "x", "loop": "yes"}, "loop"),
        ({"user_prompt": 5}, "user_prompt"),
        ({"user_prompt": "x", "duration": 7}, "duration"),
        ({"user_prompt": "x", "duration": "7s"}, "duration"),
        ({"user_prompt": "x", "expand_prompt": "no"}, "expand_prompt"),
        ({"user_prompt": "x", "aspect_ratio": 16}, "aspect_ratio"),
        ({"user_prompt": "x", "aspect_ratio": "2:1"}, "aspect_ratio"),
        ({"user_prompt": "x", "resolution": "8k"}, "resolution"),
        ({"user_prompt": "x", "model_name": "ray-99"}, "model_name"),
        ({"user_prompt": "x", "image_url": 42}, "image_url"),
        ({}, "user_prompt"),
        ({"user_prompt": "   "}, "user_prompt"),
    ],
)
def test_bad_field_is_400_naming_the_field(env: Env, body: dict[str, Any], field: str) -> None:
    for prefix in ("", "/pro"):
        response = env.http.post(f"{prefix}/luma/generations", json=body)
        assert_error(response, 400, mentions=field)
        assert response.json()["error"]["type"] == "invalid_request_error"


def test_body_that_is_not_an_object_is_400(env: Env) -> None:
    for raw in (b"[]", b'"x"', b"42", b"null"):
        response = env.http.post(
            "/luma/generations", content=raw, headers={"Content-Type": "application/json"}
        )
        assert_error(response, 400)
    assert_error(env.http.post("/luma/tasks", json={"ids": "abc"}), 400, mentions="ids")
    assert_error(env.http.post("/luma/tasks", json={}), 400, mentions="ids")


NOT_AN_IMAGE = "data:image/png;base64," + base64.b64encode(b"hello, this is not a png").decode()


@pytest.mark.parametrize(
    "value",
    [
        "ftp://x",
        "ftp://example.com/a.png",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "not a url",
        NOT_AN_IMAGE,
        "data:text/plain;base64,aGVsbG8=",
        "data:image/png;base64,!!!not-base64!!!",
        "data:image/png,rawbytes",
    ],
)
@pytest.mark.parametrize("field", ["image_url", "image_end_url"])
def test_bad_image_is_400(env: Env, value: str, field: str) -> None:
    response = env.http.post("/luma/generations", json={"user_prompt": "x", field: value})
    assert_error(response, 400, mentions=field)


@pytest.mark.parametrize("value", ["ftp://x", NOT_AN_IMAGE, ""])
def test_bad_upload_is_400(env: Env, value: str) -> None:
    response = env.http.post("/luma/generations/file_upload", json={"url": value})
    assert_error(response, 400)


def test_empty_images_mean_absent(env: Env) -> None:
    created = _create(
        env.http,
        "/luma/generations",
        {"user_prompt": f"{FAIL} no images", "image_url": "", "image_end_url": None},
    )
    assert created["state"] in ("pending", "processing", "failed")


def test_download_video_url_before_completion_is_400(env: Env) -> None:
    failed = wait_for(env.http, env.failed_id, ("failed",))
    assert failed["video"] is None
    response = env.http.get(f"/luma/generations/{env.failed_id}/download_video_url")
    assert_error(response, 400)
    # A task that was only just accepted cannot have a video yet either.
    fresh = _create(
        env.http,
        "/luma/generations",
        {"user_prompt": "fresh", "resolution": "540p", "aspect_ratio": "1:1"},
    )
    response = env.http.get(f"/luma/generations/{fresh['id']}/download_video_url")
    if response.status_code != 200:  # it would take a finished render to answer 200
        assert_error(response, 400)
    else:
        assert env.http.get(f"/luma/generations/{fresh['id']}").json()["state"] == "completed"


def test_extend_of_a_task_that_is_not_completed_is_400(env: Env) -> None:
    wait_for(env.http, env.failed_id, ("failed",))
    response = env.http.post(
        f"/luma/generations/{env.failed_id}/extend", json={"user_prompt": "more"}
    )
    assert_error(response, 400)


def test_extend_needs_a_prompt(env: Env) -> None:
    env.source()
    for body in ({}, {"user_prompt": ""}, {"user_prompt": 5}):
        response = env.http.post(f"/luma/generations/{env.source_id}/extend", json=body)
        assert_error(response, 400, mentions="user_prompt")


def test_batch_of_more_than_100_ids_is_400(env: Env) -> None:
    ids = [str(uuid.uuid4()) for _ in range(101)]
    assert_error(env.http.post("/luma/tasks", json={"ids": ids}), 400, mentions="ids")
    ok = env.http.post("/luma/tasks", json={"ids": ids[:100]})
    assert ok.status_code == 200
    assert ok.json() == {"code": "success", "message": "", "data": []}


def test_batch_leaves_out_foreign_and_unknown_ids(env: Env) -> None:
    ids = [env.foreign_id, str(uuid.uuid4()), "not-a-uuid", env.source_id, env.failed_id]
    response = env.http.post("/luma/tasks", json={"ids": ids})
    assert response.status_code == 200
    assert_batch(response.json(), [env.source_id, env.failed_id])
    response = env.other.post("/luma/tasks", json={"ids": ids})
    assert_batch(response.json(), [env.foreign_id])


def test_body_over_the_limit_is_413(env: Env) -> None:
    big = {"user_prompt": "x" * (MAX_BODY + 10)}
    assert_error(env.http.post("/luma/generations", json=big), 413)
    assert_error(env.http.post("/vip/luma/tasks", json={"ids": ["x" * MAX_BODY]}), 413)
    assert_error(env.http.post("/luma/generations/file_upload", json={"url": "x" * MAX_BODY}), 413)
    # Without a Content-Length (chunked), the limit still holds.
    payload = json.dumps(big).encode()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(payload), 4096):
            yield payload[start : start + 4096]

    response = env.http.post(
        "/luma/generations", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_error(response, 413)
    # Just under the limit is fine (a long prompt is a 400 for length, never a 413).
    assert env.http.post("/luma/generations", json={"user_prompt": "x" * 6000}).status_code == 400


def test_idempotency_key_returns_the_same_task(env: Env) -> None:
    body = {"user_prompt": f"{FAIL} idempotent"}
    headers = {"Idempotency-Key": f"idem-{uuid.uuid4()}"}
    first = env.http.post("/luma/generations", json=body, headers=headers)
    second = env.http.post("/luma/v1/generations/", json=body, headers=headers)  # same channel
    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    # The same key on another channel is another request: refused, as Stripe does (issue 9).
    other_channel = env.http.post("/vip/luma/v1/generations", json=body, headers=headers)
    assert_error(other_channel, 409, code="idempotency_key_reused", mentions="channel")
    # Another tenant with the same key, or no key at all, makes a new task.
    third = env.other.post("/luma/generations", json=body, headers=headers)
    fourth = env.http.post("/luma/generations", json=body)
    assert len({first.json()["id"], third.json()["id"], fourth.json()["id"]}) == 3
    # The key works on extend too.
    env.source()
    extend_headers = {"Idempotency-Key": f"idem-{uuid.uuid4()}"}
    extends = [
        env.http.post(
            f"/luma/generations/{env.source_id}/extend",
            json={"user_prompt": f"{FAIL} idem extend"},
            headers=extend_headers,
        )
        for _ in range(2)
    ]
    assert extends[0].json()["id"] == extends[1].json()["id"]


def test_unknown_route_and_method_are_not_500(env: Env) -> None:
    assert env.http.get("/luma/nothing-here").status_code == 404
    assert env.http.delete("/luma/tasks").status_code in (404, 405)
    assert env.http.put(f"/luma/generations/{env.source_id}").status_code in (404, 405)


def test_usage_counts_the_callers_tasks(env: Env) -> None:
    env.source()
    mine = env.http.get("/luma/subscription/usage").json()
    theirs = env.other.get("/luma/subscription/usage").json()
    assert_usage(mine)
    assert_usage(theirs)
    assert mine["consumed"] >= 1  # the completed source task
