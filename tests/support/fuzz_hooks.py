"""schemathesis hooks for the fuzz run (loaded by ``st run`` through ``SCHEMATHESIS_HOOKS``).

- Every URL-looking string the fuzzer puts in a body is pointed at a closed loopback port, so
  the gateway under test never connects anywhere but loopback, whatever it does with URLs.
- Every call is written to ``LUMAGATE_FUZZ_CALLS`` (one JSON line: method, path template,
  whether a body was sent), so the test can show each operation was exercised, with a body
  where it takes one.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import schemathesis

LOOPBACK_CANARY = "http://127.0.0.1:9/fuzz.png"  # the discard port: nothing listens
_URL = re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.\-]*://")


def _to_loopback(value: Any) -> Any:
    if isinstance(value, str):
        return LOOPBACK_CANARY if _URL.match(value) else value
    if isinstance(value, dict):
        return {key: _to_loopback(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_to_loopback(item) for item in value]
    return value


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    body = getattr(case, "body", None)
    has_body = body is not None and type(body).__name__ != "NotSet"
    if has_body:
        case.body = _to_loopback(body)
    calls = os.environ.get("LUMAGATE_FUZZ_CALLS")
    if calls:
        line = {"method": case.method.lower(), "path": case.path, "body": has_body}
        with open(calls, "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")
