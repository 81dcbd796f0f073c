"""The ``lumagate`` command line (Typer)."""
