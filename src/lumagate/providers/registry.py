"""Provider registry: one provider instance per upstream kind."""

from __future__ import annotations

from collections.abc import Callable

from lumagate.providers.base import Provider

CallWrapper = Callable[[Provider], Provider]


class UnknownProviderKind(KeyError):
    pass


class ProviderRegistry:
    """Providers by kind. :meth:`get` gives the provider itself (for capability checks);
    :meth:`calling` gives what the engine calls through (wrapped for metrics when set)."""

    def __init__(self) -> None:
        self._providers: dict[str, Provider] = {}
        self._calling: dict[str, Provider] = {}
        self._wrap: CallWrapper | None = None

    def wrap_calls(self, wrap: CallWrapper) -> None:
        """Route the engine's calls through ``wrap(provider)`` (e.g. to time them)."""
        self._wrap = wrap
        self._calling.clear()

    def calling(self, kind: str) -> Provider:
        provider = self.get(kind)
        if self._wrap is None:
            return provider
        if kind not in self._calling:
            self._calling[kind] = self._wrap(provider)
        return self._calling[kind]

    def register(self, provider: Provider) -> None:
        self._providers[provider.kind] = provider
        self._calling.pop(provider.kind, None)

    def get(self, kind: str) -> Provider:
        try:
            return self._providers[kind]
        except KeyError:
            raise UnknownProviderKind(f"no provider for account kind {kind!r}") from None

    def knows(self, kind: str) -> bool:
        """Whether ``kind`` has a provider here (an account table shared across versions may
        hold kinds a replica does not)."""
        return kind in self._providers

    def kinds(self) -> list[str]:
        return sorted(self._providers)

    async def close(self) -> None:
        for provider in self._providers.values():
            await provider.close()
