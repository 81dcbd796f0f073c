"""The storage part of the composition root: one database, the secret box and every store.

Built once per process; everything above receives the stores it needs from here, so no store
(``PoolStore`` included) is constructed ad hoc elsewhere. Imports only the store layer, which
keeps CLI commands that need no more than this quick to start.
"""

from __future__ import annotations

from dataclasses import dataclass

from lumagate.media.file_modes import secure_data_dir
from lumagate.security.crypto import SecretBox, load_secret_box
from lumagate.settings import Settings
from lumagate.store.accounts import AccountStore
from lumagate.store.database import Database
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
    tasks: TaskStore
    keys: KeyStore
    accounts: AccountStore
    ledger: LedgerStore
    deliveries: DeliveryStore
    pool: PoolStore
    transactions: Transactions
    insights: InsightStore
    render_jobs: RenderJobStore
    media_retention: MediaRetentionStore
    mirrors: MirrorStore

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
    box = load_secret_box(settings.data_dir, settings.secret_key)
    return Stores(
        settings=settings,
        db=db,
        box=box,
        tasks=TaskStore(db),
        keys=KeyStore(db),
        accounts=AccountStore(db, box),
        ledger=LedgerStore(db),
        deliveries=DeliveryStore(db),
        pool=PoolStore(db),
        transactions=Transactions(db),
        insights=InsightStore(db),
        render_jobs=RenderJobStore(db),
        media_retention=MediaRetentionStore(db),
        mirrors=MirrorStore(db),
    )
