"""``python -m bench.compare A.json [B.json]``: bench results as a Markdown table (docs/bench.md).

With two files (say before and after a change) the ratios of both runs sit side by side; a
figure is matched by its section and name.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _load(path: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(path).read_text())
    return data


def _cell(figure: dict[str, Any] | None) -> str:
    if figure is None:
        return "-"
    value = figure["value"]
    shown = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    ratio = figure.get("ratio")
    return f"{shown} {figure['unit']}" + ("" if ratio is None else f" ({ratio:.3f}x)")


def markdown(runs: list[dict[str, Any]]) -> str:
    keys: dict[tuple[str, str], dict[str, Any]] = {}
    for run in runs:
        for figure in run["figures"]:
            keys.setdefault((figure["section"], figure["name"]), figure)
    heads = " | ".join(f"{run['time']} ({run['commit']})" for run in runs)
    lines = [f"| section | figure | baseline | target | {heads} |"]
    lines.append("|---|---|---|---|" + "---|" * len(runs))
    for (section, name), first in keys.items():
        cells = []
        for run in runs:
            found = [f for f in run["figures"] if (f["section"], f["name"]) == (section, name)]
            cells.append(_cell(found[0] if found else None))
        lines.append(
            f"| {section} | {name} | {first['baseline_name'] or '-'} | {first['target'] or '-'} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines)


def main() -> None:
    print(markdown([_load(path) for path in sys.argv[1:]]))


if __name__ == "__main__":
    main()
