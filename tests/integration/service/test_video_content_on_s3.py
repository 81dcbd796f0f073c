"""Content served from object storage: the video streams from S3 and the spritesheet is tiled
from the object and kept as an object beside it (moto's S3 server over loopback)."""

from __future__ import annotations

from pathlib import Path

import av

from lumagate.media.s3 import S3Backend
from lumagate.media.store import MediaStore
from tests.support.s3 import ACCESS_KEY, REGION, SECRET_KEY, S3Server, s3_server
from tests.unit.media.test_spritesheet import grey_clip
from tests.unit.service.test_video_content import open_content, stored_task

__all__ = ["s3_server"]


def _store(server: S3Server) -> MediaStore:
    backend = S3Backend(
        server.new_bucket(),
        "lumagate/media",
        endpoint_url=server.endpoint,
        region=REGION,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
    )
    return MediaStore(backend, "http://gateway.test")


async def _joined(content: object) -> bytes:
    parts = [chunk async for chunk in content.chunks()]  # type: ignore[attr-defined]
    return b"".join(parts)


async def test_a_video_in_s3_streams_and_its_spritesheet_is_kept_beside_it(
    tmp_path: Path, s3_server: S3Server
) -> None:
    media = _store(s3_server)
    clip = tmp_path / "video.mp4"
    grey_clip(clip)
    await media.put_file("videos/a/video.mp4", clip, "video/mp4")
    task = stored_task("media:videos/a/video.mp4")

    video = await open_content(media, task, "video")
    data = await _joined(video)
    assert video.media_type == "video/mp4" and len(data) == video.size
    assert not (tmp_path / "media").exists()

    assert await media.stat("videos/a/spritesheet.jpg") is None
    sheet = await open_content(media, task, "spritesheet")
    jpeg = await _joined(sheet)
    assert sheet.media_type == "image/jpeg" and jpeg.startswith(b"\xff\xd8")
    kept = await media.stat("videos/a/spritesheet.jpg")
    assert kept is not None and kept.size == len(jpeg)
    sheet_path = tmp_path / "sheet.jpg"
    sheet_path.write_bytes(jpeg)
    with av.open(str(sheet_path)) as picture:
        frame = next(picture.decode(video=0))
    assert frame.width > frame.height > 0

    again = await open_content(media, task, "spritesheet")
    assert await _joined(again) == jpeg
