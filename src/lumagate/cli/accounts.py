"""``lumagate accounts``: the pool of upstream accounts the gateway relays to.

``add`` has one subcommand per upstream kind (its credentials differ); credentials are sealed
with the gateway's secret key before they reach the database and are never printed again.
``list`` shows what an operator needs to judge the pool's health; ``disable``/``enable``/
``renew``/``remove`` change it. A running server sees every change on its next dispatch pass.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from lumagate.cli.common import console, run_with_stores
from lumagate.domain.channels import Channel, parse_channels
from lumagate.domain.clock import iso_z, utcnow

if TYPE_CHECKING:  # these load inside the commands (quick --help; not for ``keys create``)
    from lumagate.domain.accounts import Account
    from lumagate.service.account_admin import AccountAdmin

T = TypeVar("T")

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


def _with_accounts(action: Callable[[AccountAdmin], Awaitable[T]]) -> T:
    """Run ``action`` with the account pool's service over this CLI's stores."""
    from lumagate.wiring.operator import account_admin

    return run_with_stores(lambda stores: action(account_admin(stores)))


def _add(
    kind: str,
    *,
    name: str | None,
    base_url: str | None,
    credential: tuple[str, str, str],
    max_concurrency: int,
    channels: str,
    settings: dict[str, object] | None = None,
) -> None:
    """Add one account from a subcommand's options; ``credential`` is (field, value, option)."""
    from lumagate.domain.accounts import NewAccount
    from lumagate.store.errors import NameTaken

    field, value, hint = credential
    new = NewAccount(
        kind=kind,
        name=name,
        base_url=base_url,
        credentials={field: _secret(value, hint)},
        max_concurrency=max_concurrency,
        channels=_channels(channels),
        settings=dict(settings or {}),
    )

    try:
        account = _with_accounts(lambda accounts: accounts.add(new))
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
    from lumagate.domain.accounts import CALLBACKS, HOOK_TOKEN

    _add(
        "luma-official",
        name=name,
        base_url=_base_url(base_url),
        credential=("api_key", api_key, "--api-key"),
        max_concurrency=max_concurrency,
        channels=channels,
        settings={HOOK_TOKEN: secrets.token_urlsafe(32), CALLBACKS: callbacks},
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
        "luma-web",
        name=name,
        base_url=_base_url(base_url),
        credential=("cookie", cookie, "--cookie"),
        max_concurrency=max_concurrency,
        channels=channels,
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
        "relay",
        name=name,
        base_url=_base_url(base_url, required=True),
        credential=("api_key", api_key, "--api-key"),
        max_concurrency=max_concurrency,
        channels=channels,
    )


def _state(account: Account) -> str:
    if not account.enabled:
        return f"disabled: {account.disabled_reason or 'by the operator'}"
    if account.cooldown_until is not None and account.cooldown_until > utcnow():
        return f"cooling down until {iso_z(account.cooldown_until)}"
    return "enabled"


def _quota(account: Account) -> str:
    from lumagate.domain.accounts import AVAILABLE, CREDIT_BALANCE

    if isinstance(account.settings.get(AVAILABLE), int):
        return f"{account.settings[AVAILABLE]} left"
    balance = account.settings.get(CREDIT_BALANCE)
    return "" if balance is None else f"{balance} credit"


@app.command("list")
def list_accounts() -> None:
    """Every account: state, running/limit, failures, last error (never the credentials)."""

    async def action(accounts: AccountAdmin) -> tuple[list[Account], dict[str, int]]:
        return await accounts.list(), await accounts.running()

    listed, running = _with_accounts(action)
    from rich.table import Table  # loaded by the listing only

    table = Table("name", "kind", "state", "running", "failures", "last error", "channels", "quota")
    for account in listed:
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


def _change(ref: str, change: Callable[[AccountAdmin], Awaitable[Account]], done: str) -> None:
    from lumagate.service.account_admin import AccountNotFound

    try:
        account = _with_accounts(change)
    except AccountNotFound:
        console.print(f"[red]No account matches {ref!r}[/]")
        raise typer.Exit(1) from None
    console.print(f"{done} {account.name}")


@app.command("disable")
def disable(
    ref: AccountRef,
    reason: Annotated[str, typer.Option(help="Shown in `accounts list`.")] = "disabled by operator",
) -> None:
    """Stop giving the account new tasks; tasks it runs are still followed to the end."""

    _change(ref, lambda accounts: accounts.disable(ref, reason), "Disabled")


@app.command("enable")
def enable(ref: AccountRef) -> None:
    """Give the account work again (clears cool-down, failures and a lost-session mark)."""
    _change(ref, lambda accounts: accounts.enable(ref), "Enabled")


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

    credentials = (
        {"cookie": _secret(cookie, "--cookie")}
        if cookie is not None
        else {"api_key": _secret(api_key or "", "--api-key")}
    )
    _change(ref, lambda accounts: accounts.renew(ref, credentials), "Renewed")


@app.command("remove")
def remove(
    ref: AccountRef,
    force: Annotated[
        bool, typer.Option(help="Remove even while it runs tasks (they will fail).")
    ] = False,
) -> None:
    """Delete an account and its credentials."""

    from lumagate.service.account_admin import AccountBusyError, AccountNotFound

    try:
        account = _with_accounts(lambda accounts: accounts.remove(ref, force=force))
    except AccountNotFound:
        console.print(f"[red]No account matches {ref!r}[/]")
        raise typer.Exit(1) from None
    except AccountBusyError as busy:
        console.print(
            f"[red]{busy.account.name} runs {busy.running} task(s); disable it and wait, "
            "or use --force[/]"
        )
        raise typer.Exit(1) from None
    console.print(f"Removed {account.name}")
