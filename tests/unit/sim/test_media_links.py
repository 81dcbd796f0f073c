"""The sim's expiring media links (``--media-ttl-seconds``), as Luma's presigned URLs expire."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import parse_qs, urlsplit

from lumagate.sim.media_links import MediaLinks


def _params(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return parts.path.rsplit("/", 1)[-1], query["exp"][0], query["sig"][0]


def test_without_a_ttl_links_are_plain_and_always_valid() -> None:
    links = MediaLinks()
    assert links.sign("http://sim/media/g.mp4?wm=1") == "http://sim/media/g.mp4?wm=1"
    assert links.valid("g.mp4", "", "")


def test_a_signed_link_is_valid_until_it_expires() -> None:
    links = MediaLinks(ttl_seconds=60)
    url = links.sign("http://sim/media/g.mp4?download=1")
    assert url.startswith("http://sim/media/g.mp4?download=1&exp=")
    name, exp, sig = _params(url)
    assert abs(float(exp) - (time.time() + 60)) < 5
    assert links.valid(name, exp, sig)
    past = f"{time.time() - 1:.3f}"
    assert not links.valid(name, past, links._sig(name, past))
    assert links.expired == 1


def test_a_tampered_or_unsigned_link_is_refused() -> None:
    links = MediaLinks(ttl_seconds=60)
    name, exp, sig = _params(links.sign("http://sim/media/g.mp4"))
    assert not links.valid("other.mp4", exp, sig)
    assert not links.valid(name, f"{float(exp) + 3600:.3f}", sig)
    assert not links.valid(name, "", "")
    assert not links.valid(name, "soon", sig)


def test_links_of_another_sim_process_are_refused() -> None:
    name, exp, sig = _params(MediaLinks(ttl_seconds=60).sign("http://sim/media/g.jpg"))
    assert not MediaLinks(ttl_seconds=60).valid(name, exp, sig)


async def test_the_stall_mode_holds_downloads_until_switched_off() -> None:
    links = MediaLinks()
    await asyncio.wait_for(links.wait_flowing(), 1)  # "ok": never held
    links.set_mode("stall")
    waiting = asyncio.create_task(links.wait_flowing())
    await asyncio.sleep(0)
    assert not waiting.done()
    links.set_mode("ok")
    await asyncio.wait_for(waiting, 1)
    links.set_mode("stall")
    links.reset()  # a reset lets held downloads go on too
    await asyncio.wait_for(links.wait_flowing(), 1)
    assert links.mode == "ok" and not links.stalled and not links.resumed
