"""Refreshing many generations from newest-first lists, and finding a lost submission in them.

Both Luma surfaces list an account's generations newest first. Following many running tasks
then costs one list call instead of one GET each: page while some wanted ids are still missing
and the page is not yet older than the oldest wanted generation; the few ids still missing
(older than the pages looked at, or of unknown age after a restart) are fetched one by one.

Finding a submission after a crash walks the same lists: the generation must have been created
after the task (less a clock-skew margin), look like what we would have sent, and not already
belong to another task of this account (:data:`TakenLookup`, answered by the store).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from lumagate.domain.clock import ensure_utc

Raw = dict[str, Any]
FetchPage = Callable[[int, int], Awaitable[list[Raw]]]
FetchOne = Callable[[str], Awaitable[Raw | None]]
TakenLookup = Callable[[str, Sequence[str]], Awaitable[set[str]]]
"""(account id, upstream ids) → the ids that some task of that account already holds."""

CLOCK_SKEW = timedelta(minutes=2)
SINGLE_FETCH_CONCURRENCY = 4


def parse_time(value: Any) -> datetime | None:
    """An upstream ``created_at`` (ISO 8601, ``Z`` or offset) as an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return ensure_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


class CreatedIndex:
    """A bounded memory of when generations were created, so paging knows where to stop."""

    def __init__(self, capacity: int = 20_000) -> None:
        self._seen: OrderedDict[str, datetime] = OrderedDict()
        self._capacity = capacity

    def note(self, upstream_id: str, created: datetime | None) -> None:
        if created is None:
            return
        self._seen[upstream_id] = created
        self._seen.move_to_end(upstream_id)
        while len(self._seen) > self._capacity:
            self._seen.popitem(last=False)

    def oldest(self, upstream_ids: Iterable[str]) -> datetime | None:
        """The oldest creation time among ``upstream_ids``; None if any of them is unknown."""
        times: list[datetime] = []
        for upstream_id in upstream_ids:
            known = self._seen.get(upstream_id)
            if known is None:
                return None
            times.append(known)
        return min(times) if times else None


@dataclass(frozen=True)
class Lister:
    """How to read one account's newest-first list and single generations."""

    fetch_page: FetchPage
    fetch_one: FetchOne
    page_size: int
    max_pages: int
    index: CreatedIndex

    def _learn(self, items: Iterable[Raw]) -> None:
        for item in items:
            if isinstance(item.get("id"), str):
                self.index.note(item["id"], parse_time(item.get("created_at")))

    async def collect(self, upstream_ids: Sequence[str]) -> dict[str, Raw]:
        """The raw generations of ``upstream_ids``; ids the upstream does not know are left out."""
        wanted = set(upstream_ids)
        if not wanted:
            return {}
        oldest = self.index.oldest(wanted)
        found: dict[str, Raw] = {}
        offset = 0
        for _ in range(self.max_pages):
            page = await self.fetch_page(offset, self.page_size)
            self._learn(page)
            for item in page:
                if item.get("id") in wanted:
                    found[item["id"]] = item
            if len(found) == len(wanted) or len(page) < self.page_size:
                break
            page_oldest = min(
                (t for t in (parse_time(i.get("created_at")) for i in page) if t is not None),
                default=None,
            )
            if oldest is None or page_oldest is None or page_oldest < oldest - CLOCK_SKEW:
                break  # older pages cannot hold what is missing (or we cannot tell)
            offset += len(page)
        missing = [i for i in upstream_ids if i not in found]
        if missing:
            found.update(await self._fetch_each(missing))
        return found

    async def _fetch_each(self, upstream_ids: Sequence[str]) -> dict[str, Raw]:
        slots = asyncio.Semaphore(SINGLE_FETCH_CONCURRENCY)

        async def one(upstream_id: str) -> tuple[str, Raw | None]:
            async with slots:
                return upstream_id, await self.fetch_one(upstream_id)

        results = await asyncio.gather(*(one(i) for i in dict.fromkeys(upstream_ids)))
        fetched = {i: raw for i, raw in results if raw is not None}
        self._learn(fetched.values())
        return fetched

    async def recent_since(self, not_before: datetime | None) -> list[Raw]:
        """Generations created after ``not_before`` (less the skew margin), newest first."""
        floor = None if not_before is None else not_before - CLOCK_SKEW
        recent: list[Raw] = []
        offset = 0
        for _ in range(self.max_pages):
            page = await self.fetch_page(offset, self.page_size)
            self._learn(page)
            reached_floor = False
            for item in page:
                created = parse_time(item.get("created_at"))
                if floor is not None and created is not None and created < floor:
                    reached_floor = True
                    continue
                recent.append(item)
            if reached_floor or len(page) < self.page_size or floor is None:
                break
            offset += len(page)
        return recent


async def pick_unclaimed(
    candidates: Sequence[Raw],
    matches: Callable[[Raw], bool],
    account_id: str,
    taken: TakenLookup,
) -> Raw | None:
    """The oldest candidate that ``matches`` and no other task of the account holds."""
    fitting = [c for c in candidates if isinstance(c.get("id"), str) and matches(c)]
    if not fitting:
        return None
    held = await taken(account_id, [c["id"] for c in fitting])
    free = [c for c in fitting if c["id"] not in held]
    if not free:
        return None

    def order(item: Raw) -> tuple[bool, str]:
        created = parse_time(item.get("created_at"))
        return created is None, "" if created is None else created.isoformat()

    return min(free, key=order)
