"""What RequestId and HttpMetrics do around a request, for the routes answered before them.

``api/hot_routes.py`` (the client GET) and ``api/hot_create.py`` (the reseller create) skip the
middleware stack, so each must do for its request what those two layers would have: keep or
make the ``X-Request-Id``, bind it for every log line and put it on the response, and count
one observation under the route's template (500 when no answer went out, as ``HttpMetrics``
counts). It is written once here so the two cannot drift apart from each other or from the
middlewares they stand in for.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from lumagate.api.deps import ApiServices
from lumagate.observability import log_context
from lumagate.observability.http import HttpObserver
from lumagate.observability.request_id import HEADER as REQUEST_ID_HEADER
from lumagate.observability.request_id import request_id_from

# The answer to send, from the app's services; None: nothing to send (the client went away).
Answer = Callable[[ApiServices], Awaitable[JSONResponse | None]]


class ObservedAnswers:
    """Sends the answers of one hot route with its request id, and counts them in the metrics."""

    def __init__(self, method: str) -> None:
        self.method = method
        self._observer: HttpObserver | None = None  # made on the first answer (the app's metrics)

    async def send(
        self, answer: Answer, template: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        services: ApiServices = scope["app"].state.services
        started = time.monotonic()
        status = 500  # what the metrics count if no answer goes out (as HttpMetrics does)
        request_id = request_id_from(scope)
        try:
            with log_context.bind(request_id=request_id, tenant=None, task_id=None, account=None):
                response = await answer(services)
                if response is not None:
                    response.headers[REQUEST_ID_HEADER] = request_id
                    status = response.status_code
                    await response(scope, receive, send)
        finally:
            observer = self._observer or HttpObserver(services.metrics)
            self._observer = observer
            observer.observe(self.method, template, status, time.monotonic() - started)
