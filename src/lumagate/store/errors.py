"""The errors the store raises, so no database driver's type crosses the store boundary.

Services and the CLI catch these, never SQLAlchemy's or a driver's exceptions: the store turns
the driver's error into one of its own where it knows what the error means, and keeps the
driver's error as ``__cause__`` for the log. An error the store cannot name (the database is
down, a bug) is not wrapped: it is a failure, not an answer.

::

    StoreError                   base of everything below
    ├── Conflict                 a unique rule refused the write: what it adds exists already
    │   ├── NameTaken            an account with that name exists
    │   └── IdempotencyKeyTaken  the tenant's idempotency key already names a task
    └── BalanceRefused           a credit change the key's balance does not allow
        ├── UnlimitedKey         a top-up of a key without a credit limit
        └── InsufficientCredits  a negative top-up larger than the balance

A missing key is :class:`lumagate.domain.errors.KeyNotFound`, the one not-found error for keys
that the store, the services, the admin API and the CLI all share.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError

UNIQUE_SQLSTATE = "23505"  # PostgreSQL unique_violation


class StoreError(Exception):
    """Something the store could not do, in the store's own words."""


class Conflict(StoreError):
    """A unique rule refused the write: the row it would add (or its twin) exists already."""


class NameTaken(Conflict):
    """An account with that name exists."""


class IdempotencyKeyTaken(Conflict):
    """The tenant's idempotency key already names a task (a concurrent twin committed first)."""


class BalanceRefused(StoreError):
    """A credit change the key's balance does not allow; nothing was changed."""


class UnlimitedKey(BalanceRefused):
    """A top-up of a key without a credit limit."""


class InsufficientCredits(BalanceRefused):
    """A negative top-up larger than the balance."""

    def __init__(self, key_id: str, balance: int) -> None:
        super().__init__(key_id, balance)
        self.balance = balance


def is_unique_violation(error: IntegrityError) -> bool:
    """True when the driver says a unique index or constraint refused the write."""
    for cause in (error.orig, getattr(error.orig, "__cause__", None)):
        if getattr(cause, "sqlstate", None) == UNIQUE_SQLSTATE:  # asyncpg
            return True
        if getattr(cause, "sqlite_errorname", None) in (
            "SQLITE_CONSTRAINT_UNIQUE",
            "SQLITE_CONSTRAINT_PRIMARYKEY",
        ):
            return True
    return False


@contextmanager
def unique_violation_as(conflict: type[Conflict], message: str) -> Iterator[None]:
    """Raise ``conflict(message)`` (from the driver's error) when a unique rule refuses a write."""
    try:
        yield
    except IntegrityError as exc:
        if not is_unique_violation(exc):
            raise
        raise conflict(message) from exc
