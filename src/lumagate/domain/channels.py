"""Channels: the ``/vip`` and ``/pro`` path prefixes pick queue priority and account class."""

from __future__ import annotations

from enum import StrEnum

from lumagate.domain import messages as msg
from lumagate.domain.messages import MessageError


class Channel(StrEnum):
    DEFAULT = "default"
    VIP = "vip"
    PRO = "pro"

    @property
    def priority(self) -> int:
        """Higher is dispatched first: pro > vip > default."""
        return {Channel.DEFAULT: 0, Channel.VIP: 10, Channel.PRO: 20}[self]


ALL_CHANNELS: tuple[Channel, ...] = (Channel.DEFAULT, Channel.VIP, Channel.PRO)


def parse_channels(text: str) -> tuple[Channel, ...]:
    """Parse ``"default,vip,pro"``; raises ValueError naming the first unknown channel."""
    channels: list[Channel] = []
    for part in text.split(","):
        name = part.strip().lower()
        if not name:
            continue
        try:
            channel = Channel(name)
        except ValueError:
            raise MessageError(msg.UNKNOWN_CHANNEL(name=repr(name))) from None
        if channel not in channels:
            channels.append(channel)
    if not channels:
        raise MessageError(msg.NO_CHANNEL())
    return tuple(channels)
