"""The baseline of CLI start-up: a Typer app with one command and nothing else imported."""

from __future__ import annotations

import typer

app = typer.Typer()


@app.command()
def hello(name: str = "world") -> None:
    """Say hello."""
    typer.echo(f"hello {name}")


if __name__ == "__main__":
    app()
