"""``python -m bench``: run every benchmark and print its table."""

from __future__ import annotations

from bench import upstream_calls

BENCHMARKS = [("upstream calls per task", upstream_calls.main)]


def main() -> None:
    for title, run in BENCHMARKS:
        print(f"== {title} ==")
        run()
        print()


if __name__ == "__main__":
    main()
