"""Key administration shared by the CLI and the /admin API: create, reveal, top up, revoke.

Each key gets a webhook secret at creation (callbacks of its tasks are signed with it). The
secret is stored sealed by :class:`SecretBox`, shown once by ``keys create`` and readable again
through the admin API; keys made before secrets existed get one the first time it is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from lumagate.domain import messages as msg
from lumagate.domain.channels import ALL_CHANNELS, Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.errors import InvalidRequest, KeyNotFound
from lumagate.domain.limits import (
    MAX_COUNT,
    MAX_CREDITS,
    MAX_DEADLINE_MINUTES,
    MAX_EXPIRES_DAYS,
    MAX_NAME,
    MAX_NOTE,
    MAX_PLAN,
    check_int,
    check_number,
    check_text,
)
from lumagate.domain.tenant import ApiKey
from lumagate.security.crypto import SecretBox
from lumagate.security.signing import generate_webhook_secret
from lumagate.store.errors import InsufficientCredits, UnlimitedKey
from lumagate.store.keys import KeyStore
from lumagate.store.ledger import LedgerStore


@dataclass(frozen=True)
class CreatedKey:
    """A new key as shown once to whoever made it."""

    record: ApiKey
    plaintext: str  # shown once, never stored
    webhook_secret: str


def _check_new_key(
    name: str,
    credits: int | None,
    rpm: int | None,
    max_running: int | None,
    expires_days: float | None,
    plan: str,
) -> None:
    """The documented bounds of a new key (domain/limits.py), the same on every database."""
    check_text(name, "name", MAX_NAME)
    if not name.strip():
        raise InvalidRequest(msg.FIELD_REQUIRED(field="name"), field="name")
    check_text(plan, "plan", MAX_PLAN)
    if not plan.strip():
        raise InvalidRequest(msg.NOT_EMPTY(field="plan"), field="plan")
    check_int(credits, "credits", 0, MAX_CREDITS)
    check_int(rpm, "rpm", 1, MAX_COUNT)
    check_int(max_running, "max_running", 1, MAX_COUNT)
    check_number(expires_days, "expires_days", 0, MAX_EXPIRES_DAYS)
    if expires_days is not None and expires_days <= 0:
        raise InvalidRequest(msg.MUST_BE_POSITIVE(field="expires_days"), field="expires_days")


class KeyAdmin:
    """Key administration for the CLI and /admin: validation, secrets, top-ups, revocation."""

    def __init__(self, keys: KeyStore, ledger: LedgerStore, box: SecretBox) -> None:
        self.keys = keys
        self.ledger = ledger
        self.box = box

    async def create(
        self,
        name: str,
        *,
        credits: int | None = None,
        channels: tuple[Channel, ...] = ALL_CHANNELS,
        rpm: int | None = None,
        max_running: int | None = None,
        expires_days: float | None = None,
        plan: str = "standard",
        deadline_minutes: int | None = None,
    ) -> CreatedKey:
        _check_new_key(name, credits, rpm, max_running, expires_days, plan)
        check_int(deadline_minutes, "deadline_minutes", 0, MAX_DEADLINE_MINUTES)
        now = utcnow()
        secret = generate_webhook_secret()
        record, plaintext = await self.keys.create(
            name.strip(),
            now,
            credits=credits,
            channels=channels,
            rpm=rpm,
            max_running=max_running,
            deadline_minutes=deadline_minutes,
            plan=plan,
            expires_at=None if expires_days is None else now + timedelta(days=expires_days),
            webhook_secret=self.box.encrypt(secret),
        )
        return CreatedKey(record, plaintext, secret)

    async def all(self) -> list[ApiKey]:
        return await self.keys.all()

    async def find(self, ref: str) -> ApiKey:
        """A key by id, name or display prefix."""
        record = await self.keys.find(ref)
        if record is None:
            raise KeyNotFound(msg.NO_KEY_MATCHES(ref=repr(ref)))
        return record

    async def webhook_secret(self, key_id: str) -> str:
        sealed = await self.keys.sealed_webhook_secret(key_id)
        if sealed is None:
            await self.keys.set_webhook_secret_if_missing(
                key_id, self.box.encrypt(generate_webhook_secret())
            )
            sealed = await self.keys.sealed_webhook_secret(key_id)
            if sealed is None:
                raise KeyNotFound(msg.NO_KEY_MATCHES(ref=repr(key_id)))
        return self.box.decrypt(sealed)

    async def top_up(self, ref: str, amount: int, note: str | None = None) -> tuple[ApiKey, int]:
        if amount == 0:
            raise InvalidRequest(msg.NOT_ZERO(field="amount"), field="amount")
        check_int(amount, "amount", -MAX_CREDITS, MAX_CREDITS)
        check_text(note, "note", MAX_NOTE)
        record = await self.find(ref)
        try:
            balance = await self.ledger.top_up(record.id, amount, utcnow(), note)
        except InsufficientCredits as exc:
            raise InvalidRequest(msg.TOP_UP_BALANCE(balance=exc.balance), field="amount") from None
        except UnlimitedKey:
            raise InvalidRequest(msg.TOP_UP_UNLIMITED(), field="amount") from None
        return record, balance

    async def change_limits(
        self,
        ref: str,
        *,
        channels: tuple[Channel, ...],
        rpm: int | None,
        max_running: int | None,
    ) -> ApiKey:
        """New channels, requests per minute and running limit (None: unlimited)."""
        check_int(rpm, "rpm", 1, MAX_COUNT)
        check_int(max_running, "max_running", 1, MAX_COUNT)
        record = await self.find(ref)
        await self.keys.update_limits(
            record.id, channels=channels, rpm=rpm, max_running=max_running
        )
        return await self.find(record.id)

    async def revoke(self, ref: str) -> ApiKey:
        record = await self.find(ref)
        if not await self.keys.revoke(record.id, utcnow()):
            raise KeyNotFound(msg.NO_KEY_MATCHES(ref=repr(ref)))
        return record
