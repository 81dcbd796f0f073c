"""The operator's view of the upstream account pool: list, add, disable, enable, renew, remove.

One implementation behind ``lumagate accounts`` and the ``/admin`` API (and the future web
console), so the CLI and the API cannot drift: enabling an account from either also clears a
lost-session mark and makes the tasks it kept through a dead session due at once.

``on_pool_changed`` wakes a running dispatcher (in the server, the engine's dispatch signal); a
CLI process has none and the server sees the change on its next pass.
"""

from __future__ import annotations

from collections.abc import Callable

from lumagate.domain.accounts import SESSION_LOST_AT, Account, NewAccount
from lumagate.domain.clock import utcnow
from lumagate.domain.limits import MAX_NAME, MAX_NOTE, MAX_URL, check_text
from lumagate.store.accounts import AccountStore
from lumagate.store.pool import PoolStore


class AccountNotFound(LookupError):
    """No account has that id or name."""


class AccountBusyError(RuntimeError):
    """The account still runs tasks; ``running`` says how many."""

    def __init__(self, account: Account, running: int) -> None:
        super().__init__(f"{account.name} runs {running} task(s)")
        self.account = account
        self.running = running


class AccountAdmin:
    """Changes to the account pool, each one step an operator asks for."""

    def __init__(
        self,
        accounts: AccountStore,
        pool: PoolStore,
        on_pool_changed: Callable[[], None] | None = None,
    ) -> None:
        self._accounts = accounts
        self._pool = pool
        self._on_pool_changed = on_pool_changed

    def _changed(self) -> None:
        if self._on_pool_changed is not None:
            self._on_pool_changed()

    async def list(self) -> list[Account]:
        return await self._accounts.all()

    async def running(self) -> dict[str, int]:
        """Tasks each account runs now, by account id (accounts running none are absent)."""
        return await self._pool.running_by_account()

    async def get(self, ref: str) -> Account:
        """An account by id or name."""
        account = await self._accounts.find(ref)
        if account is None:
            raise AccountNotFound(ref)
        return account

    async def add(self, new: NewAccount) -> Account:
        """Add an account; without a name it is ``<kind>-<n>``."""
        check_text(new.name, "name", MAX_NAME)
        check_text(new.base_url, "base_url", MAX_URL)
        existing = [a for a in await self._accounts.all() if a.kind == new.kind]
        account = await self._accounts.create(
            name=new.name or f"{new.kind}-{len(existing) + 1}",
            kind=new.kind,
            now=utcnow(),
            base_url=new.base_url,
            credentials=new.credentials,
            max_concurrency=new.max_concurrency,
            channels=new.channels,
            settings=new.settings,
        )
        self._changed()
        return account

    async def disable(self, ref: str, reason: str) -> Account:
        """No new tasks for the account; the tasks it runs are still followed to the end."""
        check_text(reason, "reason", MAX_NOTE)
        account = await self.get(ref)
        await self._accounts.disable(account.id, reason, utcnow())
        return await self.get(account.id)

    async def enable(self, ref: str) -> Account:
        """Work again: clears cool-down, failures and a lost-session mark; kept tasks resume."""
        account = await self.get(ref)
        now = utcnow()
        await self._accounts.enable(account.id, now)
        await self._pool.update_settings(account.id, {SESSION_LOST_AT: None}, now)
        await self._pool.poll_account_now(account.id, now)
        self._changed()
        return await self.get(account.id)

    async def renew(self, ref: str, credentials: dict[str, str]) -> Account:
        """New credentials (e.g. a web session that expired), then enable the account."""
        account = await self.get(ref)
        await self._accounts.update_credentials(account.id, credentials, utcnow())
        return await self.enable(account.id)

    async def remove(self, ref: str, *, force: bool = False) -> Account:
        """Delete the account and its credentials; refused while it runs tasks unless forced."""
        account = await self.get(ref)
        running = (await self.running()).get(account.id, 0)
        if running and not force:
            raise AccountBusyError(account, running)
        await self._accounts.remove(account.id)
        return account
