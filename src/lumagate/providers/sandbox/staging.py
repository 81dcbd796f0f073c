"""What a sandbox render reads and writes: its inputs gathered, its files put in the media store.

Split from ``provider.py`` (which keeps the job's life: claim, lease, progress, outcome) so the
provider stays readable: here a job's request becomes a :class:`RenderSpec` (keyframes and the
extended video fetched from the media store), and a render's files land where the media store
keeps them (straight into the data dir's media, or rendered into a scratch folder and uploaded
to object storage). A keyframe that cannot be read raises :class:`ImageUnavailable`, whose
message is the task's failure reason as it stands (never an address).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from lumagate.domain.render_jobs import RenderJob
from lumagate.domain.request import GenerationRequest, media_ref
from lumagate.domain.video import FRAMES_PER_SECOND, frame_count, frame_size
from lumagate.media.file_modes import private_dir, tighten_existing
from lumagate.media.store import MediaFetchError, MediaNotFound, MediaStore

if TYPE_CHECKING:  # the renderer (PyAV, numpy, Pillow: ~40 MiB) loads on the first render
    from lumagate.providers.sandbox.render import RenderSpec

UPLOAD_TIMEOUT_SECONDS = 600.0
OUTPUTS = (
    ("video.mp4", "video/mp4"),
    ("thumbnail.jpg", "image/jpeg"),
    ("last_frame.jpg", "image/jpeg"),
)


class ImageUnavailable(Exception):
    """A keyframe could not be read; the message is the task's failure reason as it stands."""


def video_path(media: MediaStore, job: RenderJob) -> Path:
    """Where the job's video is in the data dir's media."""
    return media.dir_for(job.media_folder) / "video.mp4"


def render_and_store(
    media: MediaStore,
    spec: RenderSpec,
    job: RenderJob,
    scratch: Path,
    progress: Callable[[float], None],
    loop: asyncio.AbstractEventLoop,
) -> None:
    """Render (in a worker thread) into the media dir, or into ``scratch`` and upload."""
    from lumagate.providers.sandbox.render import render_video

    if media.local is not None:
        out = render_video(spec, media.dir_for(job.media_folder), progress)
        tighten_existing([out.video, out.thumbnail, out.last_frame])
        return
    out_dir = private_dir(scratch / "out")
    render_video(spec, out_dir, progress)
    for name, content_type in OUTPUTS:
        upload = media.put_file(f"{job.media_folder}/{name}", out_dir / name, content_type)
        asyncio.run_coroutine_threadsafe(upload, loop).result(UPLOAD_TIMEOUT_SECONDS)


async def render_spec(
    media: MediaStore,
    request: GenerationRequest,
    source: RenderJob | None,
    scratch: Path,
    fps: int = FRAMES_PER_SECOND,
) -> RenderSpec:
    """The render of ``request`` at ``fps`` (continuing ``source``'s video for an extend)."""
    from lumagate.providers.sandbox.render import RenderSpec

    size = frame_size(request.aspect_ratio, request.resolution)
    start = None if source else await _image(media, request.start_image, "image_url")
    end = await _image(media, request.end_image, "image_end_url")
    return RenderSpec(
        width=size.width,
        height=size.height,
        frames=frame_count(request.duration, fps),
        fps=fps,
        prompt=request.prompt,
        start_image=start,
        end_image=end,
        loop=request.loop,
        continue_from_video=await _source_video(media, source, scratch) if source else None,
    )


async def _source_video(media: MediaStore, source: RenderJob, scratch: Path) -> Path:
    """The extended video as a local file (fetched from object storage into ``scratch``)."""
    if media.local is not None:
        return video_path(media, source)
    try:
        data = (await media.read(media_ref(f"{source.media_folder}/video.mp4")))[0]
    except MediaNotFound:
        raise ImageUnavailable("The source video of this extend is no longer stored") from None
    private_dir(scratch)
    target = scratch / "source.mp4"
    await asyncio.to_thread(target.write_bytes, data)
    return target


async def _image(media: MediaStore, ref: str | None, field: str) -> bytes | None:
    """The image's bytes; a failure says only what the tenant may know (never an address)."""
    if ref is None:
        return None
    try:
        return (await media.read(ref))[0]
    except MediaFetchError as exc:
        raise ImageUnavailable(exc.describe(field)) from None
    except MediaNotFound:
        raise ImageUnavailable(f"the image at {field} is no longer stored") from None
