"""``lumagate keys``: create, list and revoke API keys (tenants)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from lumagate.cli.common import console, run_with_gateway
from lumagate.domain.channels import parse_channels
from lumagate.domain.clock import utcnow
from lumagate.gateway import Gateway
from lumagate.store.keys import ApiKey

app = typer.Typer(
    help="Manage API keys: each key is a tenant that sees only its own tasks.", no_args_is_help=True
)


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="A label for the key's owner.")],
    credits: Annotated[
        int | None, typer.Option(help="Credit balance; unlimited if omitted.")
    ] = None,
    channels: Annotated[str, typer.Option(help="Channels the key may use.")] = "default,vip,pro",
    rpm: Annotated[int | None, typer.Option(help="Requests per minute limit.")] = None,
    max_running: Annotated[int | None, typer.Option(help="Tasks running at once limit.")] = None,
) -> None:
    """Create a key. The key itself is printed as the LAST line of stdout (shown only once)."""
    try:
        allowed = parse_channels(channels)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--channels") from None

    async def action(gateway: Gateway) -> tuple[ApiKey, str]:
        return await gateway.keys.create(
            name, utcnow(), credits=credits, channels=allowed, rpm=rpm, max_running=max_running
        )

    record, plaintext = run_with_gateway(action)
    console.print(
        f"Created key [bold]{record.name}[/] (id {record.id}). Store it now: it is not shown again."
    )
    typer.echo(plaintext)


@app.command("list")
def list_keys() -> None:
    """List keys (prefix, name, channels, credits, state); never the keys themselves."""

    async def action(gateway: Gateway) -> list[ApiKey]:
        return await gateway.keys.all()

    table = Table("id", "name", "prefix", "channels", "credits", "state")
    now = utcnow()
    for key in run_with_gateway(action):
        state = "revoked" if key.revoked_at else ("active" if key.usable(now) else "expired")
        table.add_row(
            key.id,
            key.name,
            key.prefix + "…",
            ",".join(key.channels),
            "unlimited" if key.credits is None else str(key.credits),
            state,
        )
    console.print(table)


@app.command("revoke")
def revoke(key: Annotated[str, typer.Argument(help="Key id, name or prefix.")]) -> None:
    """Revoke a key: it stops working at once; its tasks and records are kept."""

    async def action(gateway: Gateway) -> bool:
        record = await gateway.keys.find(key)
        return record is not None and await gateway.keys.revoke(record.id, utcnow())

    if not run_with_gateway(action):
        console.print(f"[red]No active key matches {key!r}[/]")
        raise typer.Exit(1)
    console.print(f"Revoked {key}")
