"""The web-app surface of ``lumagate sim`` over real HTTP (UPSTREAM.md §2)."""

from __future__ import annotations

import io
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from PIL import Image

from lumagate.sim.testing import SimServer, StartSim
from tests.support.waiting import wait_until

PHOTON = "/api/photon/v1"


class WebSession:
    """A browser-like client holding one cookie string; ``merge`` decides if it takes Set-Cookie."""

    def __init__(self, sim: SimServer, token: str, *, merge: bool = True) -> None:
        self.token = token
        self.merge = merge
        self.http = sim.client()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Cookie": f"luma_session=abc; access_token={self.token}; other=1"}
        response = self.http.request(method, path, headers=headers, **kwargs)
        self.http.cookies.clear()  # the cookie string above is the only state we keep
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            if self.merge and name.strip() == "access_token":
                self.token = rest.split(";", 1)[0]
        return response

    def create(self, prompt: str = "a paper boat on a pond", **body: Any) -> httpx.Response:
        payload = {"user_prompt": prompt, "aspect_ratio": "16:9", "expand_prompt": True, **body}
        return self.request("POST", f"{PHOTON}/generations/", json=payload)

    def get(self, generation_id: str) -> dict[str, Any]:
        response = self.request("GET", f"{PHOTON}/generations/{generation_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def wait_done(self, generation_id: str, timeout: float = 10) -> list[dict[str, Any]]:
        """Poll until completed WITH a video (or failed); return every poll seen."""
        polls: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            polls.append(self.get(generation_id))
            last = polls[-1]
            if last["state"] == "failed" or (last["state"] == "completed" and last["video"]):
                return polls
            time.sleep(0.05)
        raise AssertionError(f"not done: {polls[-1]}")


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_web_create_returns_an_array_and_completes(sim: SimServer) -> None:
    web = WebSession(sim, "alice-token")
    response = web.create(aspect_ratio="9:16")
    assert response.status_code == 201
    body = response.json()
    assert isinstance(body, list) and len(body) == 1
    created = body[0]
    assert created["state"] == "pending"
    assert created["video"] is None
    for key in ("batch_id", "queue_state", "estimate_wait_seconds", "liked", "created_at"):
        assert key in created
    polls = web.wait_done(created["id"])
    states = [p["state"] for p in polls]
    assert set(states) <= {"pending", "processing", "completed"}
    done = polls[-1]
    assert done["state"] == "completed"
    assert (done["video"]["width"], done["video"]["height"]) == (720, 1280)
    assert done["video_raw"]["url"] != done["video"]["url"]
    for key in ("thumbnail", "last_frame"):
        assert web.request("GET", done[key]["url"]).content[:2] == b"\xff\xd8"
    listed = web.request("GET", f"{PHOTON}/user/generations/", params={"offset": 0, "limit": 5})
    assert [g["id"] for g in listed.json()] == [created["id"]]


def test_completed_with_null_video_is_shown_on_the_first_poll(start_sim: StartSim) -> None:
    sim = start_sim(web_null_video_rate=1.0)
    web = WebSession(sim, "quirky")
    created = web.create().json()[0]
    polls = web.wait_done(created["id"])
    completed = [p for p in polls if p["state"] == "completed"]
    assert completed[0]["video"] is None
    assert completed[-1]["video"] is not None
    assert len(completed) == 2


def test_list_is_newest_first(sim: SimServer) -> None:
    web = WebSession(sim, "lister")
    ids = [web.create(f"prompt {i}").json()[0]["id"] for i in range(3)]
    page = web.request("GET", f"{PHOTON}/user/generations/", params={"offset": 1, "limit": 5})
    assert [g["id"] for g in page.json()] == [ids[1], ids[0]]


def test_download_video_url_is_400_until_completed(sim: SimServer) -> None:
    web = WebSession(sim, "downloader")
    created = web.create().json()[0]
    early = web.request("GET", f"{PHOTON}/generations/{created['id']}/download_video_url")
    assert early.status_code == 400
    done = web.wait_done(created["id"])[-1]
    ready = web.request("GET", f"{PHOTON}/generations/{created['id']}/download_video_url")
    assert ready.status_code == 200
    url = ready.json()["url"]
    assert url != done["video"]["url"]
    clean = web.request("GET", url)
    marked = web.request("GET", done["video"]["url"])
    assert clean.headers["content-type"] == marked.headers["content-type"] == "video/mp4"
    assert clean.content[4:8] == b"ftyp"
    assert clean.content != marked.content


def test_upload_put_and_public_url(sim: SimServer) -> None:
    web = WebSession(sim, "uploader")
    slot = web.request(
        "POST",
        f"{PHOTON}/generations/file_upload",
        params={"file_type": "image", "filename": "file.jpg"},
    ).json()
    assert set(slot) == {"id", "presigned_url", "public_url"}
    assert "/app_data/photon/user_uploads/" in slot["public_url"]
    with sim.client() as plain:
        assert plain.get(slot["public_url"]).status_code == 404  # nothing PUT yet
        not_image = plain.put(
            slot["presigned_url"], content=b"hello", headers={"Content-Type": "image/jpeg"}
        )
        assert not_image.status_code == 400
        forged = plain.put(slot["presigned_url"].split("?")[0] + "?signature=x", content=b"x")
        assert forged.status_code == 403
        data = jpeg_bytes()
        put = plain.put(slot["presigned_url"], content=data, headers={"Content-Type": "image/jpeg"})
        assert put.status_code == 200
        served = plain.get(slot["public_url"])
        assert served.status_code == 200
        assert served.content == data
        assert served.headers["content-type"] == "image/jpeg"

    assert web.create(image_url=slot["public_url"]).status_code == 201
    assert web.create(image_url="https://example.com/cat.jpg").status_code == 201
    with sim.client() as debug:
        assert debug.get("/_sim/stats").json()["uploader"]["foreign_images"] == 1


def test_rotation_keeps_a_merging_client_alive_and_kills_the_other(
    start_sim: StartSim,
) -> None:
    sim = start_sim(session_lifetime_seconds=1.0, session_rotate_seconds=0.3)
    merger = WebSession(sim, "merger", merge=True)
    stubborn = WebSession(sim, "stubborn", merge=False)
    stubborn_codes: list[int] = []
    rotated = False
    deadline = time.monotonic() + 15
    while not (rotated and stubborn_codes[-1:] == [401]):  # the merger outlives the other
        assert time.monotonic() < deadline, (rotated, stubborn_codes)
        response = merger.request("GET", "/api/users/v1/me")
        assert response.status_code == 200
        rotated = rotated or bool(response.headers.get_list("set-cookie"))
        stubborn_codes.append(stubborn.request("GET", "/api/users/v1/me").status_code)
        time.sleep(0.1)
    assert rotated and merger.token != "merger"
    assert stubborn_codes[0] == 200 and stubborn_codes[-1] == 401
    assert merger.create().status_code == 201
    assert stubborn.create().status_code == 401
    with sim.client() as debug:
        ledger = debug.get("/_sim/ledger").json()["entries"]
        stats = debug.get("/_sim/stats").json()
    assert [e["credential"] for e in ledger] == ["merger"]  # rotated tokens keep the identity
    assert stats["stubborn"]["unauthorized"] >= 2


def test_expire_endpoint_kills_a_session(sim: SimServer) -> None:
    web = WebSession(sim, "victim")
    assert web.request("GET", "/api/users/v1/me").status_code == 200
    with sim.client() as debug:
        assert debug.post("/_sim/sessions/expire", json={"credential": "victim"}).status_code == 200
        unknown = debug.post("/_sim/sessions/expire", json={"credential": "nobody"})
        assert unknown.status_code == 404
    response = web.request("GET", f"{PHOTON}/subscription/usage")
    assert response.status_code == 401
    with sim.client() as anonymous:
        assert anonymous.get("/api/users/v1/me").status_code == 401


def test_web_limits_extend_and_usage(start_sim: StartSim) -> None:
    sim = start_sim(max_concurrency=1)
    web = WebSession(sim, "limited")
    first = web.create().json()[0]
    busy = web.create()
    assert busy.status_code == 429
    assert busy.json() == {"detail": "Maximum usage limit exceeded"}
    web.wait_done(first["id"])
    extended = web.request("POST", f"{PHOTON}/generations/{first['id']}/extend", json={})
    assert extended.status_code == 201
    assert isinstance(extended.json(), list)
    other = WebSession(sim, "outsider")
    theirs = other.request("POST", f"{PHOTON}/generations/{first['id']}/extend", json={})
    assert theirs.status_code == 404
    usage = web.request("GET", f"{PHOTON}/subscription/usage").json()
    assert usage["consumed"] == 2
    assert usage["available"] == usage["capacity"] - 2
    assert usage["subscription"] == {"active": True, "plan": "pro", "type": None}
    with sim.client() as debug:
        kinds = [(e["surface"], e["kind"]) for e in debug.get("/_sim/ledger").json()["entries"]]
    assert kinds == [("web", "create"), ("web", "extend")]


def test_web_moderation(sim: SimServer) -> None:
    web = WebSession(sim, "moderated")
    created = web.create("a blocked-word scene").json()[0]
    failed = web.wait_done(created["id"])[-1]
    assert failed["state"] == "failed"
    assert failed["failure_reason"] == "Advanced prompt moderation failed"


def test_media_links_expire_after_the_ttl_and_download_url_gives_a_fresh_one(
    start_sim: StartSim,
) -> None:
    sim = start_sim(media_ttl_seconds=1.0)
    web = WebSession(sim, "expiring")
    created = web.create().json()[0]
    done = web.wait_done(created["id"])[-1]
    links = [done["video"]["url"], done["video_raw"]["url"], done["thumbnail"]["url"]]
    assert all("exp=" in link and "sig=" in link for link in links)
    assert web.request("GET", done["video_raw"]["url"]).status_code == 200
    deadline = float(parse_qs(urlsplit(done["video_raw"]["url"]).query)["exp"][0])
    wait_until(lambda: time.time() > deadline, "the link's expiry passed", timeout=10)
    assert [web.request("GET", link).status_code for link in links] == [403, 403, 403]
    unsigned = done["video_raw"]["url"].split("?", 1)[0]
    assert web.request("GET", unsigned).status_code == 403
    fresh = web.request("GET", f"{PHOTON}/generations/{created['id']}/download_video_url")
    video = web.request("GET", fresh.json()["url"])
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"
    with sim.client() as debug:
        media = debug.get("/_sim/media").json()
    assert media["expired"] == 3 and media["served"] == {f"{created['id']}.mp4": 2}


def test_the_media_switch_answers_503_or_404(sim: SimServer) -> None:
    web = WebSession(sim, "switch")
    created = web.create().json()[0]
    url = web.wait_done(created["id"])[-1]["video_raw"]["url"]
    with sim.client() as debug:
        assert debug.post("/_sim/media", json={"mode": "unavailable"}).is_success
        assert web.request("GET", url).status_code == 503
        assert debug.post("/_sim/media", json={"mode": "gone"}).is_success
        assert web.request("GET", url).status_code == 404
        assert debug.post("/_sim/media", json={"mode": "ok"}).is_success
        assert web.request("GET", url).status_code == 200
        assert debug.post("/_sim/media", json={"mode": "lost"}).status_code in (400, 422)
