"""One round of a mirror attempt: the files still to copy, the first alone, then the rest beside it.

The first file of the plan (the video, unless it is kept already) is opened alone; as soon as
its upstream answered with a body of an acceptable size, the other files (thumbnail, last
frame, raw video) are copied concurrently with it. Why not all at once: a video that is refused,
expired, missing or declared too large changes or ends the attempt before any other file is
fetched, exactly as when the files were copied one after the other, so a failing video costs no
extra download and leaves nothing to remove. Why not one after the other: the thumbnail's copy
(~6 ms: its own connection, request and write into the media store) waited for the whole video.

Each file is recorded as kept as soon as it is in the store — writes one at a time, each with
every file kept so far — so a crash never makes a kept file be copied again, and a file whose
copy failed is never recorded. What the failures mean is the copier's decision
(``engine/mirror_copy.py``); a failure that is none of the copy's own (a bug) cancels the other
copies and is raised as itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from lumagate.domain.fetching import FetchFailed, UrlRefused
from lumagate.domain.mirroring import Asset, AssetCopy
from lumagate.media.keys import MediaError

Opened = Callable[[], None]
"""Called once the file's upstream answered with an acceptable body (the others may start)."""
CopyOne = Callable[[AssetCopy, Opened | None], Awaitable[None]]
Record = Callable[[Mapping[str, str]], Awaitable[None]]

COPY_ERRORS: tuple[type[Exception], ...] = (UrlRefused, FetchFailed, MediaError, OSError)
"""How one copy fails: upstream (refused, failed, too large) or this side (the media store)."""


@dataclass(frozen=True)
class Failure:
    """A copy that failed, and how."""

    copy: AssetCopy
    error: Exception


async def copy_round(
    plan: Sequence[AssetCopy], copied: Mapping[str, str], copy_one: CopyOne, record: Record
) -> tuple[dict[str, str], list[Failure]]:
    """Copy ``plan`` (see the module docstring): what is kept now, and the failures in plan
    order. ``copied`` is what the job kept before; ``record`` durably stores a new state of it."""
    kept = dict(copied)
    writing = asyncio.Lock()
    failed: dict[Asset, Exception] = {}

    unfinished = len(plan)

    async def one(copy: AssetCopy, opened: Opened | None) -> None:
        nonlocal unfinished
        try:
            await copy_one(copy, opened)
        except COPY_ERRORS as exc:
            failed[copy.asset] = exc
            return
        finally:
            unfinished -= 1
        async with writing:
            kept[copy.asset.value] = copy.key
            if unfinished or failed:
                await record(dict(kept))
            # else the last file of a round with no failure: the completion records it

    lead, rest = plan[0], plan[1:]
    try:
        async with asyncio.TaskGroup() as group:

            def beside() -> None:
                for copy in rest:
                    group.create_task(one(copy, None))

            group.create_task(one(lead, beside if rest else None))
    except ExceptionGroup as broken:
        raise broken.exceptions[0] from None
    return kept, [Failure(copy, failed[copy.asset]) for copy in plan if copy.asset in failed]
