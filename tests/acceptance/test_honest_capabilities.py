"""Honest capabilities against the sim's web session, and errors in Chinese, in every dialect.

A web session renders ray-2 at 720p for 5 s whatever it is asked (UPSTREAM.md §2). One gateway
(the default: no degrade) has a web session serving ``default`` and ``vip`` and an official key
serving ``default`` only: on ``vip`` a 1080p/9s create is refused with a 400 naming the field,
in each dialect's shape; on ``default`` such tasks all go to the official key, never to the web
session. A second gateway, web session only, runs with ``LUMAGATE_DEGRADE_TO_DELIVERABLE``: the
same create is accepted, every dialect shows 720p/5s and the ledger charges the 720p/5s price.
The first gateway also answers errors in Chinese for ``Accept-Language: zh-CN`` in each dialect
(a new-api form error, OpenAI's models.retrieve 404 and input_reference error, a reseller cancel
of an ended task among them).
"""

# ruff: noqa: RUF001  (Chinese text uses full-width punctuation)

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from lumagate.domain.pricing import PriceTable
from lumagate.sim import SimConfig
from lumagate.sim.testing import SimServer
from tests.conftest import FAST_SIM
from tests.support.databases import ServerDatabase
from tests.support.servers import GatewayServer
from tests.support.upstreams import (
    client,
    ledger,
    ledger_prompt,
    make_gateway,
    official,
    task_rows,
    wait_terminal,
    web,
)

pytestmark = pytest.mark.slow

WEB_TOKEN = "honest-web-session"
UNKNOWN = "00000000-0000-4000-8000-000000000000"
REFUSAL = "{resolution} 1080p is not available on channel vip: at most 720p"
REFUSAL_ZH = "频道 vip 无法提供 {resolution} 1080p：最多 720p"
DELIVERED_PRICE = PriceTable().price("default", "ray-2", "720p", "5s")


@dataclass(frozen=True)
class Create:
    """One dialect's create of a 1080p, 9 s video, and how to read its error message."""

    path: str
    body: dict[str, Any]
    message: Callable[[Any], str]
    resolution: str = "resolution"  # the dialect's own names, which its refusal says
    duration: str = "duration"


def _reseller_message(body: Any) -> str:
    assert body["detail"]["reason"] == body["error"]["message"], body
    return str(body["error"]["message"])


CREATES: dict[str, Create] = {
    "reseller": Create(
        "/vip/luma/generations",
        {"user_prompt": "honest reseller", "resolution": "1080p", "duration": "9s"},
        _reseller_message,
    ),
    "official": Create(
        "/dream-machine/v1/generations",
        {"prompt": "honest official", "model": "ray-2", "resolution": "1080p", "duration": "9s"},
        lambda body: str(body["detail"]),
    ),
    "openai": Create(
        "/v1/videos",
        {"prompt": "honest openai", "model": "ray-2", "size": "1920x1080", "seconds": "9"},
        lambda body: str(body["error"]["message"]),
        resolution="size",
        duration="seconds",
    ),
    "newapi": Create(
        "/v1/video/generations",
        {"prompt": "honest newapi", "model": "ray-2", "width": 1920, "height": 1080, "duration": 9},
        lambda body: str(body["message"]),
        resolution="width/height",
    ),
}


@pytest.fixture(scope="module")
def sim(sim_media_dir: Path) -> Iterator[SimServer]:
    with SimServer(SimConfig(**{**FAST_SIM, "media_dir": sim_media_dir})) as server:
        yield server


@pytest.fixture(scope="module")
def honest(
    sim: SimServer, tmp_path_factory: pytest.TempPathFactory, server_database: ServerDatabase
) -> Iterator[GatewayServer]:
    session = web(sim, "web-a", WEB_TOKEN)
    accounts = [
        replace(session, args=(*session.args, "--channels", "default,vip")),
        official(sim, "official-b", "luma-honest-b", extra=("--channels", "default")),
    ]
    data_dir = tmp_path_factory.mktemp("honest") / "data"
    server = make_gateway(data_dir, accounts, **server_database()).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def degrading(
    sim: SimServer, tmp_path_factory: pytest.TempPathFactory, server_database: ServerDatabase
) -> Iterator[GatewayServer]:
    data_dir = tmp_path_factory.mktemp("degrading") / "data"
    accounts = [web(sim, "web-only", WEB_TOKEN + "-degrade", 4)]
    settings = {**server_database(), "degrade_to_deliverable": "true"}
    server = make_gateway(data_dir, accounts, **settings).start()
    try:
        yield server
    finally:
        server.stop()


def _admin(server: GatewayServer) -> httpx.Client:
    return client(server, server.admin_key())


def _charges(server: GatewayServer, key_id: str) -> list[int]:
    with _admin(server) as http:
        response = http.get("/admin/ledger", params={"key": key_id, "limit": 100})
    assert response.status_code == 200, response.text
    return [-e["delta"] for e in response.json()["data"] if e["delta"] < 0]


@pytest.mark.parametrize("dialect", sorted(CREATES))
def test_a_web_only_channel_refuses_1080p_9s_naming_the_field(
    honest: GatewayServer, dialect: str
) -> None:
    tenant = honest.create_tenant(f"vip-{dialect}", "--channels", "vip", "--credits", "1000")
    case = CREATES[dialect]
    with client(honest, tenant["key"]) as http:
        response = http.post(case.path, json=case.body)
        assert response.status_code == 400, response.text
        message = case.message(response.json())
        assert message.startswith(REFUSAL.format(resolution=case.resolution)), message
        assert f"{case.duration} 9s is not available on channel vip: at most 5s" in message
        chinese = http.post(case.path, json=case.body, headers={"Accept-Language": "zh-CN"})
        assert chinese.status_code == 400
        zh = REFUSAL_ZH.format(resolution=case.resolution)
        assert case.message(chinese.json()).startswith(zh), chinese.text
    assert _charges(honest, tenant["id"]) == []


def test_the_dispatcher_never_sends_a_task_to_an_account_that_cannot_deliver_it(
    honest: GatewayServer, sim: SimServer
) -> None:
    key = honest.create_key("mixed")
    bodies = [
        {"user_prompt": f"mixed big {n}", "resolution": "1080p", "duration": "9s"} for n in range(4)
    ] + [{"user_prompt": f"mixed small {n}"} for n in range(4)]
    with client(honest, key) as http:
        ids = []
        for body in bodies:
            response = http.post("/luma/generations", json=body)
            assert response.status_code == 200, response.text
            ids.append(response.json()["id"])
        done = wait_terminal(http, ids, 120)
    assert all(task["state"] == "completed" for task in done.values()), done
    rows = task_rows(honest)
    big = [rows[i] for i in ids[:4]]
    assert {row["account"] for row in big} == {"official-b"}, big
    assert all(row["request"]["resolution"] == "1080p" for row in big)
    web_prompts = [
        ledger_prompt(entry) for entry in ledger(sim) if "user_prompt" in entry["request"]
    ]
    assert not [p for p in web_prompts if p.startswith("mixed big")], web_prompts


def _shown_sizes(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """Each leaf of a body that can show a size or length: not ids, links or timestamps.

    Random ids (new-api's numeric ``id``, UUIDs) and timestamps can hold the digits 1080 or
    1920 by chance; what must not show the requested 1080p/9 s is everything else.
    """
    if isinstance(value, dict):
        for k, v in value.items():
            if k != "requested":
                yield from _shown_sizes(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _shown_sizes(v, key)
    elif not (
        key == "id" or key.endswith(("_id", "_at", "_time", "url")) or key in {"video", "thumbnail"}
    ):
        yield key, value


def _shows_requested_size(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value in (1080, 1920)
    return isinstance(value, str) and any(part in value for part in ("1080", "1920"))


def _reads(http: httpx.Client, task_id: str) -> dict[str, Any]:
    paths = {
        "reseller": f"/luma/generations/{task_id}",
        "official": f"/dream-machine/v1/generations/{task_id}",
        "openai": f"/v1/videos/{task_id}",
        "newapi": f"/v1/video/generations/{task_id}",
    }
    reads = {}
    for name, path in paths.items():
        response = http.get(path)
        assert response.status_code == 200, (name, response.text)
        reads[name] = response.json()
    return reads


def test_with_degrade_on_every_dialect_shows_and_charges_720p_5s(
    degrading: GatewayServer,
) -> None:
    tenant = degrading.create_tenant("degraded", "--credits", "10000")
    with client(degrading, tenant["key"]) as http:
        ids = {}
        for dialect, case in CREATES.items():
            path = case.path.removeprefix("/vip")
            response = http.post(path, json=case.body)
            assert response.status_code in (200, 201), (dialect, response.text)
            body = response.json()
            ids[dialect] = str(body.get("id") or body.get("task_id") or body["data"]["id"])
        for dialect, task_id in ids.items():
            reads = _reads(http, task_id)
            reseller = reads["reseller"]["request"]
            assert (reseller["resolution"], reseller["duration"]) == ("720p", "5s"), dialect
            assert reseller["requested"]["resolution"] == "1080p", reseller
            assert {"resolution", "duration"} <= set(reseller["dropped_fields"])
            official_echo = reads["official"]["request"]
            assert (official_echo["resolution"], official_echo["duration"]) == ("720p", "5s")
            assert reads["openai"]["size"] == "1280x720" and reads["openai"]["seconds"] == "5"
            for name, body in reads.items():
                leaks = [(k, v) for k, v in _shown_sizes(body) if _shows_requested_size(v)]
                assert not leaks, (dialect, name, leaks, json.dumps(body))
        done = wait_terminal(http, [ids["reseller"]], 90)[ids["reseller"]]
        assert done["state"] == "completed", done
    assert _charges(degrading, tenant["id"]) == [DELIVERED_PRICE] * len(CREATES)


@dataclass(frozen=True)
class Failing:
    """A request that fails in one dialect, its English and Chinese message, and the reader."""

    method: str
    path: str
    english: str
    chinese: str
    message: Callable[[Any], str]
    admin: bool = False
    body: dict[str, Any] | None = None


def _openai_message(body: Any) -> str:
    return str(body["error"]["message"])


FAILING: dict[str, Failing] = {
    "reseller": Failing(
        "GET", f"/luma/generations/{UNKNOWN}", "Task not found", "任务不存在", _reseller_message
    ),
    "official": Failing(
        "GET",
        f"/dream-machine/v1/generations/{UNKNOWN}",
        "Generation not found",
        "生成任务不存在",
        lambda body: str(body["detail"]),
    ),
    "openai": Failing(
        "GET", f"/v1/videos/{UNKNOWN}", "Task not found", "任务不存在", _openai_message
    ),
    "chat": Failing(
        "POST",
        "/v1/chat/completions",
        "messages: a user message is required",
        "messages：需要一条用户消息",
        _openai_message,
        body={"model": "luma-video", "messages": [{"role": "system", "content": "hi"}]},
    ),
    "newapi": Failing(
        "GET",
        f"/v1/video/generations/{UNKNOWN}",
        "Task not found",
        "任务不存在",
        lambda body: str(body["message"]),
    ),
    "billing": Failing(
        "GET",
        "/v1/dashboard/billing/usage?start_date=soon&end_date=2024-06-01",
        "start_date must be a date like 2024-06-01",
        "start_date 必须是日期，例如 2024-06-01",
        _openai_message,
    ),
    "reseller_model": Failing(
        "POST",
        "/luma/generations",
        "model_name: unknown model 'ray-9' (use ray-2, ray-flash-2, ray-1-6, ray-v1, ray-v2)",
        "model_name：未知模型 'ray-9'（可用 ray-2、ray-flash-2、ray-1-6、ray-v1、ray-v2）",
        _reseller_message,
        body={"user_prompt": "a domain refusal", "model_name": "ray-9"},
    ),
    "newapi_form": Failing(
        "POST",
        "/v1/video/generations",
        "image: must be a string (URL or data URI)",
        "image：必须是字符串（URL 或 data URI）",
        lambda body: str(body["message"]),
        body={"model": "ray-2", "prompt": "a form error", "image": 5},
    ),
    "openai_model": Failing(
        "GET",
        "/v1/models/sora-9",
        "The model 'sora-9' does not exist",
        "模型 'sora-9' 不存在",
        _openai_message,
    ),
    "openai_input_reference": Failing(
        "POST",
        "/v1/videos",
        "input_reference.file_id is not supported by this gateway (it has no Files API): upload "
        "the image as input_reference or give input_reference.image_url",
        "本网关不支持 input_reference.file_id（没有 Files API）：请将图片作为 input_reference "
        "上传，或提供 input_reference.image_url",
        _openai_message,
        body={"prompt": "a reference error", "input_reference": {"file_id": "file-abc"}},
    ),
    "admin": Failing(
        "GET",
        "/admin/keys/nobody-has-this-key",
        "No key matches 'nobody-has-this-key'",
        "没有与 'nobody-has-this-key' 匹配的密钥",
        _openai_message,
        admin=True,
    ),
}


@pytest.mark.parametrize("dialect", sorted(FAILING))
def test_errors_in_chinese_for_zh_cn_and_english_otherwise(
    honest: GatewayServer, dialect: str
) -> None:
    case = FAILING[dialect]
    key = honest.admin_key() if case.admin else honest.create_key(f"zh-{dialect}")
    answers: dict[str, httpx.Response] = {}
    with client(honest, key) as http:
        for language in ("zh-CN", "en", None):
            headers = {"Accept-Language": language} if language else {}
            answers[str(language)] = http.request(
                case.method, case.path, headers=headers, json=case.body
            )
    statuses = {response.status_code for response in answers.values()}
    assert len(statuses) == 1 and 400 <= statuses.pop() < 500, answers
    chinese, english, absent = (case.message(r.json()) for r in answers.values())
    assert chinese == case.chinese
    assert english == absent == case.english
    # Codes and shapes are the same in both languages.
    shape = json.loads(answers["en"].text.replace(case.english, "<m>"))
    assert json.loads(answers["zh-CN"].text.replace(case.chinese, "<m>")) == shape


def test_cancelling_an_ended_task_is_a_409_in_chinese_for_zh_cn(honest: GatewayServer) -> None:
    english = "The task has already ended (completed); only an unfinished task can be cancelled"
    chinese = "任务已经结束（completed）；只能取消未完成的任务"
    with client(honest, honest.create_key("zh-cancel")) as http:
        created = http.post("/luma/generations", json={"user_prompt": "ended before the cancel"})
        assert created.status_code == 200, created.text
        task_id = created.json()["id"]
        assert wait_terminal(http, [task_id], 90)[task_id]["state"] == "completed"
        answers = {
            language: http.post(
                f"/luma/generations/{task_id}/cancel",
                headers={"Accept-Language": language} if language else {},
            )
            for language in ("zh-CN", "en", None)
        }
    assert {r.status_code for r in answers.values()} == {409}, answers
    assert _reseller_message(answers["zh-CN"].json()) == chinese
    assert _reseller_message(answers["en"].json()) == english
    assert _reseller_message(answers[None].json()) == english
    assert answers["zh-CN"].json()["error"]["code"] == "task_already_ended"
    shape = json.loads(answers["en"].text.replace(english, "<m>"))
    assert json.loads(answers["zh-CN"].text.replace(chinese, "<m>")) == shape
