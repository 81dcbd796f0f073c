"""Each client method once, without I/O: a flow that yields what to do and returns the answer.

A flow is a generator: it yields a :class:`~lumagate.client.calls.Call` to send (and is sent
back the checked response) or a number of seconds to pause (and is sent ``None``), and returns
the method's result. :class:`~lumagate.client.transport.GatewaySession` runs flows with blocking
I/O, :class:`~lumagate.client.transport.AsyncGatewaySession` with asyncio, so the requests, the
decoding and the waiting rules (``wait``'s polling, deadline and outcome) are written once for
both clients, as sans-I/O libraries do; the clients keep only their typed method signatures.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Generic, TypeVar

import httpx

from lumagate.client import calls
from lumagate.client.calls import Call, CreateKeywords, ExtendKeywords, GenerationRef
from lumagate.client.images import ImageInput
from lumagate.client.models import Generation, UploadedImage, Usage, parse_usage
from lumagate.client.waiting import (
    DEFAULT_POLL_SECONDS,
    DEFAULT_WAIT_SECONDS,
    WaitClock,
    WaitKeywords,
    outcome,
)

T = TypeVar("T")
Step = Call | float
"""What a flow asks for: a request to send, or seconds to pause."""
Flow = Generator[Step, httpx.Response | None, T]


class FlowRun(Generic[T]):
    """A flow being run: the ``step`` it asks for now, until ``done``, then its ``result``."""

    def __init__(self, flow: Flow[T]) -> None:
        self._flow = flow
        self.done = False
        self.step: Step = 0.0
        self._result: T | None = None
        self._advance(lambda: next(flow))

    def answer(self, response: httpx.Response | None) -> None:
        """Hand the flow the answer to its step (the response, or ``None`` after a pause)."""
        self._advance(lambda: self._flow.send(response))

    @property
    def result(self) -> T:
        assert self.done
        return self._result  # type: ignore[return-value]  # T itself may include None

    def _advance(self, resume: Callable[[], Step]) -> None:
        try:
            self.step = resume()
        except StopIteration as finished:
            self.done = True
            self._result = finished.value


def request(call: Call, read: Callable[[httpx.Response], T]) -> Flow[T]:
    """Send ``call``; its answer read by ``read``."""
    response = yield call
    assert response is not None  # a runner answers every Call with its response
    return read(response)


def create(prompt: str, channel: str | None, keywords: CreateKeywords) -> Flow[Generation]:
    return request(calls.create_call(prompt, channel, keywords), calls.read_generation)


def extend(
    source: GenerationRef, prompt: str, channel: str | None, keywords: ExtendKeywords
) -> Flow[Generation]:
    return request(calls.extend_call(source, prompt, channel, keywords), calls.read_generation)


def get(task: GenerationRef) -> Flow[Generation]:
    return request(calls.get_call(task), calls.read_generation)


def status(task: GenerationRef) -> Flow[Generation]:
    return request(calls.status_call(task), lambda response: calls.read_status(response, task))


def wait(task: GenerationRef, options: WaitKeywords) -> Flow[Generation]:
    """Poll the status until the task ends: completed, or ``TaskFailedError`` /
    ``WaitTimeoutError``; ``on_progress`` hears every poll."""
    on_progress = options.get("on_progress")
    timeout = options.get("timeout", DEFAULT_WAIT_SECONDS)
    clock = WaitClock(options.get("poll_interval", DEFAULT_POLL_SECONDS), timeout)
    while True:
        latest = yield from status(task)
        if on_progress is not None:
            on_progress(latest)
        if latest.done:
            return outcome(latest)
        yield clock.pause_before_next(latest)


def download_url(task: GenerationRef) -> Flow[str]:
    return request(calls.download_url_call(task), calls.read_url)


def listing(offset: int, limit: int) -> Flow[list[Generation]]:
    return request(calls.list_call(offset, limit), calls.read_list)


def usage() -> Flow[Usage]:
    return request(calls.usage_call(), lambda response: parse_usage(calls.json_object(response)))


def upload(image: ImageInput) -> Flow[UploadedImage]:
    return request(calls.upload_call(image), calls.read_upload)
