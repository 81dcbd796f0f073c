"""The storage part of the composition root: one database, the secret box and every store.

Built once per process; everything above receives the stores it needs from here, so no store
(``PoolStore`` included) is constructed ad hoc elsewhere. Each store is made, and its module
imported, when it is first asked for, and then kept: the server asks for all of them while it
wires itself, a CLI command only for the ones it uses (``lumagate keys create``: the keys and
the ledger, not the task store's dozen modules), which keeps those commands quick to start.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from lumagate.media.file_modes import secure_data_dir
from lumagate.security.crypto import SecretBox, load_secret_box
from lumagate.settings import Settings
from lumagate.store.database import Database

if TYPE_CHECKING:  # each is imported by its property, on first use
    from lumagate.store.accounts import AccountStore
    from lumagate.store.deliveries import DeliveryStore
    from lumagate.store.insights import InsightStore
    from lumagate.store.keys import KeyStore
    from lumagate.store.ledger import LedgerStore
    from lumagate.store.media_retention import MediaRetentionStore
    from lumagate.store.mirrors import MirrorStore
    from lumagate.store.pool import PoolStore
    from lumagate.store.render_jobs import RenderJobStore
    from lumagate.store.tasks import TaskStore
    from lumagate.store.unit_of_work import Transactions


@dataclass(frozen=True)
class Stores:
    """The database, the key that seals secrets at rest, and one instance of each store."""

    settings: Settings
    db: Database
    box: SecretBox

    @cached_property
    def tasks(self) -> TaskStore:
        from lumagate.store.tasks import TaskStore

        return TaskStore(self.db)

    @cached_property
    def keys(self) -> KeyStore:
        from lumagate.store.keys import KeyStore

        return KeyStore(self.db)

    @cached_property
    def accounts(self) -> AccountStore:
        from lumagate.store.accounts import AccountStore

        return AccountStore(self.db, self.box)

    @cached_property
    def ledger(self) -> LedgerStore:
        from lumagate.store.ledger import LedgerStore

        return LedgerStore(self.db)

    @cached_property
    def deliveries(self) -> DeliveryStore:
        from lumagate.store.deliveries import DeliveryStore

        return DeliveryStore(self.db)

    @cached_property
    def pool(self) -> PoolStore:
        from lumagate.store.pool import PoolStore

        return PoolStore(self.db)

    @cached_property
    def transactions(self) -> Transactions:
        from lumagate.store.unit_of_work import Transactions

        return Transactions(self.db)

    @cached_property
    def insights(self) -> InsightStore:
        from lumagate.store.insights import InsightStore

        return InsightStore(self.db)

    @cached_property
    def render_jobs(self) -> RenderJobStore:
        from lumagate.store.render_jobs import RenderJobStore

        return RenderJobStore(self.db)

    @cached_property
    def media_retention(self) -> MediaRetentionStore:
        from lumagate.store.media_retention import MediaRetentionStore

        return MediaRetentionStore(self.db)

    @cached_property
    def mirrors(self) -> MirrorStore:
        from lumagate.store.mirrors import MirrorStore

        return MirrorStore(self.db)

    async def prepare(self) -> None:
        """Apply migrations (Alembic is imported only when the schema is behind the code)."""
        from lumagate.store import migrate

        await migrate.upgrade(self.db)

    async def close(self) -> None:
        await self.db.dispose()


def open_stores(settings: Settings) -> Stores:
    """The stores of ``settings``' database (no connection is opened until first use)."""
    secure_data_dir(settings.data_dir)  # 0700 (media too) and secret files 0600, whatever the umask
    db = Database(settings.resolved_database_url)
    return Stores(
        settings=settings, db=db, box=load_secret_box(settings.data_dir, settings.secret_key)
    )
