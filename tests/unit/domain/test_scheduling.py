"""Which account serves a task: channel eligibility, pinning, sandbox, cooldown, load."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from lumagate.domain.channels import ALL_CHANNELS, Channel
from lumagate.domain.scheduling import (
    SANDBOX_KIND,
    AccountSlot,
    Choice,
    choose_account,
    eligible_accounts,
    no_account_reason,
)

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
PAID = (Channel.VIP, Channel.PRO)


def slot(
    id: str,
    *,
    kind: str = "luma-web",
    channels: tuple[Channel, ...] = ALL_CHANNELS,
    enabled: bool = True,
    max_concurrency: int = 2,
    running: int = 0,
    cooldown_until: datetime | None = None,
) -> AccountSlot:
    return AccountSlot(
        id=id,
        kind=kind,
        channels=channels,
        enabled=enabled,
        max_concurrency=max_concurrency,
        running=running,
        cooldown_until=cooldown_until,
    )


def sandbox(**kw: object) -> AccountSlot:
    return slot("sandbox", kind=SANDBOX_KIND, **kw)  # type: ignore[arg-type]


def test_only_accounts_serving_the_channel_are_eligible() -> None:
    free = slot("free", channels=(Channel.DEFAULT,))
    paid = slot("paid", channels=PAID)
    pool = [free, paid]
    assert [a.id for a in eligible_accounts(Channel.DEFAULT, pool)] == ["free"]
    assert [a.id for a in eligible_accounts(Channel.PRO, pool)] == ["paid"]
    assert choose_account(Channel.VIP, pool, NOW) == Choice("paid")
    assert choose_account(Channel.DEFAULT, pool, NOW) == Choice("free")


def test_disabled_accounts_are_not_eligible() -> None:
    pool = [slot("off", enabled=False), slot("on", running=1)]
    assert [a.id for a in eligible_accounts(Channel.DEFAULT, pool)] == ["on"]
    assert choose_account(Channel.DEFAULT, pool, NOW) == Choice("on")


def test_pinned_task_goes_only_to_its_account() -> None:
    pool = [slot("a", running=1), slot("b", running=0)]
    assert choose_account(Channel.DEFAULT, pool, NOW) == Choice("b")
    assert choose_account(Channel.DEFAULT, pool, NOW, pinned_account_id="a") == Choice("a")


def test_pinned_account_busy_means_wait_not_hopeless() -> None:
    pool = [slot("a", max_concurrency=1, running=1), slot("b")]
    assert choose_account(Channel.DEFAULT, pool, NOW, pinned_account_id="a") == Choice(None)


def test_pinned_account_cooling_means_wait() -> None:
    pool = [slot("a", cooldown_until=NOW + timedelta(seconds=30)), slot("b")]
    choice = choose_account(Channel.DEFAULT, pool, NOW, pinned_account_id="a")
    assert choice == Choice(None, hopeless=False)


@pytest.mark.parametrize(
    "pinned_slot",
    [
        slot("a", enabled=False),
        slot("a", channels=(Channel.PRO,)),
    ],
    ids=["disabled", "wrong-channel"],
)
def test_pinned_account_that_can_never_serve_is_hopeless(pinned_slot: AccountSlot) -> None:
    pool = [pinned_slot, slot("b")]
    choice = choose_account(Channel.DEFAULT, pool, NOW, pinned_account_id="a")
    assert choice == Choice(None, hopeless=True)


def test_pinned_to_an_account_that_is_gone_is_hopeless() -> None:
    choice = choose_account(Channel.DEFAULT, [slot("b")], NOW, pinned_account_id="gone")
    assert choice.hopeless


def test_real_accounts_are_preferred_over_sandbox() -> None:
    pool = [sandbox(), slot("real", running=1)]
    assert [a.id for a in eligible_accounts(Channel.DEFAULT, pool)] == ["real"]
    assert choose_account(Channel.DEFAULT, pool, NOW) == Choice("real")


def test_sandbox_waits_while_an_eligible_real_account_is_full() -> None:
    pool = [sandbox(), slot("real", max_concurrency=1, running=1)]
    assert choose_account(Channel.DEFAULT, pool, NOW) == Choice(None, hopeless=False)


def test_sandbox_serves_when_no_real_account_serves_the_channel() -> None:
    pool = [sandbox(), slot("paid", channels=PAID)]
    assert choose_account(Channel.DEFAULT, pool, NOW) == Choice("sandbox")
    assert choose_account(Channel.PRO, pool, NOW) == Choice("paid")


def test_sandbox_serves_when_real_accounts_are_disabled() -> None:
    pool = [sandbox(), slot("real", enabled=False)]
    assert choose_account(Channel.DEFAULT, pool, NOW) == Choice("sandbox")


def test_sandbox_always_puts_sandbox_in_the_pool() -> None:
    pool = [sandbox(running=0), slot("real", max_concurrency=1, running=1)]
    assert {a.id for a in eligible_accounts(Channel.DEFAULT, pool, sandbox_always=True)} == {
        "sandbox",
        "real",
    }
    assert choose_account(Channel.DEFAULT, pool, NOW, sandbox_always=True) == Choice("sandbox")


def test_cooling_accounts_are_skipped() -> None:
    pool = [
        slot("cool", cooldown_until=NOW + timedelta(seconds=1)),
        slot("warm", running=1),
    ]
    assert choose_account(Channel.DEFAULT, pool, NOW) == Choice("warm")


def test_cooldown_in_the_past_is_over() -> None:
    ended = slot("a", cooldown_until=NOW - timedelta(seconds=1))
    assert not ended.cooling(NOW)
    assert slot("a", cooldown_until=NOW).cooling(NOW) is False  # ends exactly now
    assert choose_account(Channel.DEFAULT, [ended], NOW) == Choice("a")


def test_all_cooling_means_wait_not_hopeless() -> None:
    pool = [slot("a", cooldown_until=NOW + timedelta(minutes=1))]
    assert choose_account(Channel.DEFAULT, pool, NOW) == Choice(None, hopeless=False)


def test_full_accounts_are_skipped() -> None:
    pool = [slot("full", max_concurrency=3, running=3), slot("other", max_concurrency=1)]
    assert choose_account(Channel.DEFAULT, pool, NOW) == Choice("other")


def test_all_full_means_wait() -> None:
    pool = [slot("a", max_concurrency=1, running=1), slot("b", max_concurrency=2, running=5)]
    assert pool[1].free == 0
    assert choose_account(Channel.DEFAULT, pool, NOW) == Choice(None)


def test_least_loaded_is_chosen_by_fraction_in_use() -> None:
    pool = [
        slot("big-busy", max_concurrency=10, running=4),  # 40 %
        slot("small-half", max_concurrency=2, running=1),  # 50 %
        slot("mid", max_concurrency=4, running=1),  # 25 %
    ]
    assert choose_account(Channel.DEFAULT, pool, NOW) == Choice("mid")


def test_least_loaded_ties_are_deterministic() -> None:
    pool = [slot("b"), slot("a"), slot("c")]
    assert choose_account(Channel.DEFAULT, pool, NOW) == Choice("a")
    assert choose_account(Channel.DEFAULT, list(reversed(pool)), NOW) == Choice("a")


def test_hopeless_when_nothing_could_ever_serve() -> None:
    assert choose_account(Channel.DEFAULT, [], NOW) == Choice(None, hopeless=True)
    pool = [slot("paid", channels=PAID), sandbox(enabled=False)]
    assert choose_account(Channel.DEFAULT, pool, NOW) == Choice(None, hopeless=True)


def test_no_account_reasons() -> None:
    assert no_account_reason(Channel.PRO, pinned=False) == (
        "No upstream account available for channel pro"
    )
    assert no_account_reason(Channel.DEFAULT, pinned=False).endswith("channel default")
    assert "source video" in no_account_reason(Channel.DEFAULT, pinned=True)


def test_slot_free_never_negative() -> None:
    assert slot("a", max_concurrency=2, running=5).free == 0
    assert slot("a", max_concurrency=3, running=1).free == 2


def _only_official(account: AccountSlot) -> bool:
    return account.kind == "luma-official"


def test_a_task_goes_only_to_an_account_that_can_deliver_it() -> None:
    web = slot("web", kind="luma-web", running=0)
    busy_official = slot("official", kind="luma-official", running=1)
    # The web session is idler, but cannot deliver: the official account is chosen.
    choice = choose_account(Channel.DEFAULT, [web, busy_official], NOW, can_serve=_only_official)
    assert choice == Choice("official")
    # The official account is full: the task waits rather than go to the web session.
    full = slot("official", kind="luma-official", running=2)
    assert choose_account(Channel.DEFAULT, [web, full], NOW, can_serve=_only_official) == Choice(
        None
    )


def test_no_able_account_is_hopeless_and_never_falls_back_to_the_sandbox() -> None:
    web = slot("web", kind="luma-web")
    sandbox = slot("sandbox", kind=SANDBOX_KIND)
    choice = choose_account(Channel.DEFAULT, [web, sandbox], NOW, can_serve=_only_official)
    assert choice == Choice(None, hopeless=True, unable=True)


def _here(known: str) -> Callable[[AccountSlot], bool]:
    """Which accounts this replica can call: those of kind ``known`` only."""
    return lambda a: a.kind == known


def test_an_account_not_callable_here_is_never_chosen_even_when_least_loaded() -> None:
    accounts = [slot("new", kind="future", max_concurrency=9), slot("web", running=1)]
    here = _here("luma-web")
    assert choose_account(Channel.DEFAULT, accounts, NOW, callable_here=here).account_id == "web"
    full = [slot("new", kind="future"), slot("web", running=2)]
    assert choose_account(Channel.DEFAULT, full, NOW, callable_here=here) == Choice(None)


def test_a_task_only_an_account_not_callable_here_serves_waits_and_is_never_hopeless() -> None:
    accounts = [slot("new", kind="future")]
    here = _here("luma-web")
    assert choose_account(Channel.DEFAULT, accounts, NOW, callable_here=here) == Choice(None)
    pinned = choose_account(
        Channel.DEFAULT, accounts, NOW, pinned_account_id="new", callable_here=here
    )
    assert pinned == Choice(None)
