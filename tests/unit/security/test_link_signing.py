"""Expiring media links: valid until their expiry, bound to their key, 404 otherwise."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
from fastapi import FastAPI

from lumagate.api.files import files_router
from lumagate.media.store import MediaStore
from lumagate.security.crypto import SecretBox
from lumagate.security.link_signing import LinkSigner

KEY = b"k" * 32


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _params(query: str) -> dict[str, str]:
    return dict(parse_qsl(query))


def test_a_link_is_valid_until_it_expires() -> None:
    clock = Clock(1_000_000.0)
    signer = LinkSigner(KEY, 600, clock)
    params = _params(signer.query("videos/abc/video.mp4"))
    assert int(params["expires"]) >= clock.now + 600 and int(params["expires"]) % 60 == 0
    assert signer.valid("videos/abc/video.mp4", params)
    assert not signer.valid("videos/abd/video.mp4", params)  # bound to its key
    assert not signer.valid("videos/abc/video.mp4", {**params, "expires": "9999999999"})
    assert not signer.valid("videos/abc/video.mp4", {"expires": params["expires"]})
    assert not signer.valid("videos/abc/video.mp4", {"expires": "-1", "sig": params["sig"]})
    clock.now = int(params["expires"]) + 1
    assert not signer.valid("videos/abc/video.mp4", params)


def test_the_signing_key_is_derived_per_purpose() -> None:
    box = SecretBox(b"0" * 43 + b"=")
    assert box.derive("media-links") == SecretBox(b"0" * 43 + b"=").derive("media-links")
    assert box.derive("media-links") != box.derive("other")


async def test_files_are_served_only_through_a_valid_signed_link(tmp_path: Path) -> None:
    clock = Clock(2_000_000.0)
    store = MediaStore(tmp_path / "media", "http://testserver", signer=LinkSigner(KEY, 60, clock))
    key = store.save_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 32, "uploads", ".png")
    app = FastAPI()
    app.include_router(files_router(lambda request: store))
    link = urlsplit(store.public_url("media:" + key))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        assert (await http.get(f"{link.path}?{link.query}")).status_code == 200
        assert (await http.get(link.path)).status_code == 404
        clock.now += 3600
        assert (await http.get(f"{link.path}?{link.query}")).status_code == 404
