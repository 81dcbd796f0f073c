"""The luma-mock dialect (seed 003) as its clients use it: ``Secret-Key`` auth, a multipart
upload whose ``public_url`` becomes the start image, create, list (newest first, paged), get,
usage, all in ``{"data": …}`` envelopes."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.acceptance import (
    assert_flat,
    assert_usage,
    client,
    decode_video_of,
    mad,
    png_bytes,
    start_picture,
    start_server,
    wait_completed,
)
from tests.support.databases import ServerDatabase

pytestmark = pytest.mark.slow


def test_upload_create_list_get_usage(tmp_path: Path, server_database: ServerDatabase) -> None:
    server = start_server(tmp_path / "data", **server_database())
    try:
        key = server.create_key("mock-user")
        headers = {"Secret-Key": key}
        with (
            httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as mock,
            client(server.base_url, key) as bearer,
        ):
            picture = start_picture((256, 256))
            upload = mock.post(
                "/api/generations/upload", files={"file": ("start.png", png_bytes(picture))}
            )
            assert upload.status_code == 200, upload.text
            uploaded = upload.json()["data"]
            assert set(uploaded) == {"id", "presigned_url", "public_url"}
            assert uploaded["public_url"].startswith(server.base_url + "/files/")
            assert mock.get(uploaded["public_url"]).content == png_bytes(picture)

            first = mock.post(
                "/api/generations/create",
                json={
                    "prompt": "the picture comes alive",
                    "image": uploaded["public_url"],
                    "aspect_ratio": "1:1",
                    "resolution": "540p",
                },
            )
            assert first.status_code == 200, first.text
            created = first.json()
            assert created["message"] == "Success" and len(created["data"]) == 1
            first_id = created["data"][0]["id"]
            assert_flat(created["data"][0], first_id)
            second = mock.post(
                "/api/generations/create",
                json={"prompt": "a kitten in motion", "image": "", "resolution": "540p"},
            ).json()["data"][0]["id"]

            listed = mock.get("/api/generations", params={"offset": 0, "limit": 10}).json()
            assert [g["id"] for g in listed["data"]] == [second, first_id]  # newest first
            page = mock.get("/api/generations", params={"offset": 1, "limit": 1}).json()
            assert [g["id"] for g in page["data"]] == [first_id]

            wait_completed(bearer, first_id)
            got = mock.get(f"/api/generations/{first_id}").json()
            assert set(got) == {"data"}
            assert_flat(got["data"], first_id)
            assert got["data"]["state"] == "completed"
            video = decode_video_of(bearer, got["data"])
            assert mad(video.first, picture) < 12.0  # the upload was the start frame

            usage = mock.get("/api/generations/usage").json()
            assert set(usage) == {"data"}
            assert_usage(usage["data"])
            assert usage["data"]["consumed"] >= 1

            via_bearer = bearer.get(f"/api/generations/{first_id}")
            assert via_bearer.status_code == 200
            not_image = mock.post(
                "/api/generations/upload", files={"file": ("x.txt", b"plain text")}
            )
            assert not_image.status_code == 400 and set(not_image.json()) == {"message"}
            no_file = mock.post("/api/generations/upload", files={"other": ("a.png", b"x")})
            assert no_file.status_code == 400 and "file" in no_file.json()["message"]
            as_json = mock.post("/api/generations/upload", json={"file": "x"})
            assert as_json.status_code == 400 and set(as_json.json()) == {"message"}
    finally:
        server.stop()
