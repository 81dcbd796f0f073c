"""Trust at the boundary: every bad input of issue 9 answers a clear 4xx in the caller's
dialect, the same on SQLite and on PostgreSQL, and nothing it could store breaks a later read.

Each case runs against a real ``lumagate serve`` over loopback, once per database. The servers
are shared by the module (one per database) so the matrix stays cheap on two cores.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import create_async_engine

from lumagate.domain.limits import (
    MAX_IDEMPOTENCY_KEY,
    MAX_JSON_DEPTH,
    MAX_NAME,
    MAX_NOTE,
    MAX_PLAN,
)
from lumagate.store.schema import tasks
from tests.support.boundary import UNKNOWN, Env, env, refused

pytestmark = pytest.mark.slow
__all__ = ["env"]  # the fixture: one server per database
HUGE = "9223372036854775808"  # one more than the largest 64-bit integer
JSON = {"Content-Type": "application/json"}


# -- unstorable text ---------------------------------------------------------------------------
SURROGATE_BODIES = [
    ("/luma/generations", '{"user_prompt": "\\ud800 fox"}', "user_prompt"),
    ("/dream-machine/v1/generations", '{"prompt": "a fox \\udfff running"}', "prompt"),
    ("/api/generations/create", '{"prompt": "\\ud800"}', "prompt"),
    ("/v1/video/generations", '{"prompt": "\\ud800", "model": "ray-2"}', "prompt"),
    ("/v1/videos", '{"prompt": "x\\ud800"}', "prompt"),
    ("/v1/chat/completions", '{"model": "luma", "messages": [{"role": "user", '
     '"content": "\\ud800"}]}', "messages[0].content"),
    ("/luma/generations", '{"user_prompt": "fox", "notify_hook": "http://x.test/\\u0000"}',
     "notify_hook"),
    ("/luma/tasks", '{"ids": ["\\ud800"]}', "ids[0]"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "raw", "field"), SURROGATE_BODIES)
def test_lone_surrogates_and_nul_are_refused_naming_the_field(
    env: Env, path: str, raw: str, field: str
) -> None:
    response = env.http.post(path, content=raw.encode(), headers=JSON)
    refused(response, field, status=400)


def test_nul_in_a_key_name_and_in_queries_and_paths_is_refused(env: Env) -> None:
    created = env.admin.post("/admin/keys", content=b'{"name": "a\\u0000b"}', headers=JSON)
    refused(created, "name", "NUL", status=400)
    refused(env.admin.get("/admin/tasks", params={"key": "a\x00b"}), "key", status=400)
    refused(env.admin.get("/admin/ledger", params={"key": "\x00"}), "key", status=400)
    refused(env.admin.get("/admin/keys/a%00b"), "NUL", status=400)


# -- nesting -----------------------------------------------------------------------------------
def post_operations(env: Env) -> list[str]:
    """Every POST path the served spec lists, path parameters filled with an unknown id."""
    spec = env.http.get("/openapi.json").json()
    paths = [path for path, item in spec["paths"].items() if "post" in item]
    assert len(paths) >= 20, paths
    return [p.replace("{task_id}", UNKNOWN).replace("{ref}", "nobody") for p in paths]


def test_json_nested_100k_deep_is_refused_on_every_post_route(env: Env) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    just_too_deep = b'{"a":' * (MAX_JSON_DEPTH + 1) + b"1" + b"}" * (MAX_JSON_DEPTH + 1)
    for path in post_operations(env):
        client_ = env.admin if path.startswith("/admin/") else env.http
        for body in (deep, just_too_deep):
            response = client_.post(path, content=body, headers=JSON)
            refused(response, "nested", status=400)


# -- numbers -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path", ["/dream-machine/v1/generations", "/api/generations", "/admin/tasks", "/admin/ledger"]
)
def test_offsets_beyond_64_bits_are_refused(env: Env, path: str) -> None:
    client_ = env.admin if path.startswith("/admin/") else env.http
    for name in ("offset", "limit"):
        refused(client_.get(path, params={name: HUGE}), name)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"name": "n", "credits": 1e30}', "credits"),
        ('{"name": "n", "credits": 1000000000000000000000000000000}', "credits"),
        ('{"name": "n", "rpm": 99999999999999999999}', "rpm"),
        ('{"name": "n", "max_running": -1}', "max_running"),
        ('{"name": "n", "expires_days": NaN}', "NaN"),
        ('{"name": "n", "expires_days": Infinity}', "Infinity"),
        ('{"name": "n", "expires_days": 1e400}', "expires_days"),
        ('{"name": "n", "expires_days": 1e30}', "expires_days"),
    ],
)
def test_admin_numbers_are_bounded(env: Env, raw: str, field: str) -> None:
    refused(env.admin.post("/admin/keys", content=raw.encode(), headers=JSON), field, status=400)


def test_top_up_amounts_are_bounded(env: Env) -> None:
    created = env.admin.post("/admin/keys", json={"name": "bounded", "credits": 10})
    assert created.status_code == 201, created.text
    path = f"/admin/keys/{created.json()['id']}/top-up"
    for amount in ("1e30", "100000000000000000000", "-100000000000000000000"):
        response = env.admin.post(path, content=f'{{"amount": {amount}}}'.encode(), headers=JSON)
        refused(response, "amount", status=400)


# -- lengths -----------------------------------------------------------------------------------
def test_over_long_names_and_plans_are_refused_alike(env: Env) -> None:
    name = env.admin.post("/admin/keys", json={"name": "n" * (MAX_NAME + 1)})
    refused(name, "name", str(MAX_NAME), status=400)
    plan = env.admin.post("/admin/keys", json={"name": "ok", "plan": "p" * (MAX_PLAN + 1)})
    refused(plan, "plan", str(MAX_PLAN), status=400)
    fits = env.admin.post("/admin/keys", json={"name": "n" * MAX_NAME, "plan": "p" * MAX_PLAN})
    assert fits.status_code == 201, fits.text
    reason = {"reason": "r" * (MAX_NOTE + 1)}
    refused(env.admin.post("/admin/accounts/any/disable", json=reason), "reason", status=400)


@pytest.mark.parametrize(
    "path", ["/luma/generations", "/dream-machine/v1/generations", "/api/generations/create"]
)
def test_an_over_long_idempotency_key_is_refused(env: Env, path: str) -> None:
    body = {"prompt": "a fox in the snow", "user_prompt": "a fox in the snow"}
    too_long = {"Idempotency-Key": "k" * (MAX_IDEMPOTENCY_KEY + 1)}
    refused(env.http.post(path, json=body, headers=too_long), "Idempotency-Key", status=400)
    longest = (path + "k" * MAX_IDEMPOTENCY_KEY)[:MAX_IDEMPOTENCY_KEY]  # one key per dialect
    fits = env.http.post(path, json=body, headers={"Idempotency-Key": longest})
    assert fits.status_code in (200, 201), fits.text


def test_an_over_long_prompt_and_url_are_refused(env: Env) -> None:
    refused(env.http.post("/luma/generations", json={"user_prompt": "p" * 5001}), "user_prompt")
    long_hook = "http://example.test/" + "a" * 3000
    response = env.http.post(
        "/luma/generations", json={"user_prompt": "x", "notify_hook": long_hook}
    )
    refused(response, "notify_hook", status=400)


def test_nothing_refused_was_stored(env: Env) -> None:
    listed = env.admin.get("/admin/tasks", params={"limit": 500})
    assert listed.status_code == 200, listed.text
    prompts = [t["request"]["prompt"] for t in listed.json()["data"]]
    assert all("\ufffd" not in p and "\x00" not in p for p in prompts), prompts
    keys = env.admin.get("/admin/keys").json()["data"]
    assert all(len(k["name"]) <= MAX_NAME and len(k["plan"]) <= MAX_PLAN for k in keys)


# -- rows stored before the checks existed ------------------------------------------------------
def _db_url(env: Env) -> str:
    return env.database or f"sqlite+aiosqlite:///{(env.server.data_dir / 'lumagate.db').resolve()}"


async def _poison_prompt(url: str, task_id: str) -> None:
    """Store a lone surrogate in a task's prompt directly, as the gateway did before issue 9."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            row = (await conn.execute(select(tasks.c.request).where(tasks.c.id == task_id))).one()
            request = dict(row.request, prompt="bad \ud800 prompt")
            await conn.execute(update(tasks).where(tasks.c.id == task_id).values(request=request))
    finally:
        await engine.dispose()


def test_a_stored_lone_surrogate_never_breaks_a_read(env: Env) -> None:
    created = env.http.post("/luma/generations", json={"user_prompt": "to be poisoned"})
    assert created.status_code == 200, created.text
    task_id = created.json()["id"]
    asyncio.run(_poison_prompt(_db_url(env), task_id))
    reads = [
        env.http.get(f"/luma/generations/{task_id}"),
        env.http.get(f"/dream-machine/v1/generations/{task_id}"),
        env.http.get(f"/api/generations/{task_id}"),
        env.http.post("/luma/tasks", json={"ids": [task_id]}),
        env.http.get("/dream-machine/v1/generations", params={"limit": 100}),
        env.http.get("/api/generations", params={"limit": 100}),
        env.admin.get("/admin/tasks", params={"limit": 500}),
        env.admin.get(f"/admin/tasks/{task_id}"),
    ]
    for response in reads:
        assert response.status_code == 200, (response.request.url, response.text[:300])
        assert "bad \ufffd prompt" in response.text or "bad \\ufffd prompt" in response.text
