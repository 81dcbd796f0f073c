"""The client's flows (``client/flows.py``) driven by hand: what each asks for, in order.

No HTTP here: a flow yields a :class:`Call` or a pause, and is answered with a response built
in the test, so the polling rules both clients share are checked once, without a server.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from lumagate.client import flows
from lumagate.client.calls import Call
from lumagate.client.errors import TaskFailedError, WaitTimeoutError
from lumagate.client.flows import FlowRun


def _record(state: str, status: str, progress: str, reason: str | None = None) -> httpx.Response:
    data = {"id": "t1", "state": state, "prompt": "p", "failure_reason": reason}
    body = {"data": [{"status": status, "progress": progress, "data": data}]}
    return httpx.Response(200, json=body, request=httpx.Request("POST", "http://gw/luma/tasks"))


def _drive(flow: flows.Flow[Any], answers: list[httpx.Response]) -> tuple[list[object], Any]:
    """Run ``flow`` answering its calls from ``answers``; (the steps it asked for, its result)."""
    run = FlowRun(flow)
    steps: list[object] = []
    while not run.done:
        steps.append(run.step)
        run.answer(answers.pop(0) if isinstance(run.step, Call) else None)
    return steps, run.result


def test_wait_polls_the_status_pausing_between_polls_until_the_task_ends() -> None:
    heard: list[str] = []
    flow = flows.wait("t1", {"on_progress": lambda g: heard.append(g.stage), "poll_interval": 0.25})
    answers = [
        _record("processing", "IN_PROGRESS", "40%"),
        _record("completed", "SUCCESS", "100%"),
    ]
    steps, done = _drive(flow, answers)
    status = Call("POST", "/luma/tasks", json={"ids": ["t1"]})
    assert steps == [status, 0.25, status]
    assert (done.id, done.state, done.progress) == ("t1", "completed", 100)
    assert heard == ["processing", "completed"]


def test_wait_raises_for_a_failed_task() -> None:
    with pytest.raises(TaskFailedError, match="task t1 failed: moderation"):
        _drive(flows.wait("t1", {}), [_record("failed", "FAILURE", "", "moderation")])


def test_wait_gives_up_at_its_deadline() -> None:
    flow = flows.wait("t1", {"timeout": 0.0})
    with pytest.raises(WaitTimeoutError, match="t1 still processing"):
        _drive(flow, [_record("processing", "IN_PROGRESS", "10%")])


def test_a_one_request_flow_asks_once_and_reads_the_answer() -> None:
    response = httpx.Response(
        200,
        json={"url": "http://cdn/v.mp4"},
        request=httpx.Request("POST", "http://gw/luma/generations/t1/download_video_url"),
    )
    steps, url = _drive(flows.download_url("t1"), [response])
    assert (
        len(steps) == 1
        and isinstance(steps[0], Call)
        and steps[0].path.endswith("/t1/download_video_url")
    )
    assert url == "http://cdn/v.mp4"
