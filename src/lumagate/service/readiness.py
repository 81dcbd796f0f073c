"""Readiness: may this replica take traffic? The database answers and its schema is current.

``/healthz`` stays a cheap liveness check (the process is up); ``/readyz`` runs this, so a
load balancer stops sending requests to a replica that cannot reach its database or whose
schema is behind the code (a rolling upgrade before ``lumagate db upgrade``). The check is
bounded by a timeout, so a database that hangs makes the replica "not ready", never a hung
probe. Reasons name what is wrong without the database URL (it may hold a password).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from lumagate.store import migrate
from lumagate.store.database import Database

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class Readiness:
    """The outcome of one check: ``ready``, and why not when it is not."""

    ready: bool
    revision: str | None
    expected: str
    reason: str | None = None


RevisionReader = Callable[[], Awaitable[str | None]]
"""Reads the schema's revision (None: never migrated); raises when the database does not answer."""


def database_revision(database: Database) -> RevisionReader:
    """The reader of ``database``'s revision (its ``alembic_version``)."""
    return partial(migrate.current_revision, database)


class ReadinessCheck:
    """Asks the database for its schema revision and compares it with the code's head."""

    def __init__(
        self,
        revision: RevisionReader,
        *,
        expected_revision: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.revision = revision
        self.expected = expected_revision or migrate.head_revision()
        self.timeout = timeout

    async def check(self) -> Readiness:
        try:
            async with asyncio.timeout(self.timeout):
                revision = await self.revision()
        except TimeoutError:
            return self._not_ready(None, f"database did not answer within {self.timeout:g} s")
        except Exception as error:  # any failure to answer means: not ready
            log.warning("readiness: database check failed: %s", type(error).__name__)
            return self._not_ready(None, f"database does not answer ({type(error).__name__})")
        if revision != self.expected:
            return self._not_ready(
                revision, f"migrations not current: at {revision}, code needs {self.expected}"
            )
        return Readiness(True, revision, self.expected)

    def _not_ready(self, revision: str | None, reason: str) -> Readiness:
        return Readiness(False, revision, self.expected, reason)
