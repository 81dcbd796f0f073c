"""Figures of one bench run: each a value, its baseline and their ratio; JSON and a short table.

A ratio is the figure over its baseline measured in the same run (interleaved rounds on the same
machine), which is what survives a noisy shared machine; absolute values are kept for reference.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


@dataclass
class Figure:
    """One line of the bench's table."""

    section: str
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    samples: list[float] = field(default_factory=list)
    breakdown: dict[str, float] = field(default_factory=dict)  # what the value is made of

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio}


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0 to 100) by nearest rank; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def _commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        )
    except OSError:
        return ""
    return done.stdout.strip()


def write(figures: list[Figure], *, quick: bool, errors: list[str]) -> Path:
    """bench/results/<time>.json and latest.json (git-ignored)."""
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    payload = {
        "time": stamp,
        "commit": _commit(),
        "quick": quick,
        "machine": {"cpus": _cpus(), "python": platform.python_version()},
        "errors": errors,
        "figures": [f.as_dict() for f in figures],
    }
    path = RESULTS / f"{stamp}.json"
    text = json.dumps(payload, indent=2)
    path.write_text(text)
    (RESULTS / "latest.json").write_text(text)
    return path


def _cpus() -> int:
    return os.cpu_count() or 0


def _number(value: float | None) -> str:
    if value is None or value != value:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def table(figures: list[Figure]) -> str:
    """The short table: section, figure, value, baseline and the ratio."""
    header = f"{'figure':<52} {'value':>10} {'unit':<8} {'baseline':>10} {'ratio':>8}  target"
    lines = [header, "-" * len(header)]
    section = None
    for fig in figures:
        if fig.section != section:
            section = fig.section
            lines.append(f"[{section}]")
        ratio = "-" if fig.ratio is None else f"{fig.ratio:.3f}x"
        lines.append(
            f"  {fig.name:<50} {_number(fig.value):>10} {fig.unit:<8} "
            f"{_number(fig.baseline):>10} {ratio:>8}  {fig.target}"
        )
    return "\n".join(lines)
