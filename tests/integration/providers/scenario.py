"""The feature matrix every provider must pass through a real gateway, and its ledger lookups.

One gateway with one account of the provider under test gets, at once: a text prompt, start
and end images as data URIs, a loop, a 9 s video and a prompt that fails moderation; then an
extend of the text task. Each provider's test module checks what reached the upstream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from lumagate.sim.testing import SimServer
from tests.support.acceptance import data_uri, end_picture, png_bytes, start_picture
from tests.support.servers import GatewayServer
from tests.support.upstreams import MODERATION_MARKER, create, ledger, ledger_prompt, wait_terminal

MODERATION_REASON = "Advanced prompt moderation failed"
START_PNG = png_bytes(start_picture((96, 54)))
END_PNG = png_bytes(end_picture((96, 54)))


@dataclass
class Scenario:
    server: GatewayServer
    http: httpx.Client
    tag: str
    ids: dict[str, str]
    done: dict[str, dict[str, Any]]

    def task(self, name: str) -> dict[str, Any]:
        return self.done[self.ids[name]]

    def prompt(self, name: str) -> str:
        return f"{self.tag} {name} scene"


def run_scenario(server: GatewayServer, http: httpx.Client, tag: str) -> Scenario:
    scenario = Scenario(server, http, tag, {}, {})
    bodies: dict[str, dict[str, Any]] = {
        "text": {"user_prompt": scenario.prompt("text"), "aspect_ratio": "16:9"},
        "images": {
            "user_prompt": scenario.prompt("images"),
            "image_url": data_uri(START_PNG),
            "image_end_url": data_uri(END_PNG),
        },
        "loop": {"user_prompt": scenario.prompt("loop"), "loop": True},
        "nine": {"user_prompt": scenario.prompt("nine"), "duration": "9s"},
        "moderated": {"user_prompt": f"{scenario.prompt('moderated')} {MODERATION_MARKER}"},
    }
    scenario.ids = {name: create(http, body) for name, body in bodies.items()}
    scenario.done = wait_terminal(http, scenario.ids.values(), 90)
    assert scenario.task("text")["state"] == "completed", scenario.task("text")
    scenario.ids["extend"] = create(
        http,
        {"user_prompt": scenario.prompt("extend")},
        path=f"/luma/generations/{scenario.ids['text']}/extend",
    )
    scenario.done.update(wait_terminal(http, [scenario.ids["extend"]], 90))
    return scenario


def entry_for(sim: SimServer, prompt: str) -> dict[str, Any]:
    """The one ledger entry whose request carries ``prompt`` (fails on none or several)."""
    found = [e for e in ledger(sim) if ledger_prompt(e).startswith(prompt)]
    assert len(found) == 1, f"{len(found)} creates for {prompt!r}"
    return found[0]


def assert_common(scenario: Scenario, server_kind: str, nine_delivered: str = "9s") -> None:
    """What every provider must deliver, read through the gateway's reseller API
    (``nine_delivered``: the duration a provider that cannot render 9 s is degraded to)."""
    for name in ("text", "images", "loop", "nine", "extend"):
        task = scenario.task(name)
        assert task["state"] == "completed", (name, task)
        assert task["server_id"].endswith("/" + server_kind), task["server_id"]
        assert task["video"]["url"] and task["video"]["download_url"], task
        link = scenario.http.get(f"/luma/generations/{task['id']}/download_video_url")
        assert link.status_code == 200, link.text
        assert link.json()["url"] == task["video"]["download_url"]
        video = httpx.get(link.json()["url"], timeout=30, trust_env=False)
        assert video.status_code == 200
        assert video.content[4:8] == b"ftyp", "the download link must serve an MP4"
    moderated = scenario.task("moderated")
    assert moderated["state"] == "failed"
    assert moderated["failure_reason"] == MODERATION_REASON
    assert scenario.task("nine")["request"]["duration"] == nine_delivered
    assert scenario.task("loop")["request"]["loop"] is True
