"""Every create (and extend) refuses a text over its bound naming the caller's own field, in the
caller's dialect and error shape: a too-long prompt is ``prompt`` on ``/v1/videos``,
``messages[1].content`` on chat, ``user_prompt`` on the reseller's routes
(service/create_command.py, ``CreateFields``).

One in-process app per database (no server start-up): each case is one request through the
whole stack (the reseller's through its hot path), refused before anything is stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lumagate.api.app import create_app
from lumagate.domain.limits import MAX_IDEMPOTENCY_KEY, MAX_PROMPT, MAX_SHORT_TEXT, MAX_URL
from lumagate.settings import Settings
from tests.support.boundary import refused
from tests.support.databases import drop_pg_database, migrated_pg_database, replica_secrets

ADMIN_KEY = "sk-lg-admin-field-names"
PROMPT = "p" * (MAX_PROMPT + 1)
URL = "https://example.test/" + "u" * MAX_URL
SHORT = "s" * (MAX_SHORT_TEXT + 1)
KEY = {"Idempotency-Key": "k" * (MAX_IDEMPOTENCY_KEY + 1)}
FOX = "a red fox running"
UNKNOWN = "00000000-0000-4000-8000-000000000000"  # a well-formed id no task has


@dataclass(frozen=True)
class Case:
    """One too-long text sent to one create route, and the field its 400 must name."""

    path: str
    body: dict[str, Any]
    field: str
    headers: dict[str, str] = field(default_factory=dict)
    says: str = ""  # the message, when the dialect has its own ("{field} is longer than…")
    form: bool = False  # send ``body`` as multipart form fields

    def __str__(self) -> str:
        return f"{self.path}:{self.field}"


def _dialect(path: str, base: dict[str, Any], fields: dict[str, Any]) -> list[Case]:
    """A case per ``field: value`` (over ``base``), and one for the Idempotency-Key."""
    cases = [Case(path, {**base, name: value}, name) for name, value in fields.items()]
    return [*cases, Case(path, base, "Idempotency-Key", KEY)]


def _chat(content: Any) -> dict[str, Any]:
    return {
        "model": "luma",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": content},
        ],
    }


RESELLER = {
    "model_name": SHORT,
    "model": SHORT,
    "aspect_ratio": SHORT,
    "resolution": SHORT,
    "duration": SHORT,
    "notify_hook": URL,
    "image_url": URL,
    "image_end_url": URL,
}
MOCK = {
    "model": SHORT,
    "aspect_ratio": SHORT,
    "resolution": SHORT,
    "duration": SHORT,
    "image": URL,
    "image_end": URL,
}
OPENAI = {"model": SHORT, "aspect_ratio": SHORT, "resolution": SHORT, "input_reference": URL}
NEWAPI = {
    "model": SHORT,
    "aspect_ratio": SHORT,
    "resolution": SHORT,
    "callback_url": URL,
    "image": URL,
}
CHAT = {"aspect_ratio": SHORT, "resolution": SHORT, "duration": SHORT}
OFFICIAL_FRAMES = [
    Case(
        path,
        {"prompt": FOX, "keyframes": {name: {"type": "image", "url": URL}}},
        f"keyframes.{name}.url",
    )
    for path in ("/dream-machine/v1/generations", "/dream-machine/v1/generations/video")
    for name in ("frame0", "frame1")
]
CASES: list[Case] = [
    # reseller (the hot path and, under /pro, the same route with another prefix and base)
    Case("/luma/generations", {"user_prompt": PROMPT}, "user_prompt"),
    Case("/pro/luma/V1/generations", {"user_prompt": PROMPT}, "user_prompt"),
    *_dialect("/luma/generations", {"user_prompt": FOX}, RESELLER),
    # reseller extends: refused for the caller's text before the source is looked up
    *_dialect(f"/luma/generations/{UNKNOWN}/extend", {"user_prompt": FOX}, RESELLER),
    Case(f"/vip/luma/generations/{UNKNOWN}/extend", {"user_prompt": PROMPT}, "user_prompt"),
    # official: its own prompt rule first, with Luma's message
    *[
        Case(path, {"prompt": PROMPT}, "prompt", says="Prompt is too long")
        for path in ("/dream-machine/v1/generations", "/dream-machine/v1/generations/video")
    ],
    *_dialect("/dream-machine/v1/generations", {"prompt": FOX}, {"callback_url": URL}),
    Case(
        "/dream-machine/v1/generations", {"prompt": FOX, "concepts": [{"key": SHORT}]}, "concepts"
    ),
    *OFFICIAL_FRAMES,
    # luma-mock
    Case("/api/generations/create", {"prompt": PROMPT}, "prompt"),
    *_dialect("/api/generations/create", {"prompt": FOX}, MOCK),
    # OpenAI videos: JSON, the reference object, multipart; a frame shape from size
    Case("/v1/videos", {"prompt": PROMPT}, "prompt"),
    Case("/v1/videos", {"prompt": PROMPT}, "prompt", form=True),
    *_dialect("/v1/videos", {"prompt": FOX}, OPENAI),
    Case(
        "/v1/videos",
        {"prompt": FOX, "input_reference": {"image_url": URL}},
        "input_reference.image_url",
    ),
    Case(
        "/v1/videos",
        {"prompt": FOX, "input_reference[image_url]": URL},
        "input_reference.image_url",
        form=True,
    ),
    Case("/v1/videos", {"prompt": FOX, "size": "1280x720", "aspect_ratio": SHORT}, "aspect_ratio"),
    # OpenAI chat: the prompt is the last user message's content
    Case("/v1/chat/completions", _chat(PROMPT), "messages[1].content"),
    Case("/v1/chat/completions", _chat([{"type": "text", "text": PROMPT}]), "messages[1].content"),
    Case(
        "/v1/chat/completions",
        _chat([{"type": "text", "text": FOX}, {"type": "image_url", "image_url": {"url": URL}}]),
        "messages.content.image_url",
    ),
    *_dialect("/v1/chat/completions", _chat(FOX), CHAT),
    # new-api: each place a value can come from is the field named
    Case("/v1/video/generations", {"prompt": PROMPT}, "prompt"),
    Case("/v1/video/generations", {"prompt": PROMPT}, "prompt", form=True),
    *_dialect("/v1/video/generations", {"prompt": FOX}, NEWAPI),
    *[
        Case(
            "/v1/video/generations", {"prompt": FOX, "metadata": {name: value}}, f"metadata.{name}"
        )
        for name, value in (
            ("aspect_ratio", SHORT),
            ("resolution", SHORT),
            ("callback_url", URL),
            ("notify_hook", URL),
        )
    ],
    Case("/v1/video/generations", {"prompt": FOX, "images": [URL]}, "images[0]"),
    Case(
        "/v1/video/generations",
        {"prompt": FOX, "images": ["https://e.test/a.png", URL]},
        "images[1]",
    ),
    Case(
        "/v1/video/generations",
        {"prompt": FOX, "media": [{"type": "image", "url": URL}]},
        "media[0]",
    ),
    Case(
        "/v1/video/generations",
        {"prompt": FOX, "image": "https://e.test/a.png", "metadata": {"image_end": URL}},
        "metadata.image_end",
    ),
]


@pytest.fixture(scope="module")
def http(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app in this process on ``backend``, as a client holding a tenant's key."""
    data_dir: Path = tmp_path_factory.mktemp(f"fields-{backend}")
    pg_name, settings = None, {}
    if backend == "postgresql":
        pg_name, url = migrated_pg_database()
        settings = {"database_url": url, "secret_key": replica_secrets()["secret_key"]}
    app = create_app(
        Settings(data_dir=data_dir, admin_key=ADMIN_KEY, **settings), start_engine=False
    )
    try:
        with TestClient(app, base_url="http://gateway") as client:
            admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
            created = client.post("/admin/keys", json={"name": "tenant"}, headers=admin)
            assert created.status_code == 201, created.text
            client.headers["Authorization"] = f"Bearer {created.json()['key']}"
            yield client
    finally:
        if pg_name is not None:
            drop_pg_database(pg_name)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_too_long_text_is_refused_naming_the_dialects_field(http: TestClient, case: Case) -> None:
    if case.form:  # multipart text parts: (no file name, value)
        parts = {name: (None, value) for name, value in case.body.items()}
        response = http.post(case.path, files=parts, headers=case.headers)
    else:
        response = http.post(case.path, json=case.body, headers=case.headers)
    says = case.says or f"{case.field} is longer than"
    message = refused(response, status=400)  # in the path's dialect's error shape
    assert message.startswith(says), (case.path, message)  # "prompt" is in "user_prompt"


def test_nothing_refused_was_stored(http: TestClient) -> None:
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    listed = http.get("/admin/tasks", params={"limit": 10}, headers=admin)
    assert listed.status_code == 200, listed.text
    assert listed.json()["data"] == []
