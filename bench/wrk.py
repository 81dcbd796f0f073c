"""wrk, the load generator of the benchmark: installed from Debian's packages, driven by a Lua
script that reports requests, errors and latency percentiles as one JSON line.

``rate`` turns wrk's closed loop into an approximately fixed request rate (each connection waits
``connections / rate`` seconds between requests), which is how the bench measures latency at a
fraction of a server's capacity ("half load") without wrk2.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

MARKER = "BENCHJSON "

_SCRIPT = """
wrk.method = %(method)s
wrk.body = %(body)s
wrk.headers["Content-Type"] = "application/json"
%(auth)s
local pause = %(pause)s
if pause > 0 then
  function delay() return pause end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%(marker)s{"requests": %%d, "duration_us": %%d, "errors": %%d, "non_2xx": %%d, '
    .. '"p50_us": %%d, "p90_us": %%d, "p95_us": %%d, "p99_us": %%d, "max_us": %%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class WrkResult:
    """One wrk run: throughput and latency percentiles (milliseconds)."""

    requests: int
    rps: float
    errors: int
    non_2xx: int
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def ensure_wrk() -> str:
    """The path of wrk, installing Debian's package first if it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(
        "apt-get update -qq && apt-get install -y -qq wrk",
        shell=True,
        check=True,
        timeout=600,
        capture_output=True,
    )
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed and apt-get could not install it")
    return found


def _lua(value: str | None) -> str:
    return "nil" if value is None else json.dumps(value)


def run(
    url: str,
    *,
    method: str = "GET",
    body: str | None = None,
    key: str | None = None,
    connections: int = 32,
    seconds: float = 4.0,
    rate: float | None = None,
) -> WrkResult:
    """Drive ``url`` (loopback only) for ``seconds`` with ``connections`` connections."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"the bench only sends traffic to loopback, not {url}")
    pause_ms = int(connections * 1000 / rate) if rate else 0
    # A very slow target: run long enough for each connection to make a few requests.
    seconds = min(max(seconds, pause_ms * 4 / 1000), 30.0)
    script = _SCRIPT % {
        "method": _lua(method),
        "body": _lua(body),
        "auth": f'wrk.headers["Authorization"] = "Bearer {key}"' if key else "",
        "pause": pause_ms,
        "marker": MARKER,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
        path = Path(handle.name)
    try:
        command = [ensure_wrk(), "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
        command += ["--timeout", "10s", "-s", str(path), url]
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 60, check=True
        )
    finally:
        path.unlink(missing_ok=True)
    return _parse(done.stdout)


def _parse(output: str) -> WrkResult:
    for line in output.splitlines():
        if line.startswith(MARKER):
            raw = json.loads(line[len(MARKER) :])
            seconds = max(raw["duration_us"], 1) / 1e6
            return WrkResult(
                requests=raw["requests"],
                rps=raw["requests"] / seconds,
                errors=raw["errors"],
                non_2xx=raw["non_2xx"],
                p50_ms=raw["p50_us"] / 1000,
                p90_ms=raw["p90_us"] / 1000,
                p95_ms=raw["p95_us"] / 1000,
                p99_ms=raw["p99_us"] / 1000,
                max_ms=raw["max_us"] / 1000,
            )
    raise RuntimeError(f"wrk printed no result:\n{output[-2000:]}")
