"""``lumagate accounts``: the pool of upstream accounts the gateway relays to.

``add`` has one subcommand per upstream kind (its credentials differ); credentials are sealed
with the gateway's secret key before they reach the database and are never printed again.
``list`` shows what an operator needs to judge the pool's health; ``disable``/``enable``/
``renew``/``remove`` change it. A running server sees every change on its next dispatch pass.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.table import Table

from lumagate.cli.common import console, run_with_gateway
from lumagate.domain.accounts import AVAILABLE, CALLBACKS, CREDIT_BALANCE, HOOK_TOKEN, Account
from lumagate.domain.channels import Channel, parse_channels
from lumagate.domain.clock import iso_z, utcnow
from lumagate.engine.health import SESSION_LOST_AT
from lumagate.gateway import Gateway
from lumagate.store.errors import NameTaken
from lumagate.store.pool import PoolStore

app = typer.Typer(
    help="Manage the upstream accounts tasks are relayed to (credentials encrypted at rest).",
    no_args_is_help=True,
)
add_app = typer.Typer(
    help="Add an upstream account (one subcommand per kind).", no_args_is_help=True
)
app.add_typer(add_app, name="add")

Name = Annotated[str | None, typer.Option("--name", help="A unique label; default <kind>-<n>.")]
MaxConcurrency = Annotated[
    int, typer.Option("--max-concurrency", min=1, help="Tasks the account runs at once.")
]
Channels = Annotated[
    str, typer.Option("--channels", help="Channels it serves, e.g. default,vip,pro.")
]
AccountRef = Annotated[str, typer.Argument(help="Account name or id.")]


@dataclass(frozen=True)
class NewAccount:
    kind: str
    name: str | None
    base_url: str | None
    credentials: dict[str, str]
    max_concurrency: int
    channels: tuple[Channel, ...]
    settings: dict[str, Any]


def _channels(text: str) -> tuple[Channel, ...]:
    try:
        return parse_channels(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--channels") from None


def _base_url(value: str | None, required: bool = False) -> str | None:
    if value is None or not value.strip():
        if required:
            raise typer.BadParameter("a base URL is required", param_hint="--base-url")
        return None
    if not value.startswith(("http://", "https://")):
        raise typer.BadParameter("must start with http:// or https://", param_hint="--base-url")
    return value.rstrip("/")


def _secret(value: str, hint: str) -> str:
    if not value.strip():
        raise typer.BadParameter("must not be empty", param_hint=hint)
    return value.strip()


def _add(new: NewAccount) -> None:
    async def action(gateway: Gateway) -> Account:
        existing = [a for a in await gateway.accounts.all() if a.kind == new.kind]
        name = new.name or f"{new.kind}-{len(existing) + 1}"
        return await gateway.accounts.create(
            name=name,
            kind=new.kind,
            now=utcnow(),
            base_url=new.base_url,
            credentials=new.credentials,
            max_concurrency=new.max_concurrency,
            channels=new.channels,
            settings=new.settings,
        )

    try:
        account = run_with_gateway(action)
    except NameTaken:
        console.print(f"[red]An account named {new.name!r} already exists[/]")
        raise typer.Exit(1) from None
    console.print(
        f"Added {account.kind} account [bold]{account.name}[/] (id {account.id}), "
        f"{account.max_concurrency} at once, channels {','.join(account.channels)}"
    )
    typer.echo(account.id)


@add_app.command("luma-official")
def add_official(
    api_key: Annotated[str, typer.Option("--api-key", help="The luma-… API key.")],
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="Default: the official Luma API.")
    ] = None,
    name: Name = None,
    max_concurrency: MaxConcurrency = 10,
    channels: Channels = "default,vip,pro",
    callbacks: Annotated[
        bool,
        typer.Option(help="Let the upstream call back on state changes (needs a public URL)."),
    ] = True,
) -> None:
    """An official Luma API key (UPSTREAM §1)."""
    _add(
        NewAccount(
            kind="luma-official",
            name=name,
            base_url=_base_url(base_url),
            credentials={"api_key": _secret(api_key, "--api-key")},
            max_concurrency=max_concurrency,
            channels=_channels(channels),
            settings={HOOK_TOKEN: secrets.token_urlsafe(32), CALLBACKS: callbacks},
        )
    )


@add_app.command("luma-web")
def add_web(
    cookie: Annotated[
        str, typer.Option("--cookie", help="The browser's cookie string (access_token=…; …).")
    ],
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="Default: Luma's web-app API host.")
    ] = None,
    name: Name = None,
    max_concurrency: MaxConcurrency = 2,
    channels: Channels = "default,vip,pro",
) -> None:
    """A logged-in Luma web-app session (UPSTREAM §2); rotated cookies are saved."""
    _add(
        NewAccount(
            kind="luma-web",
            name=name,
            base_url=_base_url(base_url),
            credentials={"cookie": _secret(cookie, "--cookie")},
            max_concurrency=max_concurrency,
            channels=_channels(channels),
            settings={},
        )
    )


@add_app.command("relay")
def add_relay(
    base_url: Annotated[
        str, typer.Option("--base-url", help="The other gateway's root (may end in /vip, /pro).")
    ],
    api_key: Annotated[str, typer.Option("--api-key", help="Its Bearer key.")],
    name: Name = None,
    max_concurrency: MaxConcurrency = 5,
    channels: Channels = "default,vip,pro",
) -> None:
    """Another reseller gateway speaking the /luma dialect (UPSTREAM §3)."""
    _add(
        NewAccount(
            kind="relay",
            name=name,
            base_url=_base_url(base_url, required=True),
            credentials={"api_key": _secret(api_key, "--api-key")},
            max_concurrency=max_concurrency,
            channels=_channels(channels),
            settings={},
        )
    )


def _state(account: Account) -> str:
    if not account.enabled:
        return f"disabled: {account.disabled_reason or 'by the operator'}"
    if account.cooldown_until is not None and account.cooldown_until > utcnow():
        return f"cooling down until {iso_z(account.cooldown_until)}"
    return "enabled"


def _quota(account: Account) -> str:
    if isinstance(account.settings.get(AVAILABLE), int):
        return f"{account.settings[AVAILABLE]} left"
    balance = account.settings.get(CREDIT_BALANCE)
    return "" if balance is None else f"{balance} credit"


@app.command("list")
def list_accounts() -> None:
    """Every account: state, running/limit, failures, last error (never the credentials)."""

    async def action(gateway: Gateway) -> tuple[list[Account], dict[str, int]]:
        return await gateway.accounts.all(), await PoolStore(gateway.db).running_by_account()

    accounts, running = run_with_gateway(action)
    table = Table("name", "kind", "state", "running", "failures", "last error", "channels", "quota")
    for account in accounts:
        table.add_row(
            account.name,
            account.kind,
            _state(account),
            f"{running.get(account.id, 0)}/{account.effective_concurrency}",
            str(account.failures),
            (account.last_error or "")[:80],
            ",".join(account.channels),
            _quota(account),
        )
    console.print(table, width=max(console.width, 150))


def _change(ref: str, change: Any, done: str) -> None:
    async def action(gateway: Gateway) -> Account | None:
        account = await gateway.accounts.find(ref)
        if account is None:
            return None
        await change(gateway, account)
        return account

    account = run_with_gateway(action)
    if account is None:
        console.print(f"[red]No account matches {ref!r}[/]")
        raise typer.Exit(1)
    console.print(f"{done} {account.name}")


async def _revive(gateway: Gateway, account: Account) -> None:
    now = utcnow()
    await gateway.accounts.enable(account.id, now)
    pool = PoolStore(gateway.db)
    await pool.update_settings(account.id, {SESSION_LOST_AT: None}, now)
    await pool.poll_account_now(account.id, now)  # tasks kept through a dead session resume


@app.command("disable")
def disable(
    ref: AccountRef,
    reason: Annotated[str, typer.Option(help="Shown in `accounts list`.")] = "disabled by operator",
) -> None:
    """Stop giving the account new tasks; tasks it runs are still followed to the end."""

    async def change(gateway: Gateway, account: Account) -> None:
        await gateway.accounts.disable(account.id, reason, utcnow())

    _change(ref, change, "Disabled")


@app.command("enable")
def enable(ref: AccountRef) -> None:
    """Give the account work again (clears cool-down, failures and a lost-session mark)."""
    _change(ref, _revive, "Enabled")


@app.command("renew")
def renew(
    ref: AccountRef,
    cookie: Annotated[
        str | None, typer.Option("--cookie", help="A new web session cookie.")
    ] = None,
    api_key: Annotated[str | None, typer.Option("--api-key", help="A new API key.")] = None,
) -> None:
    """New credentials for an account (e.g. a web session that expired), and enable it."""
    if (cookie is None) == (api_key is None):
        raise typer.BadParameter("give exactly one of --cookie or --api-key")

    async def change(gateway: Gateway, account: Account) -> None:
        credentials = (
            {"cookie": _secret(cookie, "--cookie")}
            if cookie is not None
            else {"api_key": _secret(api_key or "", "--api-key")}
        )
        await gateway.accounts.update_credentials(account.id, credentials, utcnow())
        await _revive(gateway, account)

    _change(ref, change, "Renewed")


@app.command("remove")
def remove(
    ref: AccountRef,
    force: Annotated[
        bool, typer.Option(help="Remove even while it runs tasks (they will fail).")
    ] = False,
) -> None:
    """Delete an account and its credentials."""

    async def action(gateway: Gateway) -> tuple[Account | None, int]:
        account = await gateway.accounts.find(ref)
        if account is None:
            return None, 0
        running = (await PoolStore(gateway.db).running_by_account()).get(account.id, 0)
        if running and not force:
            return account, running
        await gateway.accounts.remove(account.id)
        return account, -1

    account, running = run_with_gateway(action)
    if account is None:
        console.print(f"[red]No account matches {ref!r}[/]")
        raise typer.Exit(1)
    if running > 0:
        console.print(
            f"[red]{account.name} runs {running} task(s); disable it and wait, or use --force[/]"
        )
        raise typer.Exit(1)
    console.print(f"Removed {account.name}")
