"""Who is calling: API key lookup and channel permission.

Every key is read by the GET's one statement (key and task, ``store/keys.py``) on the raw driver
(``store/hot_read.py``): a request that names no task asks for the task id ``NO_TASK``, which no
task has, so the statement reads the key alone. The key is read on every request (a revoked
key is refused at once, on every replica); what ``hot_read`` keeps is the objects built from an
unchanged row, never a key's validity.
"""

from __future__ import annotations

from lumagate.domain import messages as msg
from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.errors import AuthenticationRequired, Forbidden
from lumagate.domain.task import Task
from lumagate.domain.tenant import ApiKey
from lumagate.store.keys import KeyStore

NO_TASK = ""  # a task id no task has (task ids are UUIDs): the key's row alone


class Authenticator:
    """The usable key behind a presented one, or the 401 that says why not."""

    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys

    async def tenant(self, presented: str | None) -> ApiKey:
        if not presented:
            raise AuthenticationRequired(msg.MISSING_KEY())
        key, _none = await self.keys.authenticate_with_task(presented, NO_TASK, utcnow())
        if key is None:
            raise AuthenticationRequired(msg.BAD_KEY())
        return key

    async def tenant_and_task(
        self, presented: str | None, task_id: str | None
    ) -> tuple[ApiKey, Task | None]:
        """The caller and its task ``task_id`` read together (one statement); the task is None
        when it does not exist, is another tenant's or is hidden. ``task_id`` None: the key
        alone (an id that cannot be one)."""
        if not presented:
            raise AuthenticationRequired(msg.MISSING_KEY())
        if task_id is None:
            return await self.tenant(presented), None
        key, task = await self.keys.authenticate_with_task(presented, task_id, utcnow())
        if key is None:
            raise AuthenticationRequired(msg.BAD_KEY())
        return key, task

    @staticmethod
    def require_channel(key: ApiKey, channel: Channel) -> None:
        if channel not in key.channels:
            raise Forbidden(
                msg.CHANNEL_NOT_ALLOWED(channel=channel.value), code="channel_not_allowed"
            )
