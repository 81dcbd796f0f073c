"""Who is calling: API key lookup and channel permission."""

from __future__ import annotations

from lumagate.domain import messages as msg
from lumagate.domain.channels import Channel
from lumagate.domain.clock import utcnow
from lumagate.domain.errors import AuthenticationRequired, Forbidden
from lumagate.domain.task import Task
from lumagate.domain.tenant import ApiKey
from lumagate.store.keys import KeyStore


class Authenticator:
    def __init__(self, keys: KeyStore) -> None:
        self.keys = keys

    async def tenant(self, presented: str | None) -> ApiKey:
        if not presented:
            raise AuthenticationRequired(msg.MISSING_KEY())
        key = await self.keys.authenticate(presented, utcnow())
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
