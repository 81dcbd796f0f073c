"""Integration tests for the sandbox renderer: decode the real MP4 output and compare pixels."""

from __future__ import annotations

import io
import struct
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from lumagate.providers.sandbox.render import (
    RenderOutput,
    RenderSpec,
    read_last_frame,
    render_video,
)

W, H = 320, 180  # small size for tests where the size itself is not under test
CLOSE = 6.0  # mean abs difference (0..255) that still counts as "the same picture"
FAR = 40.0  # ... and one that clearly means "a different picture"


def split_picture(size: tuple[int, int], left: str, right: str, mode: str = "RGB") -> Image.Image:
    """A picture whose left half is ``left`` and right half is ``right``."""
    img = Image.new("RGB", size, left)
    img.paste(Image.new("RGB", (size[0] - size[0] // 2, size[1]), right), (size[0] // 2, 0))
    return img.convert(mode)


def stripes_picture(size: tuple[int, int]) -> Image.Image:
    """Green top half, yellow bottom half: nothing like the red/blue split picture."""
    img = Image.new("RGB", size, "green")
    img.paste(Image.new("RGB", (size[0], size[1] - size[1] // 2), "yellow"), (0, size[1] // 2))
    return img


def encode(img: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def pixels(img: Image.Image, size: tuple[int, int] = (W, H)) -> np.ndarray:
    return np.asarray(img.convert("RGB").resize(size, Image.Resampling.LANCZOS), dtype=np.int16)


def mad(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


class Decoded:
    """Everything the tests need from a decoded MP4."""

    def __init__(self, path: Path) -> None:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            self.codec = stream.codec_context.name
            self.pix_fmt = stream.codec_context.pix_fmt
            self.rate = stream.average_rate
            assert container.duration is not None
            self.duration = container.duration / 1_000_000
            self.frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        self.height, self.width = self.frames[0].shape[:2]

    @property
    def first(self) -> np.ndarray:
        return self.frames[0]

    @property
    def last(self) -> np.ndarray:
        return self.frames[-1]


def top_level_boxes(path: Path) -> list[str]:
    """Names of the top-level ISO-BMFF boxes, in file order."""
    data, names, pos = path.read_bytes(), [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        names.append(kind.decode("latin-1"))
        if size == 0:
            break
        pos += size
    return names


def render(
    tmp_path: Path,
    name: str,
    *,
    width: int = W,
    height: int = H,
    frames: int = 24,
    prompt: str = "",
    start_image: bytes | None = None,
    end_image: bytes | None = None,
    loop: bool = False,
    continue_from_video: Path | None = None,
) -> tuple[RenderOutput, Decoded]:
    spec = RenderSpec(
        width=width,
        height=height,
        frames=frames,
        prompt=prompt,
        start_image=start_image,
        end_image=end_image,
        loop=loop,
        continue_from_video=continue_from_video,
    )
    out = render_video(spec, tmp_path / name)
    return out, Decoded(out.video)


def test_720p_landscape_is_five_seconds_of_h264(tmp_path: Path) -> None:
    seen: list[float] = []
    out = render_video(
        RenderSpec(width=1280, height=720, frames=120, prompt="a fox in the snow"),
        tmp_path / "clip",
        progress=seen.append,
    )
    video = Decoded(out.video)
    assert (video.width, video.height) == (1280, 720)
    assert len(video.frames) == 120
    assert video.rate == 24
    assert video.duration == pytest.approx(5.0, abs=0.2)
    assert (video.codec, video.pix_fmt) == ("h264", "yuv420p")
    boxes = top_level_boxes(out.video)
    assert boxes.index("moov") < boxes.index("mdat"), f"not faststart: {boxes}"
    assert (out.width, out.height, out.frames, out.fps) == (1280, 720, 120, 24)
    assert sorted(p.name for p in (tmp_path / "clip").iterdir()) == [
        "last_frame.jpg",
        "thumbnail.jpg",
        "video.mp4",
    ]
    assert seen[0] == 0.0 and seen[-1] == 1.0 and len(seen) > 3
    assert seen == sorted(seen) and all(0.0 <= f <= 1.0 for f in seen)
    # it actually moves: the middle of the clip is neither the first nor the last frame
    assert mad(video.frames[60], video.first) > 10
    assert mad(video.frames[60], video.last) > 10


def test_216_frames_is_nine_seconds(tmp_path: Path) -> None:
    _, video = render(tmp_path, "nine", frames=216)
    assert len(video.frames) == 216
    assert video.duration == pytest.approx(9.0, abs=0.2)


def test_portrait_size(tmp_path: Path) -> None:
    out, video = render(tmp_path, "portrait", width=720, height=1280, frames=12)
    assert (video.width, video.height) == (720, 1280)
    assert video.duration == pytest.approx(0.5, abs=0.2)
    assert Image.open(out.thumbnail).size == (720, 1280)


def test_start_and_end_images_are_first_and_last_frames(tmp_path: Path) -> None:
    start = split_picture((640, 360), "red", "blue")
    end = stripes_picture((W, H))
    _, video = render(
        tmp_path, "keyframes", prompt="x", start_image=encode(start), end_image=encode(end)
    )
    assert mad(video.first, pixels(start)) < CLOSE
    assert mad(video.last, pixels(end)) < CLOSE
    # the checks above could fail: the two pictures are far apart
    assert mad(video.first, pixels(end)) > FAR
    assert mad(video.last, pixels(start)) > FAR


def test_images_cover_the_frame_in_any_mode(tmp_path: Path) -> None:
    # too wide: the centre 320x180 is the red/blue split, the sides are cropped away
    wide = Image.new("RGB", (480, H), "lime")
    wide.paste(split_picture((W, H), "red", "blue"), (80, 0))
    # palette-mode JPEG-less input and an RGBA WebP end picture
    start = wide.convert("P")
    end = stripes_picture((W * 2, H * 2)).convert("RGBA")
    _, video = render(tmp_path, "cover", start_image=encode(start), end_image=encode(end, "WEBP"))
    assert mad(video.first, pixels(split_picture((W, H), "red", "blue"))) < CLOSE
    assert mad(video.last, pixels(end)) < CLOSE


def test_loop_ends_where_it_starts(tmp_path: Path) -> None:
    start = encode(split_picture((W, H), "red", "blue"))
    _, looped = render(tmp_path, "loop", start_image=start, loop=True)
    assert mad(looped.first, looped.last) < CLOSE
    assert mad(looped.first, pixels(split_picture((W, H), "red", "blue"))) < CLOSE
    _, generated = render(tmp_path, "gen-loop", prompt="neon waves", loop=True)
    assert mad(generated.first, generated.last) < CLOSE
    # without loop a generated clip drifts away from its first frame
    _, drifting = render(tmp_path, "gen", prompt="neon waves")
    assert mad(drifting.first, drifting.last) > 10


def test_extend_continues_from_the_last_frame(tmp_path: Path) -> None:
    end_a = stripes_picture((W, H))
    clip_a, video_a = render(tmp_path, "a", prompt="first", end_image=encode(end_a))
    assert mad(video_a.last, pixels(end_a)) < CLOSE
    last_a = read_last_frame(clip_a.video)
    assert last_a.size == (W, H) and last_a.mode == "RGB"
    assert mad(np.asarray(last_a), video_a.last) < 1

    end_b = split_picture((W, H), "red", "blue")
    _, video_b = render(
        tmp_path, "b", prompt="second", continue_from_video=clip_a.video, end_image=encode(end_b)
    )
    assert mad(video_b.first, video_a.last) < CLOSE
    assert mad(video_b.last, pixels(end_b)) < CLOSE
    assert mad(video_b.first, pixels(end_b)) > FAR


def test_thumbnail_and_last_frame_are_jpegs(tmp_path: Path) -> None:
    end = stripes_picture((W, H))
    out, video = render(tmp_path, "stills", frames=30, end_image=encode(end))
    for path in (out.thumbnail, out.last_frame):
        assert path.read_bytes()[:3] == b"\xff\xd8\xff"
        with Image.open(path) as img:
            assert img.format == "JPEG" and img.size == (W, H)
    last = np.asarray(Image.open(out.last_frame).convert("RGB"))
    assert mad(last, video.last) < CLOSE
    thumb = np.asarray(Image.open(out.thumbnail).convert("RGB"))
    assert mad(thumb, video.frames[15]) < CLOSE


@pytest.mark.parametrize("field", ["start_image", "end_image"])
def test_bad_image_bytes_raise_value_error(tmp_path: Path, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        if field == "start_image":
            render(tmp_path, "bad", start_image=b"definitely not a PNG")
        else:
            render(tmp_path, "bad", end_image=b"definitely not a PNG")
    assert not (tmp_path / "bad" / "video.mp4").exists()


def test_invalid_geometry_and_bad_video_raise(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="even"):
        render_video(RenderSpec(321, 180, 12), tmp_path / "odd")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(ValueError, match=r"junk\.mp4"):
        read_last_frame(junk)


def test_concurrent_renders_in_threads(tmp_path: Path) -> None:
    specs = [RenderSpec(W, H, 24, prompt=p) for p in ("one", "two", "one")]
    with ThreadPoolExecutor(max_workers=3) as pool:
        outs = list(pool.map(render_video, specs, [tmp_path / str(i) for i in range(3)]))
    firsts = [Decoded(o.video).first for o in outs]
    assert mad(firsts[0], firsts[2]) < 1  # same prompt, same picture
    assert mad(firsts[0], firsts[1]) > 10  # colours derive from the prompt
