"""ReadinessCheck over a fake revision reader: current, behind, never migrated, failing (its
reason names the error's type, never its text) and hanging (bounded by the timeout). The same
on real databases: tests/integration/service/test_readiness.py."""

from __future__ import annotations

import asyncio

from lumagate.service.readiness import ReadinessCheck
from lumagate.store import migrate


def _answers(revision: str | None) -> ReadinessCheck:
    async def read() -> str | None:
        return revision

    return ReadinessCheck(read, expected_revision="0042")


async def test_the_current_revision_is_ready() -> None:
    result = await _answers("0042").check()
    assert (result.ready, result.revision, result.expected, result.reason) == (
        True,
        "0042",
        "0042",
        None,
    )


async def test_a_schema_behind_the_code_is_not_ready_and_says_both_revisions() -> None:
    result = await _answers("0041").check()
    assert not result.ready and result.revision == "0041"
    assert result.reason == "migrations not current: at 0041, code needs 0042"


async def test_a_database_never_migrated_is_not_ready() -> None:
    result = await _answers(None).check()
    assert not result.ready and result.revision is None
    assert result.reason == "migrations not current: at None, code needs 0042"


async def test_a_failing_database_is_not_ready_without_its_error_text() -> None:
    async def read() -> str | None:
        raise ConnectionRefusedError("postgresql://admin:hunter2@db.internal:5432 refused")

    result = await ReadinessCheck(read, expected_revision="0042").check()
    assert not result.ready and result.revision is None
    assert result.reason == "database does not answer (ConnectionRefusedError)"


async def test_a_hanging_database_is_not_ready_after_the_timeout() -> None:
    never = asyncio.Event()

    async def read() -> str | None:
        await never.wait()
        return "0042"

    check = ReadinessCheck(read, expected_revision="0042", timeout=0.01)
    result = await asyncio.wait_for(check.check(), 10)  # a check that hangs fails, not hangs
    assert not result.ready and result.reason == "database did not answer within 0.01 s"


async def test_without_an_expected_revision_the_codes_head_is_expected() -> None:
    head = migrate.head_revision()

    async def read() -> str | None:
        return head

    check = ReadinessCheck(read)
    assert check.expected == head and (await check.check()).ready
