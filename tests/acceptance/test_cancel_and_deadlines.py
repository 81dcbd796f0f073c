"""Cancel and deadlines end to end: ``lumagate serve`` + ``lumagate sim``, both as subprocesses.

One sim whose generations never finish (an hour of dreaming) serves an official key on the
default channel (one at a time, so a second task stays queued) and a web session on ``vip``
(which cannot cancel upstream). The gateway's task deadline is 0.05 minutes (3 s); the cancel
tenants' keys opt out with ``--deadline-minutes 0``.

- a queued task cancelled: refunded, never submitted (the sim's create ledger has no trace);
- a running official task cancelled: refunded, the sim saw ``DELETE /generations/{id}``;
- a running web task cancelled whose upstream then completes: every dialect shows it failed
  with the reason and no video;
- a task past its deadline: failed with ``timed out after 0.05 minutes``, refunded, deleted
  upstream; a key's ``--deadline-minutes`` sets its tasks' deadline;
- cancel in each dialect (reseller under every prefix, OpenAI's SDK ``videos.delete``, admin),
  409 for a task that has ended, 404 for another tenant's task.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import openai
import pytest
from openai import OpenAI

from tests.support.databases import ServerDatabase
from tests.support.receiver import CallbackReceiver
from tests.support.servers import GatewayServer
from tests.support.upstreams import (
    AccountSpec,
    SimProcess,
    client,
    create,
    ledger,
    ledger_prompt,
    make_gateway,
    official,
    sim_get,
    wait_terminal,
    web,
)
from tests.support.waiting import wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning"),
]

OFFICIAL_KEY = "luma-cancel-official"
WEB_TOKEN = "cancel-web-session"
NEVER = 3600.0  # seconds of dreaming: the sim's generations do not finish during the test
CALLER = "Cancelled by the caller"
OPERATOR = "Cancelled by the operator"


@dataclass
class Env:
    sim: SimProcess
    server: GatewayServer
    http: httpx.Client  # tenant A, no deadline
    other: httpx.Client  # tenant B, no deadline
    timed: httpx.Client  # a tenant with the gateway's deadline (0.05 minutes)
    admin: httpx.Client
    sdk: OpenAI  # tenant A through the openai SDK
    receiver: CallbackReceiver


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, server_database: ServerDatabase) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("cancel")
    media = tmp / "sim-media"
    media.mkdir()
    sim = SimProcess(
        tmp / "sim.log",
        media_dir=media,
        queued_seconds=0.1,
        dreaming_seconds=NEVER,
        creates_per_minute=100_000,
        web_null_video_rate=0.0,
        callback_duplicate_rate=0.0,
        seed=7,
    ).start()
    accounts = [
        _on(official(sim, "official", OFFICIAL_KEY, 1), "default"),
        _on(web(sim, "web", WEB_TOKEN, 4), "vip"),
    ]
    server = make_gateway(
        tmp / "gw",
        accounts,
        **server_database(),
        task_deadline_minutes="0.05",
        deadline_check_seconds="0.2",
        upstream_cancel_retry_seconds="1",
        callback_allow="127.0.0.1",
    )
    # ``lumagate keys create --deadline-minutes`` (the CLI, before the server starts)
    server.create_key("cli-deadline", "--deadline-minutes", "7")
    server.start()
    receiver = CallbackReceiver().start()
    try:
        keys = [
            server.create_key(name, "--credits", "100000", *extra)
            for name, extra in (
                ("tenant-a", ("--deadline-minutes", "0")),
                ("tenant-b", ("--deadline-minutes", "0")),
                ("timed", ()),
            )
        ]
        sdk = OpenAI(api_key=keys[0], base_url=server.base_url + "/v1", max_retries=0)
        with (
            client(server, keys[0]) as http,
            client(server, keys[1]) as other,
            client(server, keys[2]) as timed,
            client(server, server.admin_key()) as admin,
        ):
            yield Env(sim, server, http, other, timed, admin, sdk, receiver)
        sdk.close()
    finally:
        receiver.stop()
        server.stop()
        sim.stop()


def _on(spec: AccountSpec, channels: str) -> AccountSpec:
    return AccountSpec(
        spec.kind, spec.name, (*spec.args, "--channels", channels), spec.max_concurrency
    )


def _admin_task(env: Env, task_id: str) -> dict[str, Any]:
    response = env.admin.get(f"/admin/tasks/{task_id}")
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


def _wait_running(env: Env, task_id: str) -> dict[str, Any]:
    def running() -> dict[str, Any] | None:
        view = _admin_task(env, task_id)
        return view if view["state"] in ("submitted", "processing") else None

    return wait_until(running, f"task {task_id} running upstream", timeout=60)


def _refunded(env: Env, task_id: str) -> None:
    """The task's charge is refunded once. The refund follows the task's failure event (the
    billing listener), so a client may see the end a moment before it: wait for it."""

    def refunded() -> list[dict[str, Any]] | None:
        entries: list[dict[str, Any]] = _admin_task(env, task_id)["ledger"]
        return entries if any(entry["kind"] == "refund" for entry in entries) else None

    entries = wait_until(refunded, f"the refund of task {task_id}")
    assert sorted(entry["kind"] for entry in entries) == ["charge", "refund"], entries
    assert sum(entry["delta"] for entry in entries) == 0


def _deletes(env: Env) -> int:
    routes = sim_get(env.sim, "/_sim/stats").get(OFFICIAL_KEY, {}).get("routes", {})
    return sum(n for route, n in routes.items() if route.startswith("DELETE "))


def _sim_prompts(env: Env) -> list[str]:
    return [ledger_prompt(e) for e in ledger(env.sim)]


def test_a_queued_task_is_cancelled_at_once_refunded_and_never_submitted(env: Env) -> None:
    holder = create(env.http, {"user_prompt": "cancel holder takes the only slot"})
    _wait_running(env, holder)
    queued = create(env.http, {"user_prompt": "cancel queued never reaches the upstream"})
    assert _admin_task(env, queued)["state"] == "queued"

    response = env.http.post(f"/luma/generations/{queued}/cancel")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["id"], body["state"], body["failure_reason"]) == (queued, "failed", CALLER)
    assert body["video"] is None
    view = _admin_task(env, queued)
    assert view["state"] == "cancelled" and view["upstream_id"] is None
    _refunded(env, queued)

    again = env.http.post(f"/luma/generations/{queued}/cancel")
    assert again.status_code == 409, again.text
    error = again.json()
    assert error["error"]["code"] == "task_already_ended"
    assert error["detail"]["reason"] == error["error"]["message"]

    # The running holder: cancelled upstream (the sim sees the DELETE), refunded.
    deletes = _deletes(env)
    response = env.http.post(f"/pro/luma/v1/generations/{holder}/cancel/")
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "failed"
    wait_until(lambda: _deletes(env) > deletes, "the sim saw DELETE of the generation")
    holder_view = _admin_task(env, holder)
    assert holder_view["state"] == "cancelled"
    _refunded(env, holder)
    prompts = _sim_prompts(env)
    assert "cancel holder takes the only slot" in prompts
    assert "cancel queued never reaches the upstream" not in prompts


def test_a_cancelled_task_whose_upstream_finishes_never_shows_the_result(env: Env) -> None:
    with env.sim.client() as debug:
        assert debug.post("/_sim/config", json={"dreaming_seconds": 1.0}).status_code == 200
    try:
        task_id = create(env.http, {"user_prompt": "cancel web discard"}, "/vip/luma/generations")
        _wait_running(env, task_id)
        response = env.admin.post(f"/admin/tasks/{task_id}/cancel")
        assert response.status_code == 200, response.text
        assert response.json()["state"] == "cancelled"
        # The web upstream cannot cancel: its generation completes; a later task on the same
        # account completing proves the gateway followed the account well after that.
        wait_until(
            lambda: sim_get(env.sim, "/_sim/stats")[WEB_TOKEN]["running"] == 0,
            "the sim finished the cancelled generation",
        )
        later = create(env.http, {"user_prompt": "cancel web later"}, "/vip/luma/generations")
        assert wait_terminal(env.http, [later], 60)[later]["state"] == "completed"
    finally:
        with env.sim.client() as debug:
            debug.post("/_sim/config", json={"dreaming_seconds": NEVER})
    _assert_failed_everywhere(env, task_id, OPERATOR)
    view = _admin_task(env, task_id)
    assert view["state"] == "cancelled"
    _refunded(env, task_id)


def _assert_failed_everywhere(env: Env, task_id: str, reason: str) -> None:
    flat = env.http.get(f"/luma/generations/{task_id}").json()
    assert (flat["state"], flat["failure_reason"], flat["video"]) == ("failed", reason, None)
    record = env.http.post("/luma/tasks", json={"ids": [task_id]}).json()["data"][0]
    assert (record["status"], record["fail_reason"]) == ("FAILURE", reason)
    luma = env.http.get(f"/dream-machine/v1/generations/{task_id}").json()
    assert (luma["state"], luma["failure_reason"]) == ("failed", reason)
    assert luma["assets"]["video"] is None
    video = env.sdk.videos.retrieve(task_id)
    assert video.status == "failed"
    assert video.error is not None and video.error.code == "cancelled"
    assert video.error.message == reason
    content = env.http.get(f"/v1/videos/{task_id}/content")
    assert content.status_code == 400, content.text
    newapi = env.http.get(f"/v1/video/generations/{task_id}").json()["data"]
    assert newapi["status"] == "FAILURE"
    assert env.http.get(f"/luma/generations/{task_id}/download_video_url").status_code == 400


def test_a_task_past_its_deadline_fails_with_the_reason_and_is_refunded(env: Env) -> None:
    deletes = _deletes(env)
    task_id = create(env.timed, {"user_prompt": "deadline never finishes"})
    done = wait_terminal(env.timed, [task_id], 60)[task_id]
    assert done["state"] == "failed"
    assert done["failure_reason"] == "timed out after 0.05 minutes"
    view = _admin_task(env, task_id)
    assert view["state"] == "failed" and view["upstream_id"] is not None
    _refunded(env, task_id)
    wait_until(lambda: _deletes(env) > deletes, "the sim saw DELETE of the timed-out generation")


def test_a_keys_deadline_minutes_sets_its_tasks_deadline(env: Env) -> None:
    from_cli = env.admin.get("/admin/keys/cli-deadline")
    assert from_cli.status_code == 200, from_cli.text
    assert from_cli.json()["deadline_minutes"] == 7
    created = env.server.create_tenant("one-minute", "--deadline-minutes", "1")
    assert created["deadline_minutes"] == 1
    with client(env.server, created["key"]) as http:
        task_id = create(http, {"user_prompt": "deadline of one minute"}, "/vip/luma/generations")
        view = _admin_task(env, task_id)
        span = datetime.fromisoformat(view["deadline_at"]) - datetime.fromisoformat(
            view["created_at"]
        )
        assert span.total_seconds() == 60
        response = http.post(f"/vip/luma/V1/generations/{task_id}/cancel")
        assert response.status_code == 200, response.text


def test_openai_sdk_delete_cancels_and_another_tenant_gets_404(env: Env) -> None:
    task_id = create(env.http, {"user_prompt": "cancel through the sdk"}, "/vip/luma/generations")
    _wait_running(env, task_id)
    foreign = env.other.post(f"/luma/generations/{task_id}/cancel")
    assert foreign.status_code == 404, foreign.text
    assert foreign.json()["error"]["code"] == "task_not_exist"
    assert env.other.delete(f"/v1/videos/{task_id}").status_code == 404
    assert _admin_task(env, task_id)["state"] in ("submitted", "processing")  # untouched

    deleted = env.sdk.videos.delete(task_id)
    assert (deleted.id, deleted.object, deleted.deleted) == (task_id, "video.deleted", True)
    with pytest.raises(openai.NotFoundError):
        env.sdk.videos.retrieve(task_id)
    view = _admin_task(env, task_id)
    assert (view["state"], view["failure_reason"]) == ("cancelled", CALLER)
    _refunded(env, task_id)
    ended = env.admin.post(f"/admin/tasks/{task_id}/cancel")
    assert ended.status_code == 409, ended.text
    assert ended.json()["error"]["code"] == "task_already_ended"
    assert (
        env.admin.post(f"/admin/tasks/{'0' * 8}-0000-0000-0000-{'0' * 12}/cancel").status_code
        == 404
    )


def test_a_cancel_is_called_back_in_the_tasks_dialect(env: Env) -> None:
    hook = env.receiver.url + "/cancel-hook"
    body = {"user_prompt": "cancel with a callback", "notify_hook": hook}
    task_id = create(env.http, body, "/vip/luma/generations")
    _wait_running(env, task_id)
    assert env.http.post(f"/vip/luma/generations/{task_id}/cancel").status_code == 200

    def cancelled(got: list[Any]) -> bool:
        bodies = [json.loads(r.body) for r in got if r.path == "/cancel-hook"]
        return any(b["id"] == task_id and b["state"] == "failed" for b in bodies)

    got = env.receiver.wait_for(cancelled)
    final = [json.loads(r.body) for r in got if r.path == "/cancel-hook"][-1]
    assert (final["failure_reason"], final["video"]) == (CALLER, None)
    deliveries = env.admin.get(f"/admin/tasks/{task_id}/deliveries").json()["data"]
    assert "cancelled" in {d["event"] for d in deliveries}
