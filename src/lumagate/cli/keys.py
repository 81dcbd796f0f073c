"""``lumagate keys``: create, list, revoke and top up API keys (tenants).

``create`` prints the key as the LAST line of stdout (scripts do ``| tail -n1``) and the key's
webhook secret on stderr; both go through :class:`~lumagate.service.keys.KeyAdmin`, the same
code as the ``/admin`` API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from lumagate.cli.common import console, run_with_stores
from lumagate.domain.channels import parse_channels
from lumagate.domain.clock import utcnow
from lumagate.domain.errors import InvalidRequest, KeyNotFound
from lumagate.domain.tenant import ApiKey

if TYPE_CHECKING:  # the stores and services load inside the commands (quick --help)
    from lumagate.service.keys import CreatedKey
    from lumagate.wiring.stores import Stores

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
    expires_days: Annotated[
        float | None, typer.Option(help="Days until the key expires; never if omitted.")
    ] = None,
    deadline_minutes: Annotated[
        int | None,
        typer.Option(
            help="Task deadline of this key in minutes (0: none); the setting if omitted."
        ),
    ] = None,
) -> None:
    """Create a key. The key itself is printed as the LAST line of stdout (shown only once)."""
    try:
        allowed = parse_channels(channels)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--channels") from None
    from lumagate.wiring.operator import key_admin

    async def action(stores: Stores) -> CreatedKey:
        return await key_admin(stores).create(
            name,
            credits=credits,
            channels=allowed,
            rpm=rpm,
            max_running=max_running,
            expires_days=expires_days,
            deadline_minutes=deadline_minutes,
        )

    try:
        created = run_with_stores(action)
    except InvalidRequest as exc:
        raise typer.BadParameter(exc.message) from None
    record = created.record
    console.print(
        f"Created key [bold]{record.name}[/] (id {record.id}). Store it now: it is not shown again."
    )
    # Plain echo, not rich: a long secret must not be wrapped.
    typer.echo(f"Webhook secret: {created.webhook_secret}", err=True)
    typer.echo(created.plaintext)


@app.command("list")
def list_keys() -> None:
    """List keys (prefix, name, channels, credits, state); never the keys themselves."""

    async def action(stores: Stores) -> list[ApiKey]:
        return await stores.keys.all()

    from rich.console import Console  # loaded by the listing only
    from rich.table import Table

    table = Table(
        "id", "name", "prefix", "channels", "credits", "rpm", "running", "expires", "state"
    )
    now = utcnow()
    for key in run_with_stores(action):
        state = "revoked" if key.revoked_at else ("active" if key.usable(now) else "expired")
        table.add_row(
            key.id,
            key.name,
            key.prefix + "…",
            ",".join(key.channels),
            "unlimited" if key.credits is None else str(key.credits),
            "-" if key.rpm is None else str(key.rpm),
            "-" if key.max_running is None else str(key.max_running),
            "never" if key.expires_at is None else key.expires_at.strftime("%Y-%m-%d %H:%M"),
            state,
        )
    Console().print(table)  # the listing is the output: stdout, so it can be piped


@app.command("revoke")
def revoke(key: Annotated[str, typer.Argument(help="Key id, name or prefix.")]) -> None:
    """Revoke a key: it stops working at once; its tasks and records are kept."""
    from lumagate.wiring.operator import key_admin

    async def action(stores: Stores) -> bool:
        try:
            await key_admin(stores).revoke(key)
        except KeyNotFound:
            return False
        return True

    if not run_with_stores(action):
        console.print(f"[red]No active key matches {key!r}[/]")
        raise typer.Exit(1)
    console.print(f"Revoked {key}")


@app.command("top-up")
def top_up(
    key: Annotated[str, typer.Argument(help="Key id, name or prefix.")],
    amount: Annotated[
        int, typer.Argument(help="Credits to add; to take some away: top-up KEY -- -100.")
    ],
    note: Annotated[str | None, typer.Option(help="A note for the ledger.")] = None,
) -> None:
    """Add credits to a key; the change is an entry in the ledger. Prints the new balance."""
    from lumagate.wiring.operator import key_admin

    async def action(stores: Stores) -> tuple[ApiKey, int]:
        return await key_admin(stores).top_up(key, amount, note)

    try:
        record, balance = run_with_stores(action)
    except KeyNotFound:
        console.print(f"[red]No key matches {key!r}[/]")
        raise typer.Exit(1) from None
    except InvalidRequest as exc:
        console.print(f"[red]{exc.message}[/]")
        raise typer.Exit(1) from None
    console.print(f"{record.name}: balance {balance}")
    typer.echo(str(balance))
