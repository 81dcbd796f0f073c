"""The official-API surface of ``lumagate sim`` over real HTTP (UPSTREAM.md §1)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from lumagate.sim.testing import CallbackRecorder, SimServer, StartSim

API = "/dream-machine/v1"
TERMINAL = ("completed", "failed")


def official(sim: SimServer, key: str = "luma-alice") -> httpx.Client:
    return sim.client(headers={"Authorization": f"Bearer {key}"})


def create(client: httpx.Client, **body: Any) -> httpx.Response:
    payload: dict[str, Any] = {"model": "ray-2", "prompt": "a red fox in the snow", **body}
    return client.post(f"{API}/generations/video", json=payload)


def wait_state(
    client: httpx.Client, generation_id: str, states: Iterable[str] = TERMINAL, timeout: float = 10
) -> dict[str, Any]:
    wanted = set(states)
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(f"{API}/generations/{generation_id}").json()
        if body["state"] in wanted:
            return body
        assert time.monotonic() < deadline, f"stuck in {body['state']}"
        time.sleep(0.05)


def test_create_poll_complete_and_download_real_mp4(sim: SimServer, tmp_path: Path) -> None:
    with official(sim) as client:
        response = create(client, aspect_ratio="9:16", resolution="720p", loop=True)
        assert response.status_code == 201
        created = response.json()
        assert created["state"] == "queued"
        assert created["generation_type"] == "video"
        assert created["model"] == "ray-2"
        assert created["created_at"].endswith("Z")
        assert created["request"]["aspect_ratio"] == "9:16"
        assert created["assets"]["video"] is None

        seen = {wait_state(client, created["id"], ("dreaming", "completed"))["state"]}
        done = wait_state(client, created["id"])
        seen.add(done["state"])
        assert seen == {"dreaming", "completed"} or seen == {"completed"}
        assert done["state"] == "completed"
        assert done["failure_reason"] is None

        video = client.get(done["assets"]["video"])
        assert video.status_code == 200
        assert video.headers["content-type"] == "video/mp4"
        partial = client.get(done["assets"]["video"], headers={"Range": "bytes=0-99"})
        assert partial.status_code == 206
        assert len(partial.content) == 100
        image = client.get(done["assets"]["image"])
        assert image.status_code == 200
        assert image.content[:2] == b"\xff\xd8"

    path = tmp_path / "clip.mp4"
    path.write_bytes(video.content)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.height > stream.width  # 9:16
        frames = sum(1 for _ in container.decode(stream))
    assert frames >= 24


def test_list_pages_newest_first(sim: SimServer) -> None:
    with official(sim, "luma-lister") as client:
        ids = [create(client, prompt=f"prompt number {i}").json()["id"] for i in range(5)]
        first = client.get(f"{API}/generations", params={"limit": 2, "offset": 0}).json()
        assert [g["id"] for g in first["generations"]] == [ids[4], ids[3]]
        assert first["has_more"] is True
        assert (first["count"], first["limit"], first["offset"]) == (2, 2, 0)
        last = client.get(f"{API}/generations", params={"limit": 2, "offset": 4}).json()
        assert [g["id"] for g in last["generations"]] == [ids[0]]
        assert last["has_more"] is False
        big = client.get(f"{API}/generations", params={"limit": 500}).json()
        assert big["limit"] == 100
        assert [g["id"] for g in big["generations"]] == ids[::-1]
    with official(sim, "luma-someone-else") as other:
        assert other.get(f"{API}/generations").json()["generations"] == []
        assert other.get(f"{API}/generations/{ids[0]}").status_code == 404


def test_bad_keys_are_401_and_counted(sim: SimServer) -> None:
    with sim.client() as anonymous:
        response = anonymous.post(f"{API}/generations", json={"model": "ray-2", "prompt": "hello"})
        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid API key"}
    with official(sim, "sk-not-luma") as wrong:
        assert wrong.get(f"{API}/credits").status_code == 401
    with sim.client() as debug:
        stats = debug.get("/_sim/stats").json()
    assert stats["sk-not-luma"]["unauthorized"] == 1
    assert stats["<missing>"]["unauthorized"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": "a fox"},  # model missing
        {"model": "ray-9", "prompt": "a fox"},
        {"model": "ray-2"},  # no prompt, no keyframes
        {"model": "ray-2", "prompt": "ab"},
        {"model": "ray-2", "prompt": "x" * 5001},
        {"model": "ray-2", "prompt": "a fox", "aspect_ratio": "5:3"},
        {"model": "ray-2", "prompt": "a fox", "resolution": "8k"},
        {"model": "ray-2", "prompt": "a fox", "duration": "7s"},
        {"model": "ray-2", "keyframes": {"frame0": {"type": "video", "url": "http://x/y"}}},
        {"model": "ray-2", "keyframes": {"frame0": {"type": "image", "url": "data:abc"}}},
    ],
)
def test_validation_errors_are_400(sim: SimServer, body: dict[str, Any]) -> None:
    with official(sim) as client:
        response = client.post(f"{API}/generations", json=body)
    assert response.status_code == 400
    assert isinstance(response.json()["detail"], str)


def test_image_keyframes_alone_are_enough(sim: SimServer) -> None:
    frames = {"frame0": {"type": "image", "url": "https://example.com/a.jpg"}}
    with official(sim) as client:
        assert create(client, prompt=None, keyframes=frames).status_code == 201


def test_concurrency_limit_429_and_max_running(start_sim: StartSim) -> None:
    sim = start_sim(max_concurrency=2, dreaming_seconds=30)
    with official(sim, "luma-busy") as client:
        assert create(client).status_code == 201
        assert create(client).status_code == 201
        third = create(client)
        assert third.status_code == 429
        assert third.json() == {"detail": "Too many concurrent generations"}
    with official(sim, "luma-idle") as other:
        assert create(other).status_code == 201  # limits are per key
    with sim.client() as debug:
        stats = debug.get("/_sim/stats").json()
    assert stats["luma-busy"]["max_running"] == 2
    assert stats["luma-busy"]["running"] == 2
    assert stats["luma-busy"]["rate_limited"] == 1
    assert stats["luma-busy"]["creates"] == 2


def test_deleting_a_running_generation_frees_a_slot(start_sim: StartSim) -> None:
    sim = start_sim(max_concurrency=1, dreaming_seconds=30)
    with official(sim) as client:
        first = create(client).json()
        assert create(client).status_code == 429
        assert client.delete(f"{API}/generations/{first['id']}").status_code == 204
        assert client.get(f"{API}/generations/{first['id']}").status_code == 404
        assert client.delete(f"{API}/generations/{first['id']}").status_code == 404
        assert create(client).status_code == 201


def test_creates_per_minute_429(start_sim: StartSim) -> None:
    sim = start_sim(creates_per_minute=3)
    with official(sim) as client:
        codes = [create(client).status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]
    with sim.client() as debug:
        assert debug.get("/_sim/stats").json()["luma-alice"]["rate_limited"] == 1
        assert len(debug.get("/_sim/ledger").json()["entries"]) == 3


def test_moderation_marker_fails_after_queue_and_refunds(sim: SimServer) -> None:
    with official(sim) as client:
        before = client.get(f"{API}/credits").json()["credit_balance"]
        created = create(client, prompt="a blocked-word landscape").json()
        assert created["state"] == "queued"
        assert client.get(f"{API}/credits").json()["credit_balance"] == before - 40
        failed = wait_state(client, created["id"])
        assert failed["state"] == "failed"
        assert failed["failure_reason"] == "Advanced prompt moderation failed"
        assert failed["assets"]["video"] is None
        assert client.get(f"{API}/credits").json()["credit_balance"] == before


def test_extend_needs_a_completed_generation_of_the_same_key(sim: SimServer) -> None:
    with official(sim, "luma-owner") as owner, official(sim, "luma-stranger") as stranger:
        source = create(owner).json()
        frames = {"frame0": {"type": "generation", "id": source["id"]}}
        early = create(owner, prompt="continue", keyframes=frames)
        assert early.status_code == 400
        assert "not completed" in early.json()["detail"]
        wait_state(owner, source["id"])
        extended = create(owner, prompt="continue", keyframes=frames)
        assert extended.status_code == 201
        assert extended.json()["request"]["keyframes"]["frame0"]["id"] == source["id"]
        foreign = create(stranger, prompt="continue", keyframes=frames)
        assert foreign.status_code == 400
        assert "not found" in foreign.json()["detail"]
    with sim.client() as debug:
        kinds = [e["kind"] for e in debug.get("/_sim/ledger").json()["entries"]]
    assert kinds == ["create", "extend"]


def test_callbacks_for_each_state_with_retries(sim: SimServer) -> None:
    with CallbackRecorder(fail_first={"dreaming": 2}) as hooks, official(sim) as client:
        ok = create(client, callback_url=hooks.url).json()
        bad = create(client, prompt="some blocked-word", callback_url=hooks.url).json()
        wait_state(client, ok["id"])
        deadline = time.monotonic() + 5
        while len(hooks.received) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert hooks.states_for(ok["id"]) == ["dreaming", "completed"]
        assert hooks.states_for(bad["id"]) == ["failed"]
        completed = next(p for p in hooks.received if p["state"] == "completed")
        assert completed["assets"]["video"].endswith(".mp4")
        assert hooks.attempts == 5  # two 500s for "dreaming" were retried
    with sim.client() as debug:
        deliveries = debug.get("/_sim/callbacks").json()["deliveries"]
    assert all(d["delivered"] for d in deliveries)


def test_callbacks_leave_when_the_state_begins_not_at_the_next_tick(start_sim: StartSim) -> None:
    """The ticker wakes at each phase change itself: with its period an hour and no request
    to sync the timeline, only that wake-up can send these callbacks."""
    sim = start_sim(queued_seconds=0.3, dreaming_seconds=0.3)
    sim.runtime.config = sim.runtime.config.model_copy(update={"tick_seconds": 3600.0})
    with CallbackRecorder() as hooks, official(sim) as client:
        created = create(client, callback_url=hooks.url).json()
        deadline = time.monotonic() + 10
        while len(hooks.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert hooks.states_for(created["id"]) == ["dreaming", "completed"]
    generation = sim.runtime.world.generations[created["id"]]
    assert generation.state == "completed"


def test_callbacks_can_be_duplicated_and_dead_receivers_are_harmless(
    start_sim: StartSim,
) -> None:
    sim = start_sim(callback_duplicate_rate=1.0, callback_retries=1, callback_retry_delay=0.01)
    with CallbackRecorder() as hooks, official(sim) as client:
        created = create(client, callback_url=hooks.url).json()
        dead = create(client, callback_url="http://127.0.0.1:9/nowhere").json()
        wait_state(client, created["id"])
        wait_state(client, dead["id"])
        deadline = time.monotonic() + 5
        while len(hooks.received) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert hooks.states_for(created["id"]) == ["dreaming", "dreaming", "completed", "completed"]
        assert client.get(f"{API}/ping").json() == {"message": "pong"}


def test_the_lumaai_sdk_can_drive_the_sim(sim: SimServer) -> None:
    lumaai = pytest.importorskip("lumaai")
    http = httpx.Client(trust_env=False)
    client = lumaai.LumaAI(auth_token="luma-sdk", base_url=f"{sim.base_url}{API}", http_client=http)
    generation = client.generations.create(prompt="a lighthouse at dusk", model="ray-2")
    deadline = time.monotonic() + 10
    while generation.state not in TERMINAL and time.monotonic() < deadline:
        time.sleep(0.1)
        generation = client.generations.get(generation.id)
    assert generation.state == "completed"
    assert generation.assets is not None and generation.assets.video
    page = client.generations.list(limit=10)
    assert [g.id for g in page.generations] == [generation.id]
    assert client.credits.get().credit_balance > 0
