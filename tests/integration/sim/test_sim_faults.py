"""Fault injection and the debug endpoints of ``lumagate sim``."""

from __future__ import annotations

import time

from lumagate.sim.testing import SimServer, StartSim

API = "/dream-machine/v1"
AUTH = {"Authorization": "Bearer luma-faulty"}
BODY = {"model": "ray-2", "prompt": "a quiet harbour"}


def test_lost_responses_are_recorded_in_the_ledger(start_sim: StartSim) -> None:
    sim = start_sim(lost_response_rate=1.0)
    with sim.client(headers=AUTH) as client:
        lost = client.post(f"{API}/generations", json=BODY)
        assert lost.status_code == 502
        listed = client.get(f"{API}/generations").json()["generations"]
    web = sim.client(headers={"Cookie": "access_token=web-lost"})
    with web:
        web_lost = web.post("/api/photon/v1/generations/", json={"user_prompt": "x y z"})
        assert web_lost.status_code == 502
    with sim.client() as debug:
        entries = debug.get("/_sim/ledger").json()["entries"]
        stats = debug.get("/_sim/stats").json()
    assert [(e["credential"], e["surface"]) for e in entries] == [
        ("luma-faulty", "official"),
        ("web-lost", "web"),
    ]
    assert entries[0]["request"]["prompt"] == "a quiet harbour"
    assert [g["id"] for g in listed] == [entries[0]["generation_id"]]  # a reconciler finds it
    assert stats["luma-faulty"]["creates"] == 1


def test_error_rate_one_fails_the_api_but_not_debug_or_media(start_sim: StartSim) -> None:
    sim = start_sim()
    with sim.client(headers=AUTH) as client:
        created = client.post(f"{API}/generations", json=BODY).json()
        while client.get(f"{API}/generations/{created['id']}").json()["state"] != "completed":
            time.sleep(0.05)
        video_url = client.get(f"{API}/generations/{created['id']}").json()["assets"]["video"]
        with sim.client() as debug:
            config = debug.post("/_sim/config", json={"error_rate": 1.0})
            assert config.status_code == 200 and config.json()["error_rate"] == 1.0
        for _ in range(5):
            response = client.get(f"{API}/generations/{created['id']}")
            assert response.status_code == 500
            assert response.json() == {"detail": "Internal server error"}
        assert client.post(f"{API}/generations", json=BODY).status_code == 500
        assert client.get(video_url).status_code == 200
    with sim.client() as debug:
        assert debug.get("/_sim/stats").status_code == 200
        assert len(debug.get("/_sim/ledger").json()["entries"]) == 1
        assert debug.post("/_sim/config", json={"error_rate": 7}).status_code == 400
        assert debug.post("/_sim/config", json={"no_such_knob": 1}).status_code == 400


def test_error_rate_from_startup_config(start_sim: StartSim) -> None:
    sim = start_sim(error_rate=1.0)
    with sim.client(headers={"Cookie": "access_token=t"}) as web:
        assert web.get("/api/users/v1/me").status_code == 500
    with sim.client() as debug:
        assert debug.get("/_sim/ledger").json() == {"entries": []}


def test_timeouts_answer_504_and_slow_answers_are_late(start_sim: StartSim) -> None:
    sim = start_sim(timeout_rate=1.0, timeout_seconds=0.3)
    with sim.client(headers=AUTH) as client:
        started = time.monotonic()
        assert client.get(f"{API}/credits").status_code == 504
        assert time.monotonic() - started >= 0.3
    slow = start_sim(slow_rate=1.0, slow_seconds=0.3)
    with slow.client(headers=AUTH) as client:
        started = time.monotonic()
        assert client.get(f"{API}/credits").status_code == 200
        assert time.monotonic() - started >= 0.3


def test_seeded_faults_are_reproducible(start_sim: StartSim) -> None:
    def codes(sim: SimServer) -> list[int]:
        with sim.client(headers=AUTH) as client:
            return [client.get(f"{API}/ping").status_code for _ in range(30)]

    first = codes(start_sim(error_rate=0.5, seed=42))
    second = codes(start_sim(error_rate=0.5, seed=42))
    assert first == second
    assert set(first) == {200, 500}


def test_reset_clears_everything(sim: SimServer) -> None:
    with sim.client(headers=AUTH) as client:
        assert client.post(f"{API}/generations", json=BODY).status_code == 201
    with sim.client() as debug:
        assert debug.post("/_sim/reset").json() == {"reset": True}
        assert debug.get("/_sim/ledger").json() == {"entries": []}
        assert debug.get("/_sim/stats").json() == {}
    with sim.client(headers=AUTH) as client:
        assert client.get(f"{API}/generations").json()["generations"] == []
