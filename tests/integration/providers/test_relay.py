"""The relay provider: this gateway relaying to another lumagate (which uses the sim).

sim ← inner gateway (an official account) ← outer gateway (a relay account to the inner one).
The feature matrix runs on the outer gateway; the sim's ledger shows what finally reached Luma.
In-process: a create replayed under the same Idempotency-Key (what ``find_submission`` does)
returns the first task and creates nothing upstream.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from lumagate.domain.accounts import AccountHandle
from lumagate.domain.request import GenerationRequest
from lumagate.media.store import MediaStore
from lumagate.providers.base import Submission, UpstreamState
from lumagate.providers.http import UpstreamHttp
from lumagate.providers.relay import RelayProvider
from lumagate.sim import SimConfig
from lumagate.sim.testing import SimServer
from tests.integration.providers.conftest import FAST_SIM
from tests.integration.providers.scenario import (
    START_PNG,
    Scenario,
    assert_common,
    entry_for,
    run_scenario,
)
from tests.support.servers import GatewayServer
from tests.support.upstreams import client, ledger, make_gateway, official, relay, task_rows

pytestmark = pytest.mark.slow


@dataclass
class Relayed:
    sim: SimServer
    inner: GatewayServer
    inner_key: str
    scenario: Scenario


@pytest.fixture(scope="module")
def relayed(
    provider_sim_media: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Relayed]:
    base = tmp_path_factory.mktemp("relay")
    with SimServer(SimConfig(**{**FAST_SIM, "media_dir": provider_sim_media})) as sim:
        inner = make_gateway(base / "inner", [official(sim, "inner-official", "luma-inner", 6)])
        inner.start()
        try:
            inner_key = inner.create_key("outer-gateway")
            outer = make_gateway(base / "outer", [relay(inner.base_url, "relay-1", inner_key, 6)])
            outer.start()
            try:
                with client(outer, outer.create_key("relay")) as http:
                    yield Relayed(sim, inner, inner_key, run_scenario(outer, http, "relay"))
            finally:
                outer.stop()
        finally:
            inner.stop()


def test_feature_matrix(relayed: Relayed) -> None:
    assert_common(relayed.scenario, "relay")


def test_what_reached_luma_through_the_other_gateway(relayed: Relayed) -> None:
    sim, scenario = relayed.sim, relayed.scenario
    keyframes = entry_for(sim, scenario.prompt("images"))["request"]["keyframes"]
    url = keyframes["frame0"]["url"]
    assert url.startswith(relayed.inner.base_url + "/files/"), url  # sent on as a data URI
    assert httpx.get(url, trust_env=False).content == START_PNG
    assert "frame1" in keyframes
    assert entry_for(sim, scenario.prompt("nine"))["request"]["duration"] == "9s"
    assert entry_for(sim, scenario.prompt("loop"))["request"]["loop"] is True
    source = entry_for(sim, scenario.prompt("text"))
    extend = entry_for(sim, scenario.prompt("extend"))
    assert extend["kind"] == "extend"
    assert extend["request"]["keyframes"]["frame0"]["id"] == source["generation_id"]


def test_upstream_ids_are_the_other_gateways_task_ids(relayed: Relayed) -> None:
    outer_rows = task_rows(relayed.scenario.server)
    inner_rows = task_rows(relayed.inner)
    for task_id in relayed.scenario.ids.values():
        assert outer_rows[task_id]["upstream_id"] in inner_rows


async def test_a_replayed_create_returns_the_first_task(
    relayed: Relayed, upstream_http: UpstreamHttp, tmp_path: Path
) -> None:
    provider = RelayProvider(upstream_http, MediaStore(tmp_path / "media", "http://127.0.0.1:9"))
    account = AccountHandle(
        id="r",
        name="r",
        kind="relay",
        base_url=relayed.inner.base_url,
        credentials={"api_key": relayed.inner_key},
    )
    submission = Submission(
        intent_id="replayed-intent", request=GenerationRequest(prompt="relay replay prompt")
    )
    first = await provider.submit(account, submission)
    again = await provider.find_submission(account, submission)
    assert again is not None and again.upstream_id == first.upstream_id
    other = await provider.submit(
        account, Submission(intent_id="another-intent", request=submission.request)
    )
    assert other.upstream_id != first.upstream_id
    ids = [first.upstream_id, other.upstream_id]
    deadline = time.monotonic() + 60
    while True:  # follow both to the end through the batch query, as the refresher does
        jobs = await provider.refresh_many(account, [*ids, "not-a-task"])
        assert jobs.pop("not-a-task").state == UpstreamState.FAILED  # unknown there: failed
        assert set(jobs) == set(ids)
        if all(job.state == UpstreamState.COMPLETED for job in jobs.values()):
            break
        assert time.monotonic() < deadline
        await asyncio.sleep(0.3)
    creates = [
        e for e in ledger(relayed.sim) if e["request"].get("prompt") == "relay replay prompt"
    ]
    assert len(creates) == 2  # two intents, two generations: the replay made none
