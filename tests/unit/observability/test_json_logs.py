"""The JSON formatter and the log context: one object per line with the bound fields."""

from __future__ import annotations

import json
import logging
import re
import sys

import pytest

from lumagate.observability import log_context
from lumagate.observability.json_logs import JsonLogFormatter, uvicorn_log_config
from lumagate.observability.request_id import request_id_from


def _record(message: str, *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            exc_info = sys.exc_info()
    return logging.LogRecord("lumagate.test", logging.WARNING, __file__, 1, message, args, exc_info)


def test_one_object_with_the_bound_fields() -> None:
    with log_context.bind(request_id="r-1", tenant="alice"):
        line = JsonLogFormatter().format(_record("task %s moved", "t-9"))
    entry = json.loads(line)
    assert entry["message"] == "task t-9 moved" and entry["level"] == "warning"
    assert entry["logger"] == "lumagate.test"
    assert (entry["request_id"], entry["tenant"], entry["task_id"]) == ("r-1", "alice", None)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["time"])
    assert "\n" not in line


def test_exceptions_stay_on_the_line() -> None:
    entry = json.loads(JsonLogFormatter().format(_record("failed", exc=True)))
    assert "ValueError: boom" in entry["exception"]


def test_a_task_brings_the_request_that_created_it() -> None:
    with log_context.bind(request_id="req-42"):
        log_context.remember_task("task-a")
    assert log_context.current()["request_id"] is None
    with log_context.bind(task_id="task-a", account="acc"):
        assert log_context.current()["request_id"] == "req-42"
    with log_context.bind(task_id="task-unknown"):
        assert log_context.current()["request_id"] is None


@pytest.mark.parametrize(
    ("header", "kept"),
    [(b"abc-123", True), (b"a" * 128, True), (b"a" * 129, False), (b"x y", False), (b"", False)],
)
def test_request_ids_from_clients_are_kept_only_when_sane(header: bytes, kept: bool) -> None:
    found = request_id_from({"headers": [(b"x-request-id", header)]})
    assert (found == header.decode()) is kept
    if not kept:
        assert re.fullmatch(r"[0-9a-f]{32}", found)


def test_uvicorn_config_refuses_an_unknown_format() -> None:
    assert uvicorn_log_config("json", "info")["formatters"]["main"]["()"].endswith(
        "JsonLogFormatter"
    )
    with pytest.raises(ValueError, match="text, json"):
        uvicorn_log_config("xml", "info")
