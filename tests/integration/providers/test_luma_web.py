"""The web-app provider against the sim: through a real gateway, and in-process.

Through the gateway: the feature matrix, images re-uploaded to Luma's bucket (no foreign URL
reaches the web API), fields it cannot take recorded as dropped, the watermark-free download
link, a rotated session cookie persisted so a restarted gateway keeps the session, and a dead
session disabling the account. In-process: ``completed`` with ``video: null`` is not done.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lumagate.domain.accounts import AccountHandle
from lumagate.domain.request import GenerationRequest
from lumagate.media.store import MediaStore
from lumagate.providers.base import Submission, UpstreamState
from lumagate.providers.http import UpstreamHttp
from lumagate.providers.luma_web import LumaWebProvider
from lumagate.providers.web_session import SessionJars
from lumagate.sim import SimConfig
from lumagate.sim.testing import SimServer, StartSim
from tests.integration.providers.conftest import FAST_SIM, nothing_taken
from tests.integration.providers.scenario import Scenario, assert_common, entry_for, run_scenario
from tests.support.upstreams import (
    account_states,
    client,
    create,
    db_rows,
    make_gateway,
    official,
    sim_get,
    stored_credentials,
    task_rows,
    wait_terminal,
    web,
)
from tests.support.waiting import async_wait_until

pytestmark = pytest.mark.slow
TOKEN = "web-matrix-token"


@pytest.fixture(scope="module")
def sim(provider_sim_media: Path) -> Iterator[SimServer]:
    config = SimConfig(**{**FAST_SIM, "media_dir": provider_sim_media, "web_null_video_rate": 0.5})
    with SimServer(config) as server:
        yield server


@pytest.fixture(scope="module")
def scenario(sim: SimServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    data_dir = tmp_path_factory.mktemp("web") / "data"
    # A web session renders 5 s only: with degrade on, the 9 s task is accepted at 5 s.
    server = make_gateway(
        data_dir, [web(sim, "web-1", TOKEN, 4)], degrade_to_deliverable="true"
    ).start()
    try:
        with client(server, server.create_key("web")) as http:
            yield run_scenario(server, http, "web")
    finally:
        server.stop()


def test_feature_matrix(scenario: Scenario) -> None:
    assert_common(scenario, "luma-web", nine_delivered="5s")
    assert scenario.task("nine")["request"]["requested"] == {"duration": "9s"}


def test_images_are_reuploaded_to_luma(scenario: Scenario, sim: SimServer) -> None:
    request = entry_for(sim, scenario.prompt("images"))["request"]
    for field in ("image_url", "image_end_url"):
        assert "/app_data/photon/" in request[field], request[field]
        assert httpx.get(request[field], trust_env=False).status_code == 200
    assert sim_get(sim, "/_sim/stats")[TOKEN]["foreign_images"] == 0


def test_web_fields_and_what_was_dropped(scenario: Scenario, sim: SimServer) -> None:
    assert entry_for(sim, scenario.prompt("loop"))["request"]["loop"] is True
    text = entry_for(sim, scenario.prompt("text"))["request"]
    assert text["expand_prompt"] is True and text["aspect_ratio"] == "16:9"
    rows = task_rows(scenario.server)
    assert rows[scenario.ids["nine"]]["request"]["dropped_fields"] == ["duration"]
    assert rows[scenario.ids["text"]]["request"]["dropped_fields"] == []


def test_extend_and_the_watermark_free_link(scenario: Scenario, sim: SimServer) -> None:
    source = entry_for(sim, scenario.prompt("text"))
    extend = entry_for(sim, scenario.prompt("extend"))
    assert extend["kind"] == "extend" and extend["request"]["extend_of"] == source["generation_id"]
    for name in ("text", "extend"):
        # The gateway kept the watermark-free video (the listed video_raw), not the preview.
        task_id = scenario.ids[name]
        rows = db_rows(scenario.server, "SELECT source FROM media_mirrors WHERE id = ?", task_id)
        source = rows[0]["source"]
        source = json.loads(source) if isinstance(source, str) else source
        assert source["download"] == source["video_raw"] and "wm=1" not in source["download"]
        assert "wm=1" in source["video"]
        task = scenario.task(name)
        assert "/files/mirrors/" in task["video"]["download_url"]
    # Every generation listed its video_raw: not one extra call for a download link.
    routes = sim_get(sim, "/_sim/stats")[TOKEN]["routes"]
    assert not [route for route in routes if route.endswith("/download_video_url")], routes


def test_rotated_cookie_is_persisted_across_a_restart(start_sim: StartSim, tmp_path: Path) -> None:
    sim = start_sim(session_rotate_seconds=0.5)
    original = "web-rotating-token"
    server = make_gateway(
        tmp_path / "data", [web(sim, "web-rot", original)], upstream_upkeep_seconds="0.3"
    ).start()
    try:
        key = server.create_key("rot")
        with client(server, key) as http:
            first = create(http, {"user_prompt": "rotation before restart"})
            assert wait_terminal(http, [first], 60)[first]["state"] == "completed"
        deadline = time.monotonic() + 30  # the keep-alive rotates the cookie: wait for it
        while f"access_token={original};" in stored_credentials(server, "web-rot")["cookie"]:
            assert time.monotonic() < deadline, "the cookie was never rotated and persisted"
            time.sleep(0.2)
    finally:
        server.stop()
    stored = stored_credentials(server, "web-rot")["cookie"]
    assert f"luma_session=s-{original}" in stored and f"refresh_token=r-{original}" in stored
    # Retire the cookie the account was added with: only the persisted successor can work now.
    with sim.client() as debug:
        body = {"credential": original, "token": original}
        assert debug.post("/_sim/sessions/expire", json=body).is_success
    me = sim.base_url + "/api/users/v1/me"
    assert httpx.get(me, headers={"Cookie": f"access_token={original}"}).status_code == 401
    server.start()
    try:
        with client(server, key) as http:
            second = create(http, {"user_prompt": "rotation after restart"})
            done = wait_terminal(http, [second], 60)[second]
        assert done["state"] == "completed", done["failure_reason"]
        assert done["server_id"].endswith("/luma-web")
        assert account_states(server)["web-rot"]["enabled"] == 1
    finally:
        server.stop()


def test_a_dead_session_disables_the_account_and_fails_its_tasks_after_the_grace(
    start_sim: StartSim, tmp_path: Path
) -> None:
    sim = start_sim(dreaming_seconds=6.0)
    token = "web-dying-token"
    server = make_gateway(
        tmp_path / "data",
        [web(sim, "web-dying", token), official(sim, "official-spare", "luma-spare")],
        session_grace_seconds="2",
    ).start()
    try:
        with client(server, server.create_key("dying")) as http:
            ids = [create(http, {"user_prompt": f"dying session {i}"}) for i in range(4)]
            deadline = time.monotonic() + 30
            while sim_get(sim, "/_sim/stats").get(token, {}).get("creates", 0) < 2:
                assert time.monotonic() < deadline
                time.sleep(0.2)
            with sim.client() as debug:
                assert debug.post("/_sim/sessions/expire", json={"credential": token}).is_success
            done = wait_terminal(http, ids, 60)
        by_account = {r["id"]: r for r in task_rows(server).values()}
        on_web = [i for i in ids if by_account[i]["account"] == "web-dying"]
        assert len(on_web) == 2
        for task_id in on_web:
            assert done[task_id]["state"] == "failed"
            assert "session of account web-dying ended" in done[task_id]["failure_reason"]
        state = account_states(server)["web-dying"]
        assert state["enabled"] == 0 and "expired" in state["disabled_reason"].lower()
    finally:
        server.stop()


# -- in-process -------------------------------------------------------------------------
async def test_completed_with_null_video_is_not_done(
    start_sim: StartSim, upstream_http: UpstreamHttp, tmp_path: Path
) -> None:
    sim = start_sim(web_null_video_rate=1.0)
    saved: list[dict[str, str]] = []

    async def sink(account_id: str, credentials: dict[str, str]) -> None:
        saved.append(credentials)

    provider = LumaWebProvider(
        upstream_http,
        MediaStore(tmp_path / "media", "http://127.0.0.1:9"),
        SessionJars(sink),
        taken=nothing_taken,
    )
    account = AccountHandle(
        id="w",
        name="w",
        kind="luma-web",
        base_url=sim.base_url,
        credentials={"cookie": "access_token=null-video"},
    )
    job = await provider.submit(
        account, Submission(intent_id="i", request=GenerationRequest(prompt="null video quirk"))
    )
    generation = sim.runtime.world.generations[job.upstream_id]
    await async_wait_until(  # completed upstream, its next poll armed to show video: null
        lambda: generation.state == "completed" and generation.null_video_polls == 1,
        "completed upstream",
    )
    first = (await provider.refresh_many(account, [job.upstream_id]))[job.upstream_id]
    assert first.state == UpstreamState.PROCESSING and first.media is None
    second = (await provider.refresh_many(account, [job.upstream_id]))[job.upstream_id]
    assert second.state == UpstreamState.COMPLETED and second.media is not None
    assert second.media.download == second.media.video_raw and "wm=1" in second.media.video
    assert second.media.download is not None and "wm=1" not in second.media.download
