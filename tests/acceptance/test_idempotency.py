"""Idempotency as Stripe's, over HTTP in every dialect and on both databases: a replay answers
the first task; the same key with another body, channel or dialect is a 409 in the caller's own
error shape naming what differs."""

from __future__ import annotations

import uuid

import pytest

from tests.support.boundary import Env, env, refused

pytestmark = pytest.mark.slow
__all__ = ["env"]  # the fixture: one server per database

FOX = {"user_prompt": "a fox in the snow", "aspect_ratio": "1:1", "resolution": "540p"}


def _key() -> dict[str, str]:
    return {"Idempotency-Key": f"idem-{uuid.uuid4()}"}


def test_a_replay_returns_the_first_task(env: Env) -> None:
    key = _key()
    first = env.http.post("/luma/generations", json=FOX, headers=key)
    again = env.http.post("/luma/generations", json=dict(reversed(FOX.items())), headers=key)
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert again.json()["id"] == first.json()["id"]
    # defaults spelled out are the same request: 5s and 720p-less bodies normalize alike
    spelled = env.http.post("/luma/generations", json={**FOX, "duration": "5s"}, headers=key)
    assert spelled.status_code == 200 and spelled.json()["id"] == first.json()["id"]


def test_the_same_key_with_another_body_is_a_conflict(env: Env) -> None:
    key = _key()
    first = env.http.post("/luma/generations", json=FOX, headers=key)
    assert first.status_code == 200, first.text
    other = env.http.post("/luma/generations", json={**FOX, "loop": True}, headers=key)
    message = refused(other, "different request body", first.json()["id"], status=409)
    assert "Idempotency-Key" in message
    assert other.json()["error"]["code"] == "idempotency_key_reused"


def test_the_same_key_on_another_channel_is_a_conflict(env: Env) -> None:
    key = _key()
    assert env.http.post("/luma/generations", json=FOX, headers=key).status_code == 200
    refused(env.http.post("/vip/luma/generations", json=FOX, headers=key), "channel", status=409)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/dream-machine/v1/generations", {"prompt": "a fox in the snow", "aspect_ratio": "1:1"}),
        ("/api/generations/create", {"prompt": "a fox in the snow"}),
        ("/v1/video/generations", {"prompt": "a fox in the snow", "model": "ray-2"}),
        ("/v1/videos", {"prompt": "a fox in the snow"}),
    ],
)
def test_the_same_key_in_another_dialect_is_a_conflict_in_that_dialect(
    env: Env, path: str, body: dict[str, object]
) -> None:
    key = _key()
    assert env.http.post("/luma/generations", json=FOX, headers=key).status_code == 200
    refused(env.http.post(path, json=body, headers=key), "dialect", "reseller", status=409)
    # and that dialect's own replay works as well, with a key of its own
    own = _key()
    first = env.http.post(path, json=body, headers=own)
    again = env.http.post(path, json=body, headers=own)
    assert first.status_code in (200, 201) and again.status_code == first.status_code
    assert _ids(first.json()) and _ids(first.json()) == _ids(again.json())


def _ids(body: object) -> set[str]:
    """Task ids anywhere in a create answer (dialects wrap them differently)."""
    found: set[str] = set()
    stack = [body]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for name, item in value.items():
                if name in ("id", "task_id") and isinstance(item, str):
                    found.add(item)
                stack.append(item)
        elif isinstance(value, list):
            stack.extend(value)
    return found
