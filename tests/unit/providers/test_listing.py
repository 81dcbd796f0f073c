"""Refreshing many generations from newest-first pages, and picking a lost submission."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from lumagate.providers.listing import CreatedIndex, Lister, Raw, parse_time, pick_unclaimed

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _world(count: int) -> list[Raw]:
    """Newest first, one per minute."""
    return [
        {
            "id": f"g{i}",
            "created_at": (T0 + timedelta(minutes=i)).isoformat().replace("+00:00", "Z"),
        }
        for i in reversed(range(count))
    ]


class Upstream:
    def __init__(self, items: list[Raw]) -> None:
        self.items = items
        self.pages: list[int] = []
        self.singles: list[str] = []

    async def page(self, offset: int, limit: int) -> list[Raw]:
        self.pages.append(offset)
        return self.items[offset : offset + limit]

    async def one(self, upstream_id: str) -> Raw | None:
        self.singles.append(upstream_id)
        return next((i for i in self.items if i["id"] == upstream_id), None)

    def lister(self, index: CreatedIndex, size: int = 10, pages: int = 5) -> Lister:
        return Lister(self.page, self.one, size, pages, index)


async def test_one_page_serves_every_recent_task() -> None:
    upstream = Upstream(_world(50))
    found = await upstream.lister(CreatedIndex()).collect(["g49", "g45", "g40"])
    assert set(found) == {"g49", "g45", "g40"} and upstream.pages == [0] and not upstream.singles


async def test_pages_while_the_oldest_wanted_is_older_then_singles() -> None:
    upstream, index = Upstream(_world(50)), CreatedIndex()
    await upstream.lister(index).collect(["g49"])  # learns creation times of g40..g49
    index.note("g25", T0 + timedelta(minutes=25))
    found = await upstream.lister(index).collect(["g49", "g25"])
    assert set(found) == {"g49", "g25"}
    assert upstream.pages == [0, 0, 10, 20] and not upstream.singles


async def test_unknown_ages_fall_back_to_single_gets_and_unknown_ids_are_left_out() -> None:
    upstream = Upstream(_world(50))
    found = await upstream.lister(CreatedIndex()).collect(["g49", "g3", "nope"])
    assert set(found) == {"g49", "g3"}
    assert upstream.pages == [0] and sorted(upstream.singles) == ["g3", "nope"]


async def test_recent_since_stops_at_the_floor() -> None:
    upstream = Upstream(_world(50))
    recent = await upstream.lister(CreatedIndex()).recent_since(T0 + timedelta(minutes=30))
    assert {r["id"] for r in recent} == {f"g{i}" for i in range(28, 50)}  # 2 min skew margin
    assert upstream.pages == [0, 10, 20]


async def test_pick_unclaimed_takes_the_oldest_free_match() -> None:
    items = _world(5)

    async def taken(account_id: str, ids: Sequence[str]) -> set[str]:
        return {"g1"}

    picked = await pick_unclaimed(items, lambda r: r["id"] != "g4", "a", taken)
    assert picked is not None and picked["id"] == "g0"
    assert await pick_unclaimed(items, lambda r: r["id"] == "g1", "a", taken) is None


def test_parse_time() -> None:
    assert parse_time("2024-12-22T13:38:40.139Z") == datetime(
        2024, 12, 22, 13, 38, 40, 139000, tzinfo=UTC
    )
    assert parse_time("garbage") is None and parse_time(None) is None
