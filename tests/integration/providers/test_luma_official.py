"""The official-API provider against the sim: through a real gateway, and in-process.

Through the gateway: the feature matrix (text, data-URI start/end images published under
``LUMAGATE_PUBLIC_URL``, loop, 9 s, extend through a generation keyframe, download URL,
moderation failure), ``expand_prompt`` recorded as dropped, and callbacks received through
``/upstream-hooks/<token>``. In-process: many running tasks refreshed with ONE list call, and
a lost create found again by ``find_submission`` but never adopted twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lumagate.domain.accounts import AccountHandle
from lumagate.domain.request import GenerationRequest
from lumagate.media.store import MediaStore
from lumagate.providers.base import Submission, UpstreamState
from lumagate.providers.http import UpstreamHttp
from lumagate.providers.listing import TakenLookup
from lumagate.providers.luma_official import LumaOfficialProvider
from lumagate.sim import SimConfig
from lumagate.sim.testing import SimServer, StartSim
from tests.integration.providers.conftest import FAST_SIM, nothing_taken
from tests.integration.providers.scenario import (
    END_PNG,
    START_PNG,
    Scenario,
    assert_common,
    entry_for,
    run_scenario,
)
from tests.support.upstreams import client, make_gateway, official, sim_get, task_rows

pytestmark = pytest.mark.slow
KEY = "luma-official-test"


@pytest.fixture(scope="module")
def sim(provider_sim_media: Path) -> Iterator[SimServer]:
    with SimServer(SimConfig(**{**FAST_SIM, "media_dir": provider_sim_media})) as server:
        yield server


@pytest.fixture(scope="module")
def scenario(sim: SimServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    data_dir = tmp_path_factory.mktemp("official") / "data"
    server = make_gateway(data_dir, [official(sim, "official-1", KEY, 4)]).start()
    try:
        with client(server, server.create_key("official")) as http:
            yield run_scenario(server, http, "official")
    finally:
        server.stop()


def test_feature_matrix(scenario: Scenario) -> None:
    assert_common(scenario, "luma-official")


def test_fields_reach_the_official_api_mapped(scenario: Scenario, sim: SimServer) -> None:
    text = entry_for(sim, scenario.prompt("text"))["request"]
    assert text["model"] == "ray-2" and text["resolution"] == "720p"
    assert text["aspect_ratio"] == "16:9" and text["duration"] == "5s"
    assert "expand_prompt" not in text and "user_prompt" not in text
    assert entry_for(sim, scenario.prompt("loop"))["request"]["loop"] is True
    assert entry_for(sim, scenario.prompt("nine"))["request"]["duration"] == "9s"
    rows = task_rows(scenario.server)
    assert "expand_prompt" in rows[scenario.ids["text"]]["request"]["dropped_fields"]


def test_data_uri_images_are_published_under_the_public_url(
    scenario: Scenario, sim: SimServer
) -> None:
    keyframes = entry_for(sim, scenario.prompt("images"))["request"]["keyframes"]
    for frame, expected in (("frame0", START_PNG), ("frame1", END_PNG)):
        assert keyframes[frame]["type"] == "image"
        url = keyframes[frame]["url"]
        assert url.startswith(scenario.server.base_url + "/files/"), url
        assert httpx.get(url, trust_env=False).content == expected


def test_extend_continues_the_source_generation_on_the_same_key(
    scenario: Scenario, sim: SimServer
) -> None:
    source = entry_for(sim, scenario.prompt("text"))
    extend = entry_for(sim, scenario.prompt("extend"))
    assert extend["kind"] == "extend" and extend["credential"] == source["credential"]
    frame0 = extend["request"]["keyframes"]["frame0"]
    assert frame0 == {"type": "generation", "id": source["generation_id"]}


def test_state_changes_arrive_through_upstream_callbacks(
    scenario: Scenario, sim: SimServer
) -> None:
    callback = entry_for(sim, scenario.prompt("text"))["request"]["callback_url"]
    assert callback.startswith(scenario.server.base_url + "/upstream-hooks/")
    deliveries = sim_get(sim, "/_sim/callbacks")["deliveries"]
    ours = [d for d in deliveries if d["url"] == callback]
    assert ours and all(d["delivered"] and d["status_code"] == 200 for d in ours)
    wrong = httpx.post(scenario.server.base_url + "/upstream-hooks/not-the-token", json={})
    assert wrong.status_code == 404


# -- in-process -------------------------------------------------------------------------
def _provider(
    http: UpstreamHttp, tmp_path: Path, taken: TakenLookup = nothing_taken
) -> LumaOfficialProvider:
    media = MediaStore(tmp_path / "media", "http://127.0.0.1:9")
    return LumaOfficialProvider(
        http,
        media,
        public_base_url="http://127.0.0.1:9",
        taken=taken,
        callbacks=False,
    )


def _account(sim: SimServer, key: str) -> AccountHandle:
    return AccountHandle(
        id="acct-" + key,
        name=key,
        kind="luma-official",
        base_url=sim.base_url + "/dream-machine/v1",
        credentials={"api_key": key},
    )


def _submission(intent: str, prompt: str) -> Submission:
    return Submission(intent_id=intent, request=GenerationRequest(prompt=prompt))


def _route_count(sim: SimServer, key: str, route: str) -> int:
    return int(sim_get(sim, "/_sim/stats")[key]["routes"].get(route, 0))


async def test_refresh_many_reads_one_list_page_for_many_tasks(
    start_sim: StartSim, upstream_http: UpstreamHttp, tmp_path: Path
) -> None:
    sim = start_sim(max_concurrency=50, creates_per_minute=100, dreaming_seconds=30)
    provider, account = _provider(upstream_http, tmp_path), _account(sim, "luma-batch")
    ids = [
        (await provider.submit(account, _submission(f"t{i}", f"batch {i}"))).upstream_id
        for i in range(40)
    ]
    jobs = await provider.refresh_many(account, ids)
    assert set(jobs) == set(ids)
    assert _route_count(sim, "luma-batch", "GET /generations") == 1
    assert _route_count(sim, "luma-batch", "GET /generations/{generation_id}") == 0
    # After a restart the provider knows no creation times: one page, then single GETs only
    # for ids that page did not hold (here: none).
    fresh = _provider(upstream_http, tmp_path)
    assert set(await fresh.refresh_many(account, ids[:5])) == set(ids[:5])
    assert _route_count(sim, "luma-batch", "GET /generations") == 2


async def test_find_submission_finds_a_lost_create_once(
    start_sim: StartSim, upstream_http: UpstreamHttp, tmp_path: Path
) -> None:
    sim = start_sim()
    account = _account(sim, "luma-lost")
    taken: set[str] = set()

    async def lookup(account_id: str, upstream_ids: object) -> set[str]:
        return set(taken)

    provider = _provider(upstream_http, tmp_path, lookup)
    made = await provider.submit(account, _submission("a", "twin prompt"))
    assert await provider.find_submission(account, _submission("x", "another prompt")) is None
    found = await provider.find_submission(account, _submission("a", "twin prompt"))
    assert found is not None and found.upstream_id == made.upstream_id
    assert found.state in (UpstreamState.PENDING, UpstreamState.PROCESSING)
    taken.add(made.upstream_id)  # now recorded on a task: another task must not adopt it
    assert await provider.find_submission(account, _submission("b", "twin prompt")) is None
