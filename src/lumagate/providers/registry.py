"""Provider registry: one provider instance per upstream kind."""

from __future__ import annotations

from lumagate.providers.base import Provider


class UnknownProviderKind(KeyError):
    pass


class ProviderRegistry:
    def __init__(self) -> None:
        self._providers: dict[str, Provider] = {}

    def register(self, provider: Provider) -> None:
        self._providers[provider.kind] = provider

    def get(self, kind: str) -> Provider:
        try:
            return self._providers[kind]
        except KeyError:
            raise UnknownProviderKind(f"no provider for account kind {kind!r}") from None

    def kinds(self) -> list[str]:
        return sorted(self._providers)

    async def close(self) -> None:
        for provider in self._providers.values():
            await provider.close()
