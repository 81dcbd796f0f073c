"""A credit-ledger entry as every layer sees it (the admin API shows them; the store keeps them).

In the domain so that the admin API can render entries without importing the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class LedgerKind(StrEnum):
    """Why a key's balance changed."""

    OPENING = "opening"
    CHARGE = "charge"
    REFUND = "refund"
    TOP_UP = "top_up"


@dataclass(frozen=True)
class LedgerEntry:
    """One change of a key's balance; ``balance_after`` is None for an unlimited key."""

    id: int
    key_id: str
    task_id: str | None
    kind: LedgerKind
    delta: int
    balance_after: int | None
    note: str | None
    created_at: datetime
