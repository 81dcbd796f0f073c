"""OpenAI's Python SDK pages ``GET /v1/videos`` against a real server (``after``/``limit``/
``order``, ``first_id``/``last_id``/``has_more``), stably while videos are created; and the
rate-limit headers OpenAI clients read are on every keyed response."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from openai import OpenAI

from tests.support.acceptance import client, start_server
from tests.support.databases import ServerDatabase
from tests.support.servers import GatewayServer

pytestmark = [
    pytest.mark.slow,
    # The SDK marks its videos resource deprecated (OpenAI's own service ends); ours goes on.
    pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning"),
]

FAIL = "[[fail]]"  # the sandbox fails such prompts at once: no render needed to be listed
RATE_HEADERS = (
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
)


@dataclass
class Env:
    server: GatewayServer
    sdk: OpenAI
    http: httpx.Client  # the same tenant as ``sdk`` (no rpm)
    limited: httpx.Client  # a key with --rpm 2
    made: list[str]  # the tenant's videos, oldest first


def _create(http: httpx.Client, prompt: str) -> httpx.Response:
    return http.post("/v1/videos", json={"prompt": f"{FAIL} {prompt}", "size": "960x540"})


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, server_database: ServerDatabase) -> Iterator[Env]:
    """One server per backend (the list's keyset queries are SQL of each)."""
    server = start_server(tmp_path_factory.mktemp("openai-list") / "data", **server_database())
    try:
        key = server.create_key("sdk")
        limited_key = server.create_key("limited", "--rpm", "2")
        sdk = OpenAI(api_key=key, base_url=server.base_url + "/v1", max_retries=0)
        with client(server.base_url, key) as http, client(server.base_url, limited_key) as lim:
            made = []
            for n in range(7):
                response = _create(http, f"video {n}")
                assert response.status_code == 200, response.text
                made.append(response.json()["id"])
            yield Env(server, sdk, http, lim, made)
        sdk.close()
    finally:
        server.stop()


def test_sdk_pages_newest_first_and_walks_every_page(env: Env) -> None:
    page = env.sdk.videos.list(limit=3)
    assert [v.id for v in page.data] == env.made[::-1][:3]
    assert page.has_more is True and page.last_id == env.made[-3]
    assert all(v.object == "video" and v.status in ("queued", "failed") for v in page.data)
    second = page.get_next_page()
    assert [v.id for v in second.data] == env.made[::-1][3:6]
    walked = [v.id for v in env.sdk.videos.list(limit=2)]  # the SDK follows last_id
    assert walked == env.made[::-1]


def test_sdk_order_asc_and_the_raw_page_shape(env: Env) -> None:
    oldest = [v.id for v in env.sdk.videos.list(limit=4, order="asc")]
    assert oldest == env.made
    raw = env.http.get("/v1/videos", params={"limit": 2, "order": "asc", "after": env.made[1]})
    assert raw.status_code == 200, raw.text
    body = raw.json()
    assert set(body) == {"object", "data", "first_id", "last_id", "has_more"}
    assert body["object"] == "list" and body["has_more"] is True
    assert [v["id"] for v in body["data"]] == env.made[2:4]
    assert (body["first_id"], body["last_id"]) == (env.made[2], env.made[3])
    end = env.http.get("/v1/videos", params={"after": env.made[0]}).json()
    assert end["data"] == [] and end["has_more"] is False
    assert end["first_id"] is None and end["last_id"] is None


def test_paging_is_stable_while_videos_are_created(env: Env) -> None:
    first = env.sdk.videos.list(limit=3)
    newcomer = _create(env.http, "a newcomer between two pages").json()["id"]
    try:
        second = first.get_next_page()
        assert [v.id for v in second.data] == env.made[::-1][3:6]  # nothing repeated or lost
        assert env.sdk.videos.list(limit=1).data[0].id == newcomer
    finally:
        assert env.http.delete(f"/v1/videos/{newcomer}").status_code == 200
    assert newcomer not in {v.id for v in env.sdk.videos.list(limit=100)}


def test_bad_list_parameters_are_400_in_openai_shape(env: Env) -> None:
    for params in ({"order": "sideways"}, {"limit": "ten"}, {"limit": "0"}):
        response = env.http.get("/v1/videos", params=params)
        assert response.status_code == 400, (params, response.text)
        assert set(response.json()) == {"error"}
    unknown = env.http.get("/v1/videos", params={"after": str(uuid.uuid4())}).json()
    assert unknown["data"] == [] and unknown["has_more"] is False


def _rate(response: httpx.Response) -> tuple[int, int, str]:
    limit, remaining, reset = (response.headers[name] for name in RATE_HEADERS)
    return int(limit), int(remaining), reset


def test_rate_limit_headers_on_every_keyed_response(env: Env) -> None:
    lim = env.limited
    assert _rate(lim.get("/v1/videos")) == (2, 2, "0s")
    first = _create(lim, "one")
    limit, remaining, reset = _rate(first)
    assert (limit, remaining) == (2, 1)  # the create just made is counted
    assert reset.endswith("s") and 0 < int(reset[:-1]) <= 60
    assert _rate(_create(lim, "two"))[:2] == (2, 0)
    refused = _create(lim, "three")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert _rate(refused)[:2] == (2, 0)
    # Errors and other dialects carry them too; a key without rpm, and no key, carry none.
    assert _rate(lim.get(f"/v1/videos/{uuid.uuid4()}"))[:2] == (2, 0)
    assert _rate(lim.get("/luma/users/me"))[:2] == (2, 0)
    sdk_page = env.sdk.videos.with_raw_response.list(limit=1)
    assert not set(RATE_HEADERS) & set(sdk_page.headers)
    with httpx.Client(base_url=env.server.base_url) as anonymous:
        assert not set(RATE_HEADERS) & set(anonymous.get("/v1/videos").headers)
