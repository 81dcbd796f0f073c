"""Idempotency fingerprints: equal for a replay, different (and named) for another request."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from lumagate.domain.channels import Channel
from lumagate.domain.request import GenerationRequest
from lumagate.domain.states import TaskState
from lumagate.domain.task import Task
from lumagate.service.idempotency import IdempotencyConflict, check_replay, fingerprint

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _task(dialect: str = "reseller", channel: Channel = Channel.DEFAULT) -> Task:
    return Task(
        id="t-1",
        tenant_id="k-1",
        channel=channel,
        dialect=dialect,
        request=GenerationRequest(prompt="a fox"),
        state=TaskState.QUEUED,
        created_at=NOW,
        updated_at=NOW,
    )


def _print(request: GenerationRequest, **changes: object) -> str:
    args: dict[str, object] = {
        "channel": Channel.DEFAULT,
        "dialect": "reseller",
        "notify_url": None,
    } | changes
    return fingerprint(request, **args)  # type: ignore[arg-type]


def test_the_fingerprint_is_stable_and_covers_every_part() -> None:
    base = GenerationRequest(prompt="a fox")
    assert _print(base) == _print(GenerationRequest(prompt="a fox"))
    assert len(_print(base)) == 64
    others = {
        _print(GenerationRequest(prompt="a cat")),
        _print(GenerationRequest(prompt="a fox", loop=True)),
        _print(base, channel=Channel.VIP),
        _print(base, dialect="official"),
        _print(base, notify_url="https://example.test/hook"),
    }
    assert _print(base) not in others and len(others) == 5


def test_a_replay_passes_and_a_legacy_task_without_fingerprint_accepts_any() -> None:
    stored = _print(GenerationRequest(prompt="a fox"))
    check_replay(
        _task(), stored, channel=Channel.DEFAULT, dialect="reseller", new_fingerprint=stored
    )
    check_replay(_task(), None, channel=Channel.VIP, dialect="official", new_fingerprint="x")


@pytest.mark.parametrize(
    ("channel", "dialect", "words"),
    [
        (Channel.DEFAULT, "official", "another dialect (reseller, this request is official)"),
        (Channel.VIP, "reseller", "another channel (default, this request is vip)"),
        (Channel.DEFAULT, "reseller", "a different request body"),
    ],
)
def test_a_different_request_is_a_conflict_naming_what_differs(
    channel: Channel, dialect: str, words: str
) -> None:
    with pytest.raises(IdempotencyConflict, match=re.escape(words)) as info:
        check_replay(_task(), "stored", channel=channel, dialect=dialect, new_fingerprint="new")
    assert info.value.status == 409 and "t-1" in info.value.message


def test_fingerprints_stored_before_degrading_existed_still_match() -> None:
    # The value main computed before GenerationRequest gained ``requested``: stored keys keep
    # matching their replays across the upgrade.
    request = GenerationRequest(prompt="a fox", resolution="1080p")
    stored = "7d52e132f856cefc6667839cdc67e65b61cf74e49e0ac53246ea45427b0c30d7"
    assert fingerprint(request, channel=Channel.VIP, dialect="reseller", notify_url=None) == stored
    degraded = request.model_copy(update={"requested": {"resolution": "1080p"}})
    assert fingerprint(degraded, channel=Channel.VIP, dialect="reseller", notify_url=None) != stored
