"""``python -m bench`` (``make bench``): the benchmark of record, one run, one table.

Every figure is printed as a ratio to a baseline measured in the same run (bare Starlette under
the same uvicorn settings, the small-history gateway, the empty-queue gateway, a pass-through
proxy, the issue's targets). Results go to ``bench/results/<time>.json`` and ``latest.json``.
``--quick`` shrinks every section (one round, 20k history, 2k queue, 200 running) for a check
in a few minutes; ``--only read,history`` runs some sections. See docs/bench.md.
"""

from __future__ import annotations

import argparse
import logging
import time
import traceback
from collections.abc import Callable

from bench import engine_path, history, process_path, read_path, write_path, wrk
from bench.common import Plan
from bench.report import Figure, table, write

SECTIONS: dict[str, Callable[[Plan], list[Figure]]] = {
    "process": process_path.measure,
    "read": read_path.measure,
    "write": write_path.measure,
    "history": history.measure,
    "latency": engine_path.latency_figures,
    "idle": engine_path.idle_write_figures,
    "upstream": engine_path.upstream_call_figures,
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller, faster run")
    parser.add_argument("--only", default="", help=f"comma-separated: {','.join(SECTIONS)}")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()] or list(SECTIONS)
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)}")
    wrk.ensure_wrk()
    plan = Plan.make(args.quick)
    figures: list[Figure] = []
    errors: list[str] = []
    began = time.monotonic()
    for name in chosen:
        started = time.monotonic()
        print(f"-- {name} ...", flush=True)
        try:
            figures += SECTIONS[name](plan)
        except Exception as exc:
            errors.append(f"{name}: {exc!r}")
            traceback.print_exc()
        print(f"   {name} took {time.monotonic() - started:.0f} s", flush=True)
    print()
    print(table(figures))
    for error in errors:
        print(f"ERROR {error}")
    path = write(figures, quick=args.quick, errors=errors)
    print(f"\n{len(figures)} figures in {time.monotonic() - began:.0f} s; written to {path}")


if __name__ == "__main__":
    main()
