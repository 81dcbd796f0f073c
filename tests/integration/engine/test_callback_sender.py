"""Callbacks over real HTTP: a receiver on 127.0.0.1 that fails for a while, a gateway killed
and restarted in between, and the SSRF guard refusing internal targets.

The receiver is on loopback, so the delivery test admits it with ``LUMAGATE_CALLBACK_ALLOW``;
the SSRF test runs without an allow-list and expects every internal target refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from lumagate.security.signing import verify_signature
from tests.support.acceptance import client, start_server, wait_for
from tests.support.receiver import CallbackReceiver, Received
from tests.support.servers import GatewayServer
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

FAIL = "[[fail]]"


def create_key_with_secret(server: GatewayServer, name: str) -> tuple[str, str]:
    created = server.create_tenant(name)
    return created["key"], created["webhook_secret"]


def deliveries(http: httpx.Client, task_id: str) -> list[dict[str, Any]]:
    response = http.get(f"/luma/generations/{task_id}/deliveries")
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["data"]
    return found


def test_delivery_survives_failures_and_a_restart(tmp_path: Path) -> None:
    failing = {"on": True}
    receiver = CallbackReceiver(status_for=lambda n: 500 if failing["on"] else 200).start()
    server = start_server(
        tmp_path / "data",
        callback_allow="127.0.0.1/32",
        callback_backoff_base_seconds="0.3",
        callback_backoff_cap_seconds="1",
        callback_timeout_seconds="2",
    )
    try:
        key, secret = create_key_with_secret(server, "hooks")
        hook = receiver.url + "/hook?token=s3cr3t-token"
        with client(server.base_url, key) as http:
            created = http.post(
                "/luma/generations", json={"user_prompt": "a lighthouse", "notify_hook": hook}
            ).json()
        task_id = created["id"]
        receiver.wait_for(lambda got: len(got) >= 2)  # at least one retry before the crash
        server.kill()
        before_restart = len(receiver.snapshot())
        server.start()
        receiver.wait_for(lambda got: len(got) > before_restart + 1)  # retried after restart
        failing["on"] = False
        got = receiver.wait_for(
            lambda got: any(
                r.status == 200 and r.headers["x-lumagate-event"] == "completed" for r in got
            ),
            timeout=120,
        )
        with client(server.base_url, key) as http:
            final = wait_for(http, task_id, states={"completed"})
            # Every delivery settled: no retry of an earlier event can still be on its way, so
            # the receiver's count and the recorded attempts describe the same set.
            log = wait_until(
                lambda: (
                    (found := deliveries(http, task_id))
                    and all(d["state"] == "delivered" for d in found)
                    and found
                ),
                "every delivery delivered",
                timeout=60,
            )
        received = receiver.snapshot()
    finally:
        receiver.stop()
        server.stop()

    by_event: dict[str, list[Received]] = {}
    for request in got:
        assert request.path == "/hook?token=s3cr3t-token"
        by_event.setdefault(request.headers["x-lumagate-event"], []).append(request)
    assert "completed" in by_event
    for event, requests in by_event.items():
        ids = {r.headers["x-lumagate-delivery"] for r in requests}
        assert len(ids) == 1, (event, ids)  # the same delivery id on every attempt
        bodies = {r.body for r in requests}
        assert len(bodies) == 1  # and the same bytes
        for request in requests:
            assert request.headers["content-type"] == "application/json"
            signature = request.headers["x-lumagate-signature"]
            assert verify_signature(secret, signature, request.body, now=request.at)
            assert not verify_signature("whsec_wrong", signature, request.body)
    assert any(r.status == 500 for r in got)
    completed = by_event["completed"]
    assert completed[-1].status == 200
    assert [r.status for r in completed].count(200) == 1  # delivered once, then left alone
    assert json.loads(completed[-1].body) == final  # exactly what the GET returns

    shown = {d["event"]: d for d in log}
    assert shown["completed"]["state"] == "delivered"
    assert shown["completed"]["id"] == completed[0].headers["x-lumagate-delivery"]
    # Every recorded attempt reached the receiver; an attempt cut short by kill -9 may have
    # reached it without being recorded (at-least-once: receivers dedup by delivery id).
    total_attempts = sum(d["attempts"] for d in log)
    assert 0 <= len(received) - total_attempts <= len(log)
    assert any(a["status"] == 500 for d in log for a in d["log"])


SSRF_TARGETS = [
    "http://127.0.0.1:9/hook",
    "http://[::1]:9/hook",
    "http://10.0.0.1/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://localhost:9/hook",
    "http://0x7f000001/",
]


def test_internal_targets_are_refused_and_recorded(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data")
    try:
        key = server.create_key("ssrf")
        with client(server.base_url, key) as http:
            ids = {}
            for target in SSRF_TARGETS:
                response = http.post(
                    "/luma/generations",
                    json={"user_prompt": f"probe {FAIL}", "notify_hook": target},
                )
                assert response.status_code == 200, response.text
                ids[target] = response.json()["id"]
            for task_id in ids.values():
                wait_for(http, task_id, states={"failed"})

            def settled(wanted: dict[str, str]) -> dict[str, list[dict[str, Any]]] | None:
                got = {t: deliveries(http, i) for t, i in wanted.items()}
                done = all(
                    any(d["event"] == "failed" for d in log)
                    and all(d["state"] != "pending" for d in log)
                    for log in got.values()
                )
                return got if done else None

            wait_until(lambda: settled(ids), "every delivery refused")
            # A later task's refusal proves the sender has made passes since; the first ones
            # are still at one attempt and nothing is scheduled for them: never retried.
            canary = http.post(
                "/luma/generations",
                json={"user_prompt": f"canary {FAIL}", "notify_hook": SSRF_TARGETS[0]},
            ).json()["id"]
            wait_for(http, canary, states={"failed"})
            wait_until(lambda: settled({"canary": canary}), "the canary's delivery refused")
            logs = {t: deliveries(http, i) for t, i in ids.items()}
    finally:
        server.stop()
    for target, log in logs.items():
        assert log, target
        for delivery in log:
            assert delivery["state"] == "refused", (target, delivery)
            assert delivery["attempts"] == 1, (target, delivery)  # never retried
            assert delivery["next_attempt_at"] is None, (target, delivery)  # nor scheduled
            assert delivery["last_error"].startswith("refused"), (target, delivery)
            assert delivery["log"][0]["outcome"] == "refused"
    assert "loopback" in logs["http://localhost:9/hook"][0]["last_error"]
    assert "localhost resolves to" in logs["http://localhost:9/hook"][0]["last_error"]
    assert "metadata" in logs["http://169.254.169.254/latest/meta-data/"][0]["last_error"]
    assert "127.0.0.1" in logs["http://0x7f000001/"][0]["last_error"]
